"""How the alignment template's numbers were obtained, kept runnable so a test can re-derive them.

FaceMesh's 2-D output is not the front view of MediaPipe's canonical 3-D mesh: on real faces the jaw
contour comes out narrower and the eyes, nostrils and mouth wider. A template must match what the landmark
model really outputs, so the template is the mean FaceMesh shape of real frames: generalized Procrustes
analysis over frames, made left-right symmetric, then placed in the canonical mesh's front-view frame
(centimetres, nose bridge on x = 0) by one similarity transform.
"""

import numpy as np

from stream.align import transform_points, umeyama
from stream.types import Points

# Front view (x, -y) of MediaPipe's canonical face mesh, in cm: fixes the template's frame and units.
CANONICAL_FRONT_CM = {
    33: (-4.446, -2.664),
    133: (-1.856, -2.585),
    362: (1.856, -2.585),
    263: (4.446, -2.664),
    168: (0.000, -3.271),
    6: (0.000, -2.473),
    197: (0.000, -1.728),
    195: (0.000, -1.059),
    5: (0.000, -0.366),
    4: (0.000, 0.463),
    1: (0.000, 1.127),
    98: (-1.406, 1.714),
    327: (1.406, 1.714),
    61: (-2.456, 4.343),
    291: (2.456, 4.343),
    234: (-7.664, -0.673),
    93: (-7.542, 1.049),
    132: (-7.271, 2.891),
    58: (-6.720, 4.789),
    454: (7.664, -0.673),
    323: (7.542, 1.049),
    361: (7.271, 2.891),
    288: (6.720, 4.789),
}
# Image-left ↔ image-right partners among those points; the rest lie on the midline.
MIRROR_PAIRS = ((33, 263), (133, 362), (98, 327), (61, 291), (234, 454), (93, 323), (132, 361), (58, 288))


def symmetrize(shape: Points, indices: tuple[int, ...]) -> Points:
    """Average a shape with its mirror image (x → -x, left and right partners swapped)."""
    position = {index: row for row, index in enumerate(indices)}
    partner = list(range(len(indices)))
    for left, right in MIRROR_PAIRS:
        partner[position[left]], partner[position[right]] = position[right], position[left]
    mirrored = shape[partner] * [-1.0, 1.0]
    return (shape + mirrored) / 2.0


def fit_template(shapes: np.ndarray, iterations: int = 5) -> Points:
    """Mean symmetric shape of (F, K, 2) landmark sets, in the canonical front-view frame.

    ``shapes`` hold the points of ``CANONICAL_FRONT_CM``'s keys, in that order, in any pixel frame.
    """
    indices = tuple(CANONICAL_FRONT_CM)
    canonical = np.array(list(CANONICAL_FRONT_CM.values()))
    reference = canonical
    for _ in range(iterations):
        aligned = [transform_points(shape, umeyama(shape, reference)) for shape in shapes]
        mean = symmetrize(np.mean(aligned, axis=0), indices)
        reference = transform_points(mean, umeyama(mean, canonical))
    return reference


def mean_in_template(shapes: np.ndarray, extras: np.ndarray, template: Points) -> Points:
    """Mean position, in template space, of extra (F, M, 2) points that travel with each shape."""
    return np.mean(
        [transform_points(e, umeyama(s, template)) for s, e in zip(shapes, extras, strict=True)], axis=0
    )
