"""Winograd's minimal filtering for a kernel of twice the strides: Radford's 4x4 strides-2 layers.

Cut the padded image into cells of s x s pixels (space to depth: s*s*C channels each). A kernel
of 2s taps with strides s is then a 2-tap strides-1 correlation of the cells, along one axis
``y[p] = D[p] G0 + D[p+1] G1`` with cell ``D[q] = xpad[s*q : s*q + s]`` and ``Gj = K[s*j : s*j + s]``.
Winograd's F(m, 2) computes a tile of m neighbouring outputs from its m + 1 cells with m + 1
products instead of 2m::

    y[m*t : m*t + m] = At ((G g) * (Bt d_t))          d_t = D[m*t : m*t + m + 1]

with At (m, m+1), G (m+1, 2) and Bt (m+1, m+1) from Toom-Cook: evaluate at the points 0, 1, -1,
1/2 and infinity, multiply, interpolate (:func:`toom_cook`). In 2-D the transforms nest as
Kronecker products, and the product over the s*s*C channels of a cell is a matrix product, one
for each of the (m+1)^2 transformed positions::

    V = (Bt (x) Bt) tiles(pad(x))     ((m+1)^2, N*T*U, s*s*C)      T x U tiles of m x m outputs
    W = (G (x) G) K                   ((m+1)^2, s*s*C, F)
    y = untile((At (x) At) (V @ W))   (N, Ho, Wo, F)

For m = 4: 25 products where im2col computes 64 (2.56x fewer multiply-adds); the transforms
are small matrix products too, (m+1)^2 x (m+1)^2 times every tile, run by BLAS. Every step is
linear, so the other two products are the transposes of the steps in reverse order::

    conv2d_transpose:    dM = (At (x) At)^T tiles(dy)    dx = crop(untile_add((Bt (x) Bt)^T (dM @ W^T)))
    conv2d_kernel_grad:  dK = (G (x) G)^T (V^T @ dM)

The kernel gradient takes V and dM from the calls before it where they were of the same arrays:
a Conv2D's forward made V of x, its backward's conv2d_transpose dM of dy; a Conv2DTranspose's
forward made dM of x, its backward's conv2d V of dy. (A weak reference tells; an input changed in
place between a layer's forward and its backward would be wrong for its cached input as much.)
``algorithm="winograd"``; "auto" takes it where the channels make the products worth it.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from minigan.backend import get_array_module
from minigan.backend import xp as backend_xp
from minigan.nn.conv.fast.patches import pad_hw
from minigan.nn.conv.fast.workspace import SCRATCH, Workspace
from minigan.nn.conv.geometry import Geometry

#: Toom-Cook points (infinity is the last one, always added).
POINTS = (0.0, 1.0, -1.0, 0.5)
#: "auto" takes the path where both sides have at least this many channels (C and F).
MIN_CHANNELS = 32


def fits(g: Geometry) -> bool:
    """A kernel of exactly twice the strides, strides > 1."""
    return g.strides != (1, 1) and g.kernel_hw == (2 * g.strides[0], 2 * g.strides[1])


def worthwhile(g: Geometry) -> bool:
    """Where "auto" takes this path: it fits, and the products have channels on both sides."""
    return fits(g) and min(g.channels, g.filters) >= MIN_CHANNELS


def tile_size(g: Geometry) -> int:
    """m: 4 x 4 output tiles where the smaller output side has 7 or more pixels, else 2 x 2."""
    return 4 if min(g.out_hw) >= 7 else 2


def toom_cook(m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(At, G, Bt) of F(m, 2) in float64: ``At ((G g) * (Bt d)) = [d[i] g0 + d[i+1] g1 for i < m]``.

    Correlation is the transpose of polynomial multiplication ``c = a * g`` (a: m coefficients),
    which Toom-Cook computes as ``Vc^-1 ((Va a) * (Vg g))`` with Vandermonde rows at the points
    (infinity: the leading coefficient); transposed: At = Va^T, G = Vg, Bt = (Vc^-1)^T.
    """
    if not 1 <= m <= len(POINTS):
        raise ValueError(f"toom_cook: expected 1 <= m <= {len(POINTS)} (the points there are), got {m}")
    points = POINTS[:m]

    def vandermonde(n: int) -> np.ndarray:
        return np.array([[p**k for k in range(n)] for p in points] + [[0.0] * (n - 1) + [1.0]])

    return vandermonde(m).T, vandermonde(2), np.linalg.inv(vandermonde(m + 1)).T


