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


def _write_many(target: str, text: str) -> None:
    from pathlib import Path

    for _ in range(200):
        with atomic_output(Path(target)) as part:
            part.write_text(text * 1000)


def test_two_processes_writing_one_file_leave_one_whole_version(tmp_path):
    """As two `swapcam live` processes exporting the demo model into the cache on first use would."""
    import multiprocessing

    target = tmp_path / "model.onnx"
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_write_many, args=(str(target), text)) for text in ("a", "b")]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
    assert [writer.exitcode for writer in writers] == [0, 0]
    assert target.read_text() in ("a" * 1000, "b" * 1000) and list(tmp_path.iterdir()) == [target]
