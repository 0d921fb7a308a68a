"""Array roles used across the project, each named once with its shape and dtype."""

from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray

BGRFrame: TypeAlias = NDArray[np.uint8]  # (H, W, 3) a camera or video frame, OpenCV channel order
BGRCrop: TypeAlias = NDArray[np.uint8]  # (S, S, 3) an aligned face crop
Mask: TypeAlias = NDArray[np.uint8]  # (S, S) 0 or 255
Landmarks: TypeAlias = NDArray[np.float32]  # (N, 2) x, y in pixels of the image they belong to
Points: TypeAlias = NDArray[np.float64]  # (K, 2) x, y
Affine: TypeAlias = NDArray[np.float64]  # (2, 3) maps [x, y, 1] to [x', y']
Box: TypeAlias = NDArray[np.float32]  # (4,) x0, y0, x1, y1 in pixels
