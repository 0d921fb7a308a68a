"""Preview grids and held-out evaluation of a swap model."""

from pathlib import Path

import cv2
import numpy as np
import torch

from trained.data import FaceData
from trained.losses import ssim, window_for
from trained.model import SwapAutoencoder

COLUMNS = ("A", "A→A", "A→B", "B", "B→B", "B→A")


def to_tensor(faces: np.ndarray, device: torch.device) -> torch.Tensor:
    """(N, R, R, 3) uint8 RGB → (N, 3, R, R) float in [0, 1]."""
    return torch.from_numpy(faces).to(device).permute(0, 3, 1, 2).float() / 255.0


def to_images(batch: torch.Tensor) -> np.ndarray:
    """(N, 3, R, R) float in [0, 1] → (N, R, R, 3) uint8 RGB."""
    return (
        (batch.detach().float().clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy() * 255).round().astype(np.uint8)
    )


@torch.no_grad()
def swap_faces(model: SwapAutoencoder, faces: np.ndarray, decoder: str, batch: int = 32) -> np.ndarray:
    device = next(model.parameters()).device
    outputs = [
        to_images(model(to_tensor(faces[i : i + batch], device), decoder)[0])
        for i in range(0, len(faces), batch)
    ]
    return np.concatenate(outputs) if outputs else faces[:0]


def preview_grid(model: SwapAutoencoder, faces_a: np.ndarray, faces_b: np.ndarray) -> np.ndarray:
    """Rows of A, A→A, A→B, B, B→B, B→A as one RGB image (rows = min(len(A), len(B)))."""
    rows = min(len(faces_a), len(faces_b))
    a, b = faces_a[:rows], faces_b[:rows]
    was_training = model.training
    model.eval()
    columns = [
        a,
        swap_faces(model, a, "a"),
        swap_faces(model, a, "b"),
        b,
        swap_faces(model, b, "b"),
        swap_faces(model, b, "a"),
    ]
    model.train(was_training)
    return np.concatenate([np.concatenate(list(column), axis=0) for column in columns], axis=1)


def write_preview(path: Path, grid_rgb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = np.full((18, grid_rgb.shape[1], 3), 255, np.uint8)
    side = grid_rgb.shape[1] // len(COLUMNS)
    for index, title in enumerate(COLUMNS):
        label = title.replace("→", ">")  # OpenCV's Hershey fonts are ASCII only
        cv2.putText(
            header, label, (index * side + 4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA
        )
    cv2.imwrite(str(path), cv2.cvtColor(np.concatenate([header, grid_rgb]), cv2.COLOR_RGB2BGR))


@torch.no_grad()
def reconstruction_ssim(model: SwapAutoencoder, data: FaceData, decoder: str) -> float:
    """Mean SSIM of faces reconstructed through their own decoder, inside the face mask."""
    if len(data) == 0:
        return float("nan")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    scores = []
    for start in range(0, len(data), 32):
        target = to_tensor(data.faces[start : start + 32], device)
        mask = torch.from_numpy(data.masks[start : start + 32]).to(device)[:, None].float() / 255.0
        face = model(target, decoder)[0].float()
        scores.append(ssim(face * mask, target * mask, window_for(target.shape[-1])))
    model.train(was_training)
    return float(torch.cat(scores).mean())
