"""im2col / col2im, the size arithmetic and the :class:`Geometry` shared by both convolutions.

A convolution of an NHWC batch with a (kh, kw, C, F) kernel is one matrix product once
every kh x kw x C input patch is laid out as a row ("im2col")::

    x (N, H, W, C) --pad--> (N, Hp, Wp, C) --im2col--> (N, Ho, Wo, kh, kw, C)
    rows (N*Ho*Wo, kh*kw*C) @ kernel (kh*kw*C, F) = y (N*Ho*Wo, F)

``im2col`` is a zero-copy strided view: patch (n, p, q) starts at input row p*sh and
column q*sw. ``col2im`` is its adjoint: it adds every patch back where it came from, as
kh*kw strided slice-additions (one per kernel offset), never a loop over pixels.

The reference convolutions (:mod:`minigan.nn.functional`) use these on the whole batch;
:mod:`minigan.nn.chunked` walks the batch in chunks (:func:`batch_chunks`, :func:`patch_rows`)
so that the patches stay in cache.

Padding follows TensorFlow: "valid" adds none; "same" gives ``ceil(n / s)`` outputs and
pads ``total = max((out - 1) * s + k - n, 0)`` with ``total // 2`` before and the rest
(the odd extra row or column) after.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from minigan.backend import get_array_module
from minigan.nn.workspace import Workspace

PADDINGS = ("valid", "same")

#: Target size of one chunk of patch rows: about the last-level cache (32 MiB on the benchmark machine),
#: yet few enough GEMM calls (each one a synchronisation of the BLAS threads) that a chunk is still a large
#: matrix product. 32 MiB measured 1-6% faster steps than 16 for the cDCGAN and Radford's DCGANs.
CHUNK_BYTES = 32 << 20


@dataclass(frozen=True)
class Geometry:
    """A Conv2D from (H, W, C) images (``in_hw``, ``channels``) to (Ho, Wo, F) ones (``out_hw``,
    ``filters``) with a (kh, kw, C, F) kernel, ``strides`` and the zeros ``pads`` =
    ((top, bottom), (left, right)) around its input. The Conv2DTranspose with the same kernel
    is its adjoint: from (Ho, Wo, F) back to (H, W, C)."""

    in_hw: tuple[int, int]
    out_hw: tuple[int, int]
    kernel_hw: tuple[int, int]
    strides: tuple[int, int]
    pads: tuple[tuple[int, int], tuple[int, int]]
    channels: int
    filters: int

    @property
    def crop(self) -> tuple[int, int]:
        """(top, left): where the unpadded input starts in the padded one."""
        return self.pads[0][0], self.pads[1][0]


def pair(value: int | tuple[int, int], what: str) -> tuple[int, int]:
    """``3 -> (3, 3)``; a pair is checked and returned as ints."""
    a, b = (value, value) if isinstance(value, int) else tuple(value)
    if a < 1 or b < 1:
        raise ValueError(f"expected positive {what}, got {value}")
    return int(a), int(b)


def conv_output_length(n: int, k: int, s: int, padding: str) -> int:
    """Output length of a convolution along one axis of length ``n``."""
    if padding == "same":
        return math.ceil(n / s)
    return (n - k) // s + 1


def conv_padding(n: int, k: int, s: int, padding: str) -> tuple[int, int]:
    """Zeros added (before, after) along an axis of length ``n``, TensorFlow's way."""
    if padding == "valid":
        return 0, 0
    total = max((conv_output_length(n, k, s, "same") - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def transpose_output_length(n: int, k: int, s: int, padding: str, output_padding: int | None) -> int:
    """Output length of a transposed convolution (Keras' ``deconv_output_length``)."""
    if output_padding is None:
        return n * s if padding == "same" else n * s + max(k - s, 0)
    if padding == "same":
        return (n - 1) * s + k - 2 * (k // 2) + output_padding
    return (n - 1) * s + k + output_padding


def pad_hw(x: Any, ph: tuple[int, int], pw: tuple[int, int], workspace: Workspace | None = None,
           name: str = "padded") -> Any:
    """Zero-pad the height and width axes of an NHWC batch (no copy when nothing to pad);
    into the array ``name`` of ``workspace`` if one is given, else a new array."""
    if ph == (0, 0) and pw == (0, 0):
        return x
    xp = get_array_module(x)
    n, h, w, c = x.shape
    shape = (n, h + ph[0] + ph[1], w + pw[0] + pw[1], c)
    out = xp.empty(shape, dtype=x.dtype) if workspace is None else workspace.get(name, shape, x.dtype, xp)
    rows = slice(ph[0], ph[0] + h)
    out[:, : ph[0]] = 0  # zero only the border (a quarter less memory traffic than zeros())
    out[:, ph[0] + h :] = 0
    out[:, rows, : pw[0]] = 0
    out[:, rows, pw[0] + w :] = 0
    out[:, rows, pw[0] : pw[0] + w] = x
    return out


def crop_hw(x: Any, ph: tuple[int, int], pw: tuple[int, int]) -> Any:
    """The inverse of :func:`pad_hw`: drop ``ph``/``pw`` rows and columns (contiguous result)."""
    if ph == (0, 0) and pw == (0, 0):
        return x
    xp = get_array_module(x)
    _, h, w, _ = x.shape
    return xp.ascontiguousarray(x[:, ph[0] : h - ph[1], pw[0] : w - pw[1], :])


def im2col(x: Any, kh: int, kw: int, sh: int, sw: int) -> Any:
    """All kh x kw patches of a padded NHWC batch as a view (N, Ho, Wo, kh, kw, C)."""
    xp = get_array_module(x)
    n, h, w, c = x.shape
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
    s0, s1, s2, s3 = x.strides
    return xp.lib.stride_tricks.as_strided(
        x, shape=(n, ho, wo, kh, kw, c), strides=(s0, s1 * sh, s2 * sw, s1, s2, s3)
    )


def col2im(cols: Any, hw: tuple[int, int], sh: int, sw: int) -> Any:
    """Adjoint of :func:`im2col`: sum patches (N, Ho, Wo, kh, kw, C) into a (N, H, W, C) batch."""
    xp = get_array_module(cols)
    out = xp.zeros((cols.shape[0], hw[0], hw[1], cols.shape[-1]), dtype=cols.dtype)
    col2im_add(cols, out, sh, sw)
    return out


def col2im_add(cols: Any, out: Any, sh: int, sw: int, crop: tuple[int, int] = (0, 0)) -> None:
    """``out += crop(col2im(cols))`` in place: the same kh*kw strided slice-additions as
    :func:`col2im`, each clipped to ``out``.

    Tap (i, j) of patch (p, q) lands at row ``p*sh + i - crop[0]`` and column
    ``q*sw + j - crop[1]`` of ``out``; what lands outside ``out`` (the padding) is dropped, so
    ``out`` is the cropped image itself and no padded array is filled, summed into and copied.
    """
    _, ho, wo, kh, kw, _ = cols.shape
    for i in range(kh):
        from_rows, rows = landing(i, sh, ho, crop[0], out.shape[1])
        for j in range(kw):
            from_columns, columns = landing(j, sw, wo, crop[1], out.shape[2])
            if rows and columns:
                out[:, rows, columns, :] += cols[:, from_rows, from_columns, i, j, :]


def landing(tap: int, stride: int, count: int, crop: int, length: int) -> tuple[slice, slice | None]:
    """Along one axis, the patches ``p0 <= p < p1`` (of ``count``) whose offset ``tap`` lands inside
    an axis of ``length`` at ``p*stride + tap - crop``, and the strided slice where they land
    (None when none does)."""
    p0 = max(0, -((tap - crop) // stride))  # ceil((crop - tap) / stride)
    p1 = min(count, (length - 1 + crop - tap) // stride + 1)
    if p0 >= p1:
        return slice(p0, p0), None
    first = p0 * stride + tap - crop
    return slice(p0, p1), slice(first, first + stride * (p1 - p0 - 1) + 1, stride)


def batch_chunks(
    n: int, rows_per_example: int, row_length: int, dtype: Any, xp: Any, workspace: Workspace,
    name: str = "patches",
) -> tuple[Any, list[slice]]:
    """Split a batch of ``n`` into chunks of about ``CHUNK_BYTES`` of patch rows.

    Returns one scratch matrix (rows of the largest chunk, ``row_length``; the array ``name``
    of the layer's ``workspace``) and the chunks as slices of the batch axis (at least one
    example each).
    """
    per = max(1, min(n, CHUNK_BYTES // max(1, rows_per_example * row_length * dtype.itemsize)))
    scratch = workspace.get(name, (per * rows_per_example, row_length), dtype, xp)
    return scratch, [slice(start, min(n, start + per)) for start in range(0, n, per)]


def patch_rows(patches: Any, scratch: Any) -> Any:
    """Copy a (n, Ho, Wo, kh, kw, C) patch view into the top of ``scratch``; return it as a matrix."""
    rows = scratch[: patches.shape[0] * patches.shape[1] * patches.shape[2]]
    rows.reshape(patches.shape)[...] = patches
    return rows
