"""The range of every number `swapcam train` takes: checked by ``trained.session.TrainOptions`` and shown
by ``--help`` (this module imports nothing heavy, so that ``--help`` stays fast)."""

from types import MappingProxyType

# inclusive ranges
RANGES = MappingProxyType({
    "--batch": (1, 512),
    "--steps": (1, 10**9),
    "--minutes": (0.01, 60 * 24 * 365),
    "--lr": (1e-8, 1.0),
    "--lr-decay": (0.0, 1.0),
    "--seed": (0, 2**32 - 1),
    "--preview-every": (1, 10**9),
    "--save-every": (1, 10**9),
    "--keep": (1, 10**6),
    "--holdout": (0.0, 0.99),
    "--resolution": (64, 256),
    "--code-moments": (0.0, 100.0),
    "--code-critic": (0.0, 100.0),
    "--face-critic": (0.0, 100.0),
})  # fmt: skip


def span(option: str) -> str:
    """``option``'s range as --help and errors print it: "1..512"."""
    return "..".join(_number(end) for end in RANGES[option])


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
