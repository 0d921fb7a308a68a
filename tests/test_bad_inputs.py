"""A corpus of bad command lines, one per class of mistake, over every command: each must exit non-zero
with one line on stderr and no traceback, leave its inputs as they were and leave no output behind."""

import hashlib
import shutil
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from stream.cli import main
from stream.contract import metadata_for, parse_metadata

# {in} a copy of the woman's clip, {link} a link to it, {run} a copy of a small run folder, {ckpt} its
# checkpoint, {a} and {b} extract folders, {file} a text file, {dir} an empty folder, {onnx} an exported model
CASES = [
    # an output that is an input
    ("live", "--source {in} --output {in}", "would overwrite --source"),
    ("live", "--source {link} --output {in}", "would overwrite --source"),
    ("live", "--source {in} --model {onnx} --report {onnx}", "would overwrite --model"),
    ("extract", "{in} --out {in}", "expects a folder"),
    ("extract", "{dir} --out {dir}/faces", "lies inside SRC"),
    ("train", "--a {a} --b {b} --out {a}", "would overwrite --a"),
    ("export", "onnx {ckpt} --out {ckpt}", "would overwrite RUN"),
    ("export", "onnx {run} --out {ckpt}", "would overwrite RUN"),
    ("export", "dfm {ckpt} --out {ckpt}", "would overwrite RUN"),
    ("bench", "--model {onnx} --out {onnx}", "expects a folder"),
    ("eval", "--source {in} --swapped {in} --out {in}", "expects a folder"),
    # a model with the contract's names but not its shapes or types
    ("live", "--source {in} --model {nhwc}", "does not have the swapcam I/O"),
    ("live", "--source {in} --model {uint8}", "does not have the swapcam I/O"),
    ("bench", "--model {uint8} --out {dir}/bench --quick", "does not have the swapcam I/O"),
    ("export", "verify {nhwc}", "does not have the swapcam I/O"),
    ("export", "verify {uint8}", "does not have the swapcam I/O"),
    # checkpoints that load but lack what a model needs, or hold weights of other shapes
    ("export", "onnx {nocfg} --out {dir}/m.onnx", "lacks model_config"),
    ("live", "--source {in} --model {noalign}", "lacks alignment"),
    ("export", "dfm {shapes} --out {dir}/m.dfm", "weights that do not fit"),
    ("bench", "--model {onnx} --backends tensorrt --out {dir}/bench --quick", "no backend of --backends"),
    # an output that cannot be created
    ("live", "--source {in} --report {file}/r.json", "is a file, not a folder"),
    ("export", "onnx {ckpt} --out {file}/m.onnx", "is a file, not a folder"),
    ("bench", "--model {onnx} --out {file}/report", "is a file, not a folder"),
    ("train", "--a {a} --b {b} --out {file}/run", "is a file, not a folder"),
    # an input that is not there
    ("live", "--source {in} --model {dir}/nope.onnx", "no such file or folder"),
    ("export", "verify {dir}/nope.onnx", "no such file or folder"),
    ("extract", "{dir}/nope.mp4 --out {dir}/faces", "no such file or folder"),
    ("train", "--a {dir}/nope --b {b} --out {dir}/run", "no such file or folder"),
    # numbers out of range
    ("train", "--a {a} --b {b} --out {dir}/run --lr nan", "--lr must be"),
    ("train", "--a {a} --b {b} --out {dir}/run --seed -1", "--seed must be"),
    ("train", "--a {a} --b {b} --out {dir}/run --minutes nan", "--minutes must be"),
    ("train", "--a {a} --b {b} --out {dir}/run --resolution 0", "--resolution must be"),
    ("train", "--a {a} --b {b} --out {dir}/run --batch 100000", "--batch must be"),
    ("export", "onnx {ckpt} --out {dir}/m.onnx --opset 100", "--opset must be"),
    ("export", "onnx {ckpt} --out {dir}/m.onnx --opset -1", "--opset must be"),
    ("export", "onnx {ckpt} --out {dir}/m.onnx --opset 5", "--opset must be"),
    ("live", "--source {in} --erode 0.5", "--erode must be 0..0.25 of the crop side, got 0.5"),
    ("live", "--source {in} --face-scale 2", "--face-scale must be 0.8..1.25, got 2.0"),
    ("eval", "--source {in} --swapped {in} --out {dir}/eval --feather nan", "--feather must be 0..0.25"),
]


