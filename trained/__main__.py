"""``python -m trained ARGS``: `swapcam train ARGS`, the entry point torchrun starts in every process.

    torchrun --nnodes 2 --nproc-per-node 4 --rdzv-backend c10d --rdzv-endpoint HOST:29500 \\
        -m trained --a faces/me --b faces/them --out runs/me2them --preset df256
"""

import sys

from stream.cli import main

sys.exit(main(["train", *sys.argv[1:]]))
