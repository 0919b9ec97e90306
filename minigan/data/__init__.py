"""Datasets and mini-batches for minigan.

Loaders return NumPy arrays: images float32 NHWC in [-1, 1] (or [0, 1] / raw uint8 through
``scale=``) and labels int64. Where files are looked for and how they are verified: docs/data.md.
"""

from minigan.data.idx import load_idx, read_idx
from minigan.data.mnist import load_fashion_mnist, load_mnist
from minigan.data.storage import DataError

__all__ = ["DataError", "load_fashion_mnist", "load_idx", "load_mnist", "read_idx"]