def contract_named_model(path: Path, like: Path, *, nhwc: bool, input_type: int) -> Path:
    """A model with the contract's tensor names and metadata but an NHWC or a uint8 input."""
    info = parse_metadata({p.key: p.value for p in onnx.load(str(like)).metadata_props}, str(like))
    r = info.resolution
    shape: list[str | int] = ["N", r, r, 3] if nhwc else ["N", 3, r, r]
    face = helper.make_tensor_value_info("face", input_type, shape)
    outputs = [helper.make_tensor_value_info("swapped", TensorProto.FLOAT, ["N", 3, r, r]),
               helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["N", 1, r, r])]  # fmt: skip
    order = [0, 3, 1, 2] if nhwc else [0, 1, 2, 3]
    nodes = [helper.make_node("Cast", ["face"], ["as_float"], to=TensorProto.FLOAT),
             helper.make_node("Transpose", ["as_float"], ["swapped"], perm=order),
             helper.make_node("ReduceMax", ["swapped"], ["mask"], axes=[1], keepdims=1)]  # fmt: skip
    model = helper.make_model(helper.make_graph(nodes, "bad", [face], outputs),
                              opset_imports=[helper.make_opsetid("", 17)])  # fmt: skip
    helper.set_model_props(model, metadata_for(info))
    onnx.save(model, str(path))
    return path


def broken_checkpoints(root: Path, good: Path) -> None:
    """nocfg.pt without its model description, noalign.pt with alignment None, shapes.pt with one weight of
    another shape: each passes the format-version check."""
    import torch

    state = torch.load(good, weights_only=True)
    torch.save({k: v for k, v in state.items() if k != "model_config"}, root / "nocfg.pt")
    torch.save({**state, "alignment": None}, root / "noalign.pt")
    first = next(iter(state["model"]))
    torch.save({**state, "model": {**state["model"], first: torch.zeros(3)}}, root / "shapes.pt")


def snapshot(root: Path) -> dict[str, str]:
    """Every file and folder under ``root``: a content hash for files (links followed), "dir" for folders."""
    found = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        found[key] = "dir" if path.is_dir() else hashlib.sha1(path.read_bytes()).hexdigest()
    return found


@pytest.fixture(scope="module")
def corpus(sample_paths, extracted, small_run, exported, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    shutil.copyfile(sample_paths["woman"], root / "in.mp4")
    (root / "link.mp4").symlink_to(root / "in.mp4")
    shutil.copytree(small_run, root / "run")
    shutil.copyfile(exported["fp32"], root / "model.onnx")
    (root / "notes.txt").write_text("not a folder")
    (root / "empty").mkdir()
    broken_checkpoints(root, sorted((small_run / "checkpoints").glob("*.pt"))[-1])
    contract_named_model(root / "nhwc.onnx", exported["fp32"], nhwc=True, input_type=TensorProto.FLOAT)
    contract_named_model(root / "uint8.onnx", exported["fp32"], nhwc=False, input_type=TensorProto.UINT8)
    return root


@pytest.mark.parametrize(("command", "line", "message"), CASES, ids=[f"{c} {a}" for c, a, _ in CASES])
def test_a_bad_command_line_is_one_line_and_changes_nothing(
    command, line, message, corpus, extracted, capsys
):
    checkpoint = sorted((corpus / "run" / "checkpoints").glob("*.pt"))[-1]
    names = {"in": corpus / "in.mp4", "link": corpus / "link.mp4", "run": corpus / "run", "ckpt": checkpoint,
             "a": extracted["woman"], "b": extracted["man"], "file": corpus / "notes.txt",
             "dir": corpus / "empty", "onnx": corpus / "model.onnx", "nhwc": corpus / "nhwc.onnx",
             "uint8": corpus / "uint8.onnx", "nocfg": corpus / "nocfg.pt", "noalign": corpus / "noalign.pt",
             "shapes": corpus / "shapes.pt"}  # fmt: skip
    before = {"corpus": snapshot(corpus), "a": snapshot(extracted["woman"])}
    code = main([command, *line.format(**names).split()])
    err = capsys.readouterr().err
    errors = [row for row in err.splitlines() if row.startswith(f"swapcam {command}: error:")]
    assert code != 0 and len(errors) == 1 and "Traceback" not in err, err
    assert message in errors[0]
    assert {"corpus": snapshot(corpus), "a": snapshot(extracted["woman"])} == before


def test_doctor_says_auto_cannot_run_a_model_outside_the_contract(corpus, capsys):
    assert main(["doctor", "--model", str(corpus / "nhwc.onnx")]) == 1
    out = capsys.readouterr().out
    assert "auto cannot run" in out and "does not have the swapcam I/O" in out
