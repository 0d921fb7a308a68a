import pytest

from stream.files import atomic_output


def test_a_successful_write_replaces_the_file(tmp_path):
    target = tmp_path / "index.npz"
    target.write_text("old")
    with atomic_output(target) as part:
        part.write_text("new")
        assert target.read_text() == "old"
    assert target.read_text() == "new" and list(tmp_path.iterdir()) == [target]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_part(tmp_path):
    target = tmp_path / "index.npz"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_output(target) as part:
        part.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]