class Winograd:
    """conv2d, conv2d_transpose and conv2d_kernel_grad for a :class:`Geometry` that :func:`fits`."""

    def __init__(self, geometry: Geometry, dtype: Any) -> None:
        self.geometry = geometry
        self.m = m = tile_size(geometry)
        at, g, bt = toom_cook(m)
        xp = backend_xp()  # on the layer's backend, in its dtype, made once: no copy to the device per call
        self.transforms = {name: xp.asarray(np.kron(a, a), dtype=dtype) for name, a in (("A", at), ("G", g), ("B", bt))}
        (ho, wo), (sh, sw), (h, w), (top, left) = geometry.out_hw, geometry.strides, geometry.in_hw, geometry.crop
        self.tiles = -(-ho // m), -(-wo // m)
        self.cells_hw = m * self.tiles[0] + 1, m * self.tiles[1] + 1
        # The part of the image inside the cells (rows past them reach no output).
        self.rows, self.cols = min(h, sh * self.cells_hw[0] - top), min(w, sw * self.cells_hw[1] - left)
        self.workspace = Workspace()  # the padded image, and V and dM kept for the next call
        self._held: dict[str, tuple[Any, Any]] = {}  # "V" / "dM": (weak reference to the source, result)

    def _matrix(self, name: str, like: Any) -> Any:
        """The transform ``name`` ("A", "G" or "B", Kronecker squared), in ``like``'s dtype."""
        matrix = self.transforms[name]
        return matrix if matrix.dtype == like.dtype else matrix.astype(like.dtype)

    def _recall(self, name: str, source: Any) -> Any:
        """The ``name`` computed from ``source`` by the last call, or None."""
        ref, result = self._held.get(name, (None, None))
        return result if ref is not None and ref() is source else None

    def _keep(self, name: str, source: Any, result: Any) -> Any:
        try:
            self._held[name] = weakref.ref(source), result
        except TypeError:  # an array type without weak references (CuPy's): nothing remembered
            self._held.pop(name, None)
        return result

    def _v(self, x: Any, reuse: bool = False) -> Any:
        """V ((m+1)^2, N*T*U, s*s*C): the tiles of pad(x), (m+1) x (m+1) overlapping cells, through Bt (x) Bt;
        with ``reuse``, the one the last call made if it was of ``x``."""
        v = self._recall("V", x) if reuse else None
        if v is not None:
            return v
        xp = get_array_module(x)
        g, (t, u), (hc, wc), a = self.geometry, self.tiles, self.cells_hw, self.m + 1
        (sh, sw), (top, left), n, c = g.strides, g.crop, len(x), g.channels
        padded = pad_hw(x[:, : self.rows, : self.cols], (top, sh * hc - top - self.rows),
                        (left, sw * wc - left - self.cols), self.workspace, "cells")
        tiles = SCRATCH.get("winograd_tiles", (a, a, n, t, u, sh, sw, c), x.dtype, xp)
        tiles[...] = self._tiles(padded.reshape(n, hc, sh, wc, sw, c), a)
        v = self.workspace.matmul(self._matrix("B", x), tiles.reshape(a * a, -1), "V")
        return self._keep("V", x, v.reshape(a * a, n * t * u, sh * sw * c))

    def _dm(self, dy: Any, reuse: bool = False) -> Any:
        """dM ((m+1)^2, N*T*U, F): the m x m tiles of dy (zeros past its edge) through (At (x) At)^T;
        with ``reuse``, the one the last call made if it was of ``dy``."""
        dm = self._recall("dM", dy) if reuse else None
        if dm is not None:
            return dm
        xp = get_array_module(dy)
        (n, ho, wo, f), m, (t, u) = dy.shape, self.m, self.tiles
        images = dy
        if (ho, wo) != (m * t, m * u):  # zeros past the edge, to whole tiles
            images = pad_hw(dy, (0, m * t - ho), (0, m * u - wo), self.workspace, "dy")
        tiles = SCRATCH.get("winograd_dy_tiles", (m, m, n, t, u, f), dy.dtype, xp)
        tiles.reshape(m, m, n, t, u, 1, 1, f)[...] = self._tiles(images.reshape(n, m * t, 1, m * u, 1, f), m)
        dm = self.workspace.matmul(self._matrix("A", dy).T, tiles.reshape(m * m, -1), "dM")
        return self._keep("dM", dy, dm.reshape(-1, n * t * u, f))

    def _tiles(self, cells: Any, size: int) -> Any:
        """Every size x size tile of ``cells`` (N, Hc, sh, Wc, sw, C), one every m cells, as one view
        (size, size, N, T, U, sh, sw, C): entry (i, j, n, t, u) is cell (m*t + i, m*u + j) of image n.
        Tiles of m + 1 cells overlap by one; (N, H, W, F) images are cells of 1 x 1 pixels."""
        (sn, shc, ssh, swc, ssw, sc), m = cells.strides, self.m
        n, _, sh, _, sw, c = cells.shape
        return get_array_module(cells).lib.stride_tricks.as_strided(
            cells, shape=(size, size, n, *self.tiles, sh, sw, c), strides=(shc, swc, sn, m * shc, m * swc, ssh, ssw, sc)
        )

    def _w(self, kernel: Any) -> Any:
        """W ((m+1)^2, s*s*C, F): the kernel's two cells per axis through G (x) G."""
        (sh, sw), c, f = self.geometry.strides, self.geometry.channels, self.geometry.filters
        cells = kernel.reshape(2, sh, 2, sw, c, f).transpose(0, 2, 1, 3, 4, 5).reshape(4, -1)
        return (self._matrix("G", kernel) @ cells).reshape(-1, sh * sw * c, f)

    def conv2d(self, x: Any, kernel: Any) -> Any:
        """``y = untile((At (x) At) (V @ W))``, cropped to (N, Ho, Wo, F)."""
        xp = get_array_module(x)
        n, m, (t, u), f, (ho, wo) = len(x), self.m, self.tiles, self.geometry.filters, self.geometry.out_hw
        product = SCRATCH.matmul(self._v(x), self._w(kernel), "winograd_product")
        tiles = SCRATCH.matmul(self._matrix("A", x), product.reshape(len(product), -1), "winograd_y_tiles")
        y = xp.empty((n, ho, wo, f), dtype=x.dtype)
        whole = y if (ho, wo) == (m * t, m * u) else SCRATCH.get("winograd_y", (n, m * t, m * u, f), x.dtype, xp)
        self._tiles(whole.reshape(n, m * t, 1, m * u, 1, f), m)[...] = tiles.reshape(m, m, n, t, u, 1, 1, f)
        if whole is not y:  # the tiles reach past the edge: crop
            y[...] = whole[:, :ho, :wo]
        return y

    def conv2d_transpose(self, dy: Any, kernel: Any) -> Any:
        """``dx = crop(untile_add((Bt (x) Bt)^T (dM @ W^T)))``: conv2d's steps transposed, in reverse order."""
        xp = get_array_module(dy)
        g, m, (t, u), (hc, wc), a = self.geometry, self.m, self.tiles, self.cells_hw, self.m + 1
        (sh, sw), (top, left), n, c = g.strides, g.crop, len(dy), g.channels
        dv = SCRATCH.matmul(self._dm(dy), self._w(kernel).transpose(0, 2, 1), "winograd_product")
        dtiles = SCRATCH.matmul(self._matrix("B", dy).T, dv.reshape(a * a, -1), "winograd_tiles")
        dtiles = dtiles.reshape(a, a, n, t, u, sh, sw, c)
        cells = SCRATCH.get("winograd_cells", (n, hc, sh, wc, sw, c), dy.dtype, xp)
        cells[:, -1] = 0  # the last cell row and column: only tiles' last cells (added below) land there
        cells[:, :, :, -1] = 0
        tiles = self._tiles(cells, a)
        tiles[:m, :m] = dtiles[:m, :m]  # the first m x m cells of the tiles cover each cell once ...
        tiles[m, :m] += dtiles[m, :m]  # ... their last row and column overlap the next tiles' first
        tiles[:m, m] += dtiles[:m, m]
        tiles[m, m] += dtiles[m, m]
        padded = cells.reshape(n, sh * hc, sw * wc, c)
        dx = (xp.empty if (self.rows, self.cols) == g.in_hw else xp.zeros)((n, *g.in_hw, c), dtype=dy.dtype)
        dx[:, : self.rows, : self.cols] = padded[:, top : top + self.rows, left : left + self.cols]
        return dx

    def conv2d_kernel_grad(self, x: Any, dy: Any) -> Any:
        """``dL/dK = (G (x) G)^T (V^T @ dM)``, as a (2*sh, 2*sw, C, F) kernel."""
        (sh, sw), c, f = self.geometry.strides, self.geometry.channels, self.geometry.filters
        dw = SCRATCH.matmul(self._v(x, reuse=True).transpose(0, 2, 1), self._dm(dy, reuse=True), "winograd_dw")
        cells = self._matrix("G", x).T @ dw.reshape(len(dw), -1)  # (4, sh*sw*C*F): the kernel's 2 x 2 cells
        return cells.reshape(2, 2, sh, sw, c, f).transpose(0, 2, 1, 3, 4, 5).reshape(2 * sh, 2 * sw, c, f)
