"""How a convolution layer computes its three products: the public choice, made here only.

Every algorithm computes :func:`~minigan.nn.conv.reference.conv2d`,
:func:`~minigan.nn.conv.reference.conv2d_transpose` and
:func:`~minigan.nn.conv.reference.conv2d_kernel_grad` for one layer's :class:`Geometry`, the way
cuDNN lets you pick an algorithm; a layer takes one by name (``algorithm=``)::

    "reference"    minigan.nn.conv.reference itself: whole batch, one copy and one product each
    "im2col"       the same products a chunk of images at a time, in reused scratch (chunked.py)
    "kernel_rows"  im2col, with strides 1's conv2d_transpose by rows of the flipped kernel
    "fourier"      the convolution theorem as real matrix products (fourier.py)
    "whole_image"  a kernel as large as its unpadded input: one matrix product each (whole_image.py)
    "subpixel"     im2col, with conv2d_transpose as one strides-1 product and a pixel shuffle (subpixel.py)
    "winograd"     a kernel of twice the strides by Winograd's minimal filtering F(m x m, 2 x 2) (winograd.py)
    "planes"       im2col, with conv2d_transpose's product transposed and col2im over image planes (planes.py)
    "auto"         whole_image where it applies, else Winograd where the channels make it pay
                   (winograd.worthwhile), else Fourier where it saves work
                   (fourier.worthwhile counts it), else kernel rows for strides 1 (no col2im),
                   else planes for images of few channels (planes.worthwhile), else subpixel where
                   col2im would cost more (subpixel.worthwhile), else im2col; on CuPy always
                   im2col (the CPU paths' many small copies are kernel launches on a GPU)

The tests check each against "reference" over hypothesis-drawn shapes.
"""

from __future__ import annotations

from typing import Any

from minigan import backend
from minigan.nn.conv.fast import fourier, planes, subpixel, whole_image, winograd
from minigan.nn.conv.fast.chunked import Im2colChunks
from minigan.nn.conv.fast.kernel_rows import KernelRows
from minigan.nn.conv.geometry import Geometry
from minigan.nn.conv.reference import Reference

ALGORITHMS = {"reference": Reference, "im2col": Im2colChunks, "kernel_rows": KernelRows, "fourier": fourier.Fourier,
              "whole_image": whole_image.WholeImage, "subpixel": subpixel.Subpixel,
              "winograd": winograd.Winograd, "planes": planes.Planes}
NAMES = ("auto", *ALGORITHMS)


def check_name(name: str, layer: str) -> str:
    """``name`` if it is one of :data:`NAMES`, else a ValueError naming ``layer``."""
    if name not in NAMES:
        raise ValueError(f"{layer}: expected algorithm one of {', '.join(map(repr, NAMES))}, got {name!r}")
    return name


def auto(geometry: Geometry) -> str:
    """The algorithm ``"auto"`` stands for."""
    if backend.get_backend() == "cupy":
        return "im2col"
    if whole_image.fits(geometry):
        return "whole_image"
    if winograd.worthwhile(geometry):
        return "winograd"
    if fourier.worthwhile(geometry):
        return "fourier"
    if geometry.strides == (1, 1):
        return "kernel_rows"
    if planes.worthwhile(geometry):
        return "planes"
    return "subpixel" if subpixel.worthwhile(geometry) else "im2col"


def choose(name: str, geometry: Geometry, dtype: Any, layer: str) -> Any:
    """The algorithm ``name`` for ``geometry``, or a ValueError naming ``layer`` where it does not apply."""
    name = auto(geometry) if name == "auto" else name
    if name == "kernel_rows" and geometry.strides != (1, 1):
        raise ValueError(f"{layer}: algorithm 'kernel_rows' needs strides (1, 1), got {geometry.strides}")
    if name == "fourier" and not fourier.fits(geometry):
        raise ValueError(
            f"{layer}: algorithm 'fourier' needs the large side to be a multiple of the strides "
            f"{geometry.strides}, got {geometry.in_hw}"
        )
    if name == "whole_image" and not whole_image.fits(geometry):
        raise ValueError(
            f"{layer}: algorithm 'whole_image' needs a kernel as large as its unpadded input, got kernel "
            f"{geometry.kernel_hw} on {geometry.in_hw} with padding {geometry.pads}"
        )
    if name == "winograd" and not winograd.fits(geometry):
        raise ValueError(
            f"{layer}: algorithm 'winograd' needs a kernel of twice the strides (> 1), got kernel "
            f"{geometry.kernel_hw} with strides {geometry.strides}"
        )
    return ALGORITHMS[name](geometry, dtype)
