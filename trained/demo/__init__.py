"""The shipped demo model: lite at 96 px, A = the woman of the sample clips, B = the man (MODEL_CARD.md)."""

from pathlib import Path

FOLDER = Path(__file__).resolve().parent
CHECKPOINT = FOLDER / "lite96-woman-man.pt"
PREVIEW = FOLDER / "preview.png"
CARD = FOLDER / "MODEL_CARD.md"
