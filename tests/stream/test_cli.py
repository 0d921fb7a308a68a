import argparse
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from stream.cli import COMMANDS, main

SWAPCAM = Path(sys.executable).parent / "swapcam"


def test_version_from_the_installed_console_command():
    result = subprocess.run([str(SWAPCAM), "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "swapcam 0.1.0"


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)


@pytest.mark.parametrize("argv", [[], ["teleport"]])
def test_missing_or_unknown_subcommand_is_a_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2 and "usage: swapcam" in capsys.readouterr().err


def test_subcommands_load_lazily():
    """Parsing any subcommand's options imports no heavy runtime: each loads only when its command runs."""
    probe = (
        "import sys\n"
        "from stream.cli import COMMANDS, main\n"
        "for name in COMMANDS:\n"
        "    try:\n"
        "        main([name, '--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = {'torch', 'mediapipe', 'onnxruntime', 'onnx', 'cv2', 'numpy'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_the_live_command_offers_what_the_runtime_accepts():
    from stream import backends
    from stream.align import ALIGNMENTS
    from stream.commands import extract, live

    assert set(backends.CHOICES) == {"auto", *backends.REGISTRY} and live.BACKEND_CHOICES == backends.CHOICES
    assert tuple(ALIGNMENTS) == extract.ALIGN_CHOICES


def test_samples_prints_the_paths_of_the_clips_and_photos(capsys, sample_paths):
    from stream.commands.samples import SAMPLE_NAMES
    from stream.samples import ensure_samples

    assert main(["samples"]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(ensure_samples()[name]) for name in SAMPLE_NAMES]
    assert printed[:2] == [str(sample_paths["woman"]), str(sample_paths["man"])]
    assert main(["samples", "--name", "man"]) == 0
    assert capsys.readouterr().out.strip() == str(sample_paths["man"])


# Options whose absence is their meaning (an input chosen among others, an output or check asked for)
OPT_IN = {
    ("live", "--camera"), ("live", "--source"), ("live", "--output"), ("doctor", "--model"),
    ("doctor", "--backend"), ("doctor", "--device"), ("eval", "--swapped"), ("export verify", "--run"),
}  # fmt: skip


def _options(parser: argparse.ArgumentParser, name: str):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, subparser in action.choices.items():
                yield from _options(subparser, f"{name} {sub}")
        elif not isinstance(action, argparse._HelpAction) and action.help != argparse.SUPPRESS:
            yield name, action  # hidden options (a benchmark's child process) are not the user's


def test_every_option_has_help_and_every_value_a_stated_default():
    for command, (module_name, _) in COMMANDS.items():
        parser = argparse.ArgumentParser()
        importlib.import_module(module_name).configure(parser)
        for name, action in _options(parser, command):
            flag = action.option_strings[0] if action.option_strings else action.dest
            assert action.help, f"swapcam {name} {flag} has no help text"
            takes_value = action.nargs != 0 and action.option_strings and not action.required
            if takes_value and (name, flag) not in OPT_IN:
                assert "default" in action.help, f"swapcam {name} {flag} does not say its default"


@pytest.mark.parametrize(
    ("argv", "verbose"),
    [
        (["bench", "threads", "--verbose", "--child", "sized"], True),
        (["bench", "--verbose", "threads", "--child", "sized"], True),
        (["bench", "threads", "--child", "sized"], False),
    ],
)
def test_verbose_is_taken_before_or_after_an_action(argv, verbose, monkeypatch):
    from bench import thread_plans

    seen = []
    monkeypatch.setattr(thread_plans, "run", lambda args: seen.append(args.verbose) or 0)
    assert main(argv) == 0 and seen == [verbose]
