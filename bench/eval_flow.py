"""The steps of `swapcam eval`: references, the swap (when a model is given), frame figures, reports."""

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bench.eval_report import (
    contact_indices,
    contact_sheet,
    face_tile,
    write_contact,
    write_json,
    write_markdown,
)
from bench.evaluate import (
    FrameFigures,
    Pair,
    References,
    Summary,
    detail_ratio,
    evaluate,
    face_descriptors,
    file_pairs,
    folder_pairs,
    shape_gap,
    summarise,
    yardstick,
)
from stream.blend_options import BlendOptions
from stream.media import video_frame_count
from stream.recognise import FaceRecogniser, centroid, distances

REFERENCE_EVERY = 4  # a reference is a mean descriptor: every 4th frame of a clip is plenty


@dataclass(frozen=True)
class EvalInputs:
    source: Path
    model: Path | None
    swapped: Path | None
    reference_a: list[Path] | None
    reference_b: list[Path]
    photo_b: Path | None
    strangers: list[Path]
    blend: BlendOptions = field(default_factory=BlendOptions)  # how a --model's faces are pasted back
    cache: Path | None = None  # where the reference files' faces are kept (bench.face_cache); None: nowhere


def build_references(
    inputs: EvalInputs, recogniser: FaceRecogniser, say: Callable[[str], None]
) -> References:
    say("describing the reference faces (A, B, strangers)")
    cache = inputs.cache
    seen_a = face_descriptors(inputs.reference_a or [inputs.source], recogniser, REFERENCE_EVERY, cache)
    seen_b = face_descriptors(inputs.reference_b, recogniser, 1, cache)
    faces_a, faces_b = seen_a.descriptors, seen_b.descriptors
    strangers = (
        face_descriptors(inputs.strangers, recogniser, cache=cache).descriptors
        if inputs.strangers
        else np.zeros((0, 128))
    )
    if not len(faces_a) or not len(faces_b):
        raise_no_faces("A" if not len(faces_a) else "B")
    a, b = centroid(faces_a), centroid(faces_b)
    yardsticks = {"unswapped input (A)": yardstick(faces_a, a, b), "B's own faces": yardstick(faces_b, a, b)}
    if inputs.photo_b is not None:
        photo = face_descriptors([inputs.photo_b], recogniser, cache=cache).descriptors
        if len(photo):
            yardsticks["another photo of B"] = yardstick(photo[:1], a, b)
    if len(strangers):
        nearest = int(np.argmin(distances(strangers, b)))
        yardsticks["strangers (median)"] = yardstick(strangers, a, b)
        yardsticks["nearest stranger to B"] = yardstick(strangers[nearest : nearest + 1], a, b)
    gap = shape_gap(seen_a.landmarks, seen_b.landmarks)
    return References(a=a, b=b, strangers=strangers, yardsticks=yardsticks, shape_gap=gap)


def raise_no_faces(which: str) -> None:
    from stream.errors import SwapcamError

    raise SwapcamError(f"no face was found in the reference of {which}: give clips or photos with a face")


def swap_to_folder(
    model: Path,
    source: Path,
    folder: Path,
    say: Callable[[str], None],
    *,
    blend: BlendOptions | None = None,
    every: int = 1,
) -> None:
    """Every frame of ``source`` swapped by ``model`` through the live pipeline (its smoothing sees every
    frame, as live), every ``every``-th written as a PNG in ``folder``, pasted back with ``blend`` (default:
    the live pipeline's defaults)."""
    from stream.capture import VideoFileSource
    from stream.live import LiveOptions, run_live
    from stream.sinks import FrameFolderSink

    with VideoFileSource(source) as video, FrameFolderSink(folder, every) as sink:
        say(f"swapping {source.name} with {model.name}")
        run_live(video, [sink], LiveOptions(model=model, blend=blend or BlendOptions()), say)


def _demo(say: Callable[[str], None]) -> Path:
    from stream.backends import demo_model

    return demo_model(say)


def _detail_ceiling(  # noqa: PLR0917 - the run's inputs, in the order evaluate_swap has them
    model: Path, source: Path, temp: Path, every: int, blend: BlendOptions, say: Callable[[str], None]
) -> float:
    """The detail ratio of a perfect model at ``model``'s crop and paste-back: ``source`` through a
    passthrough model, pasted back with ``blend``."""
    from bench.ceiling import model_info, passthrough_model

    say("measuring the sharpest output this model's crop allows (the input through the same crop)")
    folder = temp / "passthrough"
    folder.mkdir()
    passthrough = passthrough_model(model_info(model), temp / "passthrough.onnx")
    swap_to_folder(passthrough, source, folder, lambda message: None, blend=blend, every=every)
    return detail_ratio(folder_pairs(source, folder, every))


def _progress(pairs: Iterator[Pair], total: int) -> Iterator[Pair]:
    yield from tqdm(pairs, total=total or None, unit="frame", desc="judging", dynamic_ncols=True)


def evaluate_swap(inputs: EvalInputs, out: Path, *, every: int, say: Callable[[str], None]) -> Summary:
    out.mkdir(parents=True, exist_ok=True)
    with FaceRecogniser() as recogniser, tempfile.TemporaryDirectory(dir=out, prefix=".frames-") as temp:
        references = build_references(inputs, recogniser, say)

        def pairs(on_short: Callable[[str], None] | None = None) -> Iterator[Pair]:
            if inputs.swapped is not None:
                return file_pairs(inputs.source, inputs.swapped, every, on_short)
            return folder_pairs(inputs.source, Path(temp), every, on_short)

        ceiling = float("nan")
        if inputs.swapped is None:
            model = inputs.model or _demo(say)
            swap_to_folder(model, inputs.source, Path(temp), say, blend=inputs.blend, every=every)
            ceiling = _detail_ceiling(model, inputs.source, Path(temp), every, inputs.blend, say)
        total = -(-video_frame_count(inputs.source) // every)
        frames = evaluate(
            _progress(pairs(lambda note: say(f"warning: {note}")), total), references, recogniser
        )
        summary = summarise(frames, references, ceiling)
        tiles = _tiles(pairs(), frames)
    about = {
        "source": str(inputs.source),
        "output": str(inputs.swapped) if inputs.swapped else f"swapped by {inputs.model or 'the demo model'}",
        "frames judged": f"{len(frames)} (every {every})",
        "recogniser": "dlib face_recognition_model_v1 (ResNet, 128-d) with its 5-point shape predictor",
    }
    if inputs.swapped is None:
        blend = inputs.blend
        about["paste-back"] = (
            f"{blend.interpolation}, colour transfer {blend.colour}, "
            f"erode {blend.erode}, feather {blend.feather}"
        )
    write_json(out / "report.json", summary, frames, about)
    write_markdown(out / "report.md", summary, about)
    if tiles:
        write_contact(out / "contact.png", contact_sheet(tiles))
    return summary


def _tiles(pairs: Iterator[Pair], frames: list[FrameFigures]) -> list[tuple[np.ndarray, np.ndarray, str]]:
    chosen = {frames[i].index: frames[i] for i in contact_indices(frames)}
    tiles = []
    for index, frame, output in pairs:
        figure = chosen.get(index)
        if figure is not None and figure.box is not None:
            caption = f"#{index} B {figure.distance_b:.2f} A {figure.distance_a:.2f}"
            tiles.append((face_tile(frame, figure.box), face_tile(output, figure.box), caption))
    return tiles
