"""Datasets and mini-batches for minigan.

Loaders return NumPy arrays: images float32 NHWC in [-1, 1] (or [0, 1] / raw uint8 through
``scale=``) and labels int64. :class:`Batches` shuffles them per epoch and hands each batch
to the active backend; :func:`resize_images` resizes them. Where files are looked for and how
they are verified: docs/data.md.
"""

from minigan.data.batches import Batches
from minigan.data.cifar import CIFAR10_CLASSES, load_cifar10
from minigan.data.folder import ImageFolder
from minigan.data.idx import load_idx, read_idx
from minigan.data.mnist import load_fashion_mnist, load_mnist
from minigan.data.resize import resize_images
from minigan.data.storage import DataError
from minigan.data.svhn import load_svhn

__all__ = [
    "CIFAR10_CLASSES",
    "Batches",
    "DataError",
    "ImageFolder",
    "load_cifar10",
    "load_fashion_mnist",
    "load_idx",
    "load_mnist",
    "load_svhn",
    "read_idx",
    "resize_images",
]
