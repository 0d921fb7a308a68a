import pytest

from bench.training import measure


@pytest.mark.parametrize("place", ["cpu", "device"])
def test_training_throughput_runs_real_steps(extracted, tmp_path, place):
    result = measure("lite", extracted, "cpu", augment_on=place, seconds=0.0, min_steps=2, run=tmp_path)
    assert result.steps == 2 and result.samples_per_second > 0 and result.step_ms_p50 > 0
    assert result.augment_on == place
    assert result.samples_per_second == pytest.approx(2 * 16 * 2 / result.seconds)
