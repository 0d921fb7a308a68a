"""Live controls: keys in (through a faked HighGUI), settings out, and the next frame uses them."""

import cv2
import numpy as np
import pytest

from stream import controls, stages
from stream.blend_options import BlendOptions
from stream.controls import HELP, LiveControls, LiveSettings, press
from stream.packet import Face, FramePacket
from stream.sinks import PreviewSink
from tests.stream.test_blend import fake_face
from tests.stream.test_sinks import fake_highgui, numbered_frame  # noqa: F401 - a fixture

DEFAULT = LiveSettings()


@pytest.mark.parametrize(
    ("key", "changed"),
    [
        ("s", LiveSettings(swap=False)),
        ("o", LiveSettings(overlay=True)),
        ("c", LiveSettings(blend=BlendOptions(colour="none"))),
        ("i", LiveSettings(blend=BlendOptions(interpolation="bilinear"))),
        ("e", LiveSettings(blend=BlendOptions(erode=0.02))),
        ("E", LiveSettings(blend=BlendOptions(erode=0.04))),
        ("f", LiveSettings(blend=BlendOptions(feather=0.07))),
        ("F", LiveSettings(blend=BlendOptions(feather=0.09))),
        ("+", LiveSettings(blend=BlendOptions(scale=1.02))),
        ("=", LiveSettings(blend=BlendOptions(scale=1.02))),
        ("-", LiveSettings(blend=BlendOptions(scale=0.98))),
    ],
)
def test_each_key_changes_one_setting_and_says_so(key, changed):
    settings, lines = press(DEFAULT, key)
    assert settings == changed and lines == controls.describe(changed)


def test_keys_stop_at_the_ends_of_each_range_and_cycles_come_back():
    settings = DEFAULT
    for _ in range(40):
        settings, _ = press(settings, "e")
        settings, _ = press(settings, "+")
    assert settings.blend.erode == 0.0 and settings.blend.scale == 1.25
    assert press(press(DEFAULT, "c")[0], "c")[0] == DEFAULT


def test_h_lists_the_keys_and_other_keys_change_nothing():
    assert press(DEFAULT, "h") == (DEFAULT, HELP)
    assert press(DEFAULT, "x") == (DEFAULT, ())


def test_no_key_removes_the_disclosure_label():
    live = LiveControls(DEFAULT)
    for code in range(256):
        live.key(code)
    frame = np.full((120, 160, 3), 200, np.uint8)
    labelled = stages.blend_stage(lambda: live.settings().blend, True, lambda: [])
    out = labelled(FramePacket(0, 0, frame.copy())).frame
    assert (out[-30:, :60] != 200).any() and (out[:30, -40:] == 200).all()  # bottom-left only


def test_a_change_is_shown_on_the_frame_for_two_seconds():
    now = [100.0]
    live = LiveControls(DEFAULT, clock=lambda: now[0])
    live.key(ord("c"))
    assert live.message() == controls.describe(press(DEFAULT, "c")[0])
    now[0] += 1.9
    assert live.message()
    now[0] += 0.2
    assert live.message() == ()
    live.key(ord("h"))
    now[0] += 5.0
    assert live.message() == HELP  # the key list stays longer


def test_keys_in_the_preview_reach_the_next_frames_swap_and_blend(fake_highgui, monkeypatch):  # noqa: F811
    live = LiveControls(DEFAULT)
    with PreviewSink("swapcam", on_key=live.key) as sink:
        sink.send(numbered_frame(0))
        fake_highgui["keys"] += [ord("s"), ord("c"), ord("E"), ord("+")]
        for _ in range(4):
            sink.pump()
    assert live.settings() == LiveSettings(
        swap=False, blend=BlendOptions(colour="none", erode=0.04, scale=1.02)
    )

    used = []
    monkeypatch.setattr(stages, "paste_face", lambda *args: used.append(args[-1]))
    face = fake_face(96, seed=3)
    packet = FramePacket(0, 0, face["frame"], (Face(np.zeros((468, 2)), face["matrix"], face["crop"]),))
    backend = type("Backend", (), {"swap": lambda self, crops: (crops / 255.0, np.ones(crops.shape[:3]))})()
    swap = stages.swap_stage(backend, enabled=lambda: live.settings().swap)
    blend = stages.blend_stage(lambda: live.settings().blend, False, live.message)
    blend(swap(packet))
    assert used == []  # swap off: nothing swapped, nothing pasted
    live.key(ord("s"))
    blend(swap(packet))
    assert used == [BlendOptions(colour="none", erode=0.04, scale=1.02)]


def test_the_key_codes_highgui_returns_for_nothing_are_ignored():
    live = LiveControls(DEFAULT)
    live.key(-1)
    live.key(cv2.EVENT_FLAG_ALTKEY << 20)
    assert live.settings() == DEFAULT and live.message() == ()


@pytest.mark.parametrize("shape", [(360, 640, 3), (720, 1280, 3), (480, 640, 3)])
def test_the_key_list_and_the_settings_fit_a_frame(shape):
    from stream.label import text_box, text_style

    style = text_style(shape[0])
    for lines in (
        HELP,
        controls.describe(LiveSettings(swap=False, blend=BlendOptions(interpolation="bilinear"))),
    ):
        x0, _, x1, _ = text_box(shape, lines, "top-left")
        unclipped = max(cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, style.scale, style.thickness)[0][0]
                        for line in lines) + 2 * style.pad + x0  # fmt: skip
        assert unclipped <= x1 < shape[1], lines
