"""The training recipe's choices: whose faces are recoloured, the code terms' limits, the LIAE wiring."""

import math

import pytest

from stream.errors import SwapcamError
from tests.trained.test_train import FAST, losses
from trained import batches
from trained import session as session_module
from trained.checkpoint import load_model
from trained.losses import LossWeights
from trained.session import TrainOptions, open_session, train_step
from trained.train import train


@pytest.mark.parametrize(("mode", "recoloured"), [("b", {"b"}), ("both", {"a", "b"}), ("none", set())])
def test_only_the_faces_swapped_into_are_recoloured_by_default(
    mode, recoloured, extracted, tmp_path, monkeypatch
):
    references = {}

    def record(rng, data, other, **kwargs):
        references[kwargs["names"][0]] = other
        return real(rng, data, other, **kwargs)

    real = batches.training_batch
    monkeypatch.setattr(session_module, "training_batch", record)
    options = TrainOptions(**FAST, steps=1, colour_transfer=mode)
    session, _ = open_session(extracted["woman"], extracted["man"], tmp_path, options, resume=False)
    with session:
        train_step(session, options)
    assert {key for key, other in references.items() if other is not None} == recoloured
    assert TrainOptions().colour_transfer == "b"


def test_code_terms_need_a_batch_to_compare_and_nonnegative_weights():
    with pytest.raises(ValueError, match="needs --batch 2"):
        TrainOptions(batch=1)
    with pytest.raises(ValueError, match=r"--code-critic must be 0\.\.100, got -1"):
        TrainOptions(weights=LossWeights(code_critic=-1.0))
    with pytest.raises(ValueError, match="--colour-transfer must be one of"):
        TrainOptions(colour_transfer="a")
    assert TrainOptions(batch=1, weights=LossWeights(code_moments=0.0)).batch == 1


def test_a_batch_of_one_trains_without_the_moment_term(extracted, tmp_path):
    options = TrainOptions(**{**FAST, "batch": 1}, steps=2, weights=LossWeights(code_moments=0.0))
    result = train(extracted["woman"], extracted["man"], tmp_path / "run", options, progress=False)
    assert result.step == 2 and all(math.isfinite(value) for value in losses(tmp_path / "run"))


def test_an_liae_run_trains_resumes_exactly_and_keeps_its_wiring(extracted, tmp_path):
    a, b = extracted["woman"], extracted["man"]
    liae = {**FAST, "architecture": "liae"}
    train(a, b, tmp_path / "straight", TrainOptions(**liae, steps=3), progress=False)
    train(a, b, tmp_path / "resumed", TrainOptions(**liae, steps=2), progress=False)
    train(a, b, tmp_path / "resumed", TrainOptions(**liae, steps=3), resume=True, progress=False)
    assert losses(tmp_path / "resumed") == pytest.approx(losses(tmp_path / "straight"), rel=1e-6)
    model, _ = load_model(tmp_path / "resumed")
    assert model.config.architecture == "liae"
    with pytest.raises(SwapcamError, match=r"trained as lite \(liae\)"):
        train(a, b, tmp_path / "resumed", TrainOptions(**FAST, architecture="df", steps=4), resume=True)
