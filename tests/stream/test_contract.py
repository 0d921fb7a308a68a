import pytest

from stream.align import ALIGN_TEMPLATE, DFLIVE
from stream.contract import ModelInfo, metadata_for, parse_metadata
from stream.errors import SwapcamError

INFO = ModelInfo(
    resolution=96,
    face_type="whole_face",
    coverage=1.0,
    template=ALIGN_TEMPLATE,
    identity_a="woman",
    identity_b="man",
    direction="a2b",
    training_steps=10,
    source="swapcam 0.1.0",
    precision="fp32",
)


def test_metadata_round_trips():
    assert parse_metadata(metadata_for(INFO), "m.onnx") == INFO
    assert INFO.align_spec.size == 96


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("template", "dfl-68", "cannot crop: .*got 'dfl-68'"),
        ("swapcam.format_version", "9", "format version 9, expected 1"),
        ("channels", "BGR", "expected channels RGB"),
        ("resolution", "32", "invalid metadata"),
        ("direction", "sideways", "invalid metadata"),
    ],
)
def test_metadata_that_would_run_a_model_on_the_wrong_crop_is_refused(key, value, message):
    with pytest.raises(SwapcamError, match=message):
        parse_metadata({**metadata_for(INFO), key: value}, "m.onnx")


def test_a_model_trained_on_deepfacelive_crops_is_cropped_that_way():
    metadata = {**metadata_for(INFO), "template": DFLIVE.template, "coverage": "2.2"}
    spec = parse_metadata(metadata, "m.onnx").align_spec
    assert (spec.template, spec.coverage, spec.size) == (DFLIVE.template, 2.2, 96)


def test_models_exported_before_the_template_rename_still_load():
    metadata = metadata_for(INFO)
    metadata["align_template"] = metadata.pop("template")
    assert parse_metadata(metadata, "m.onnx") == INFO


def test_missing_keys_are_named():
    metadata = metadata_for(INFO)
    del metadata["coverage"], metadata["identity_b"]
    with pytest.raises(SwapcamError, match="lacks coverage, identity_b"):
        parse_metadata(metadata, "m.onnx")
