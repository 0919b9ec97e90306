"""Datasets and mini-batches for minigan.

Loaders return NumPy arrays: images float32 NHWC in [-1, 1] (or [0, 1] / raw uint8 through
``scale=``) and labels int64. Where files are looked for and how they are verified: docs/data.md.
"""

from minigan.data.cifar import CIFAR10_CLASSES, load_cifar10
from minigan.data.folder import ImageFolder
from minigan.data.idx import load_idx, read_idx
from minigan.data.mnist import load_fashion_mnist, load_mnist
from minigan.data.storage import DataError
from minigan.data.svhn import load_svhn

__all__ = [
    "CIFAR10_CLASSES",
    "DataError",
    "ImageFolder",
    "load_cifar10",
    "load_fashion_mnist",
    "load_idx",
    "load_mnist",
    "load_svhn",
    "read_idx",
]
