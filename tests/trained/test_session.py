from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

from stream.threads import usable_cores
from tests.trained.test_train import FAST, losses
from trained import session as session_module
from trained import train as train_module
from trained.session import TrainOptions, augment_pool, open_session, train_step
from trained.train import train


def is_shut_down(pool: ThreadPoolExecutor) -> bool:
    try:
        pool.submit(int).result()
    except RuntimeError:
        return True
    return False


@pytest.fixture
def threads_on_cpu(monkeypatch: pytest.MonkeyPatch) -> list[ThreadPoolExecutor]:
    """CPU sessions augment on two threads, as GPU sessions do; the pools handed out, in order."""
    pools: list[ThreadPoolExecutor] = []

    def two_threads(device: torch.device) -> ThreadPoolExecutor:
        pools.append(ThreadPoolExecutor(max_workers=2))
        return pools[-1]

    monkeypatch.setattr(session_module, "augment_pool", two_threads)
    return pools


def test_only_gpu_sessions_augment_on_threads():
    assert augment_pool(torch.device("cpu")) is None
    pool = augment_pool(torch.device("cuda"))
    try:
        assert isinstance(pool, ThreadPoolExecutor)
        assert pool._max_workers == min(16, usable_cores())  # the cores this process may run on
    finally:
        pool.shutdown()


def test_closing_a_session_shuts_its_threads_down(extracted, tmp_path, threads_on_cpu):
    options = TrainOptions(**FAST, steps=1)
    session, _ = open_session(extracted["woman"], extracted["man"], tmp_path, options, resume=False)
    with session:
        assert np.isfinite(train_step(session, options)["loss"])
        assert not is_shut_down(threads_on_cpu[0])
    assert is_shut_down(threads_on_cpu[0])
    session.close()  # safe twice
    with pytest.raises(RuntimeError, match="Session is closed"):
        train_step(session, options)


def test_training_on_threads_repeats_training_on_one(extracted, tmp_path, monkeypatch, threads_on_cpu):
    a, b = extracted["woman"], extracted["man"]
    train(a, b, tmp_path / "threads", TrainOptions(**FAST, steps=3), progress=False)
    assert len(threads_on_cpu) == 1 and is_shut_down(threads_on_cpu[0])
    monkeypatch.setattr(session_module, "augment_pool", lambda device: None)
    train(a, b, tmp_path / "one", TrainOptions(**FAST, steps=3), progress=False)
    assert losses(tmp_path / "threads") == losses(tmp_path / "one")


def test_train_closes_the_session_when_a_step_fails(extracted, tmp_path, monkeypatch, threads_on_cpu):
    def failing_step(*_):
        raise ValueError("step failed")

    monkeypatch.setattr(train_module, "train_step", failing_step)
    with pytest.raises(ValueError, match="step failed"):
        train(extracted["woman"], extracted["man"], tmp_path, TrainOptions(**FAST, steps=2), progress=False)
    assert is_shut_down(threads_on_cpu[0])


def test_a_gpu_session_trains_on_threads_and_closes_them(extracted, tmp_path):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU; torch sees none")
    options = TrainOptions(**FAST, steps=1, device="cuda")
    session, _ = open_session(extracted["woman"], extracted["man"], tmp_path, options, resume=False)
    with session:
        assert isinstance(session.pool, ThreadPoolExecutor)
        assert np.isfinite(train_step(session, options)["loss"])
    assert is_shut_down(session.pool)
