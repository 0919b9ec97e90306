"""The machinery the fast convolutions share: padding into reused scratch, col2im into a
cropped image, and walking the batch in chunks of patch rows that stay in cache.

The reference (:mod:`minigan.nn.conv.reference`) pads, lays out the patches and adds them
back for the whole batch at once; these do the same in place, a chunk of images at a time.
"""

from __future__ import annotations

from typing import Any

from minigan.backend import get_array_module
from minigan.nn.conv.fast.workspace import Workspace

#: Target size of one chunk of patch rows: about the last-level cache (32 MiB on the benchmark machine),
#: yet few enough GEMM calls (each one a synchronisation of the BLAS threads) that a chunk is still a large
#: matrix product. 32 MiB measured 1-6% faster steps than 16 for the cDCGAN and Radford's DCGANs.
CHUNK_BYTES = 32 << 20


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


def col2im_add(cols: Any, out: Any, sh: int, sw: int, crop: tuple[int, int] = (0, 0)) -> None:
    """``out += crop(col2im(cols))`` in place: the same kh*kw strided slice-additions as
    :func:`~minigan.nn.conv.reference.col2im`, each clipped to ``out``.

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
