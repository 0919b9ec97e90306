"""conv2d_transpose as one strides-1 matrix product and a pixel shuffle: no col2im.

Along one axis, with strides s and a kernel of k taps zero-padded to m*s (m = ceil(k / s)),
split each output row r = s*v + a (its phase a < s) and each tap i = s*j + a. The adjoint of
the convolution, before cropping the padding, is then::

    z[s*v + a] = sum_{j < m} dy[v - j] K[s*j + a]

Every output row in block v reads the same m rows of dy, v - m + 1 ... v. So a strides-1
im2col of dy (zero-padded by m - 1 rows above) with an m x m window, times the kernel
rearranged as (m*m*F, s*s*C), gives all s*s phases of block v at once. A pixel shuffle
(s*s strided copies) then puts phase (a, b) of block (v, w) at row s*v + a - top and column
s*w + b - left of dx, which also drops the padding.

For Radford's 4x4 strides-2 layers (m = 2) that is one (N*Hq*Wq, 4F) @ (4F, 4C) product
instead of a (N*Ho*Wo, F) @ (F, 16C) product and col2im's sixteen read-modify-write passes.
It computes (Ho+1)^2 / Ho^2 times the multiply-adds (1.13x for 16x16 inputs), and more when
k is not a multiple of s (the zero taps). ``algorithm="subpixel"``; conv2d and
conv2d_kernel_grad are im2col's.
"""

from __future__ import annotations

from typing import Any

from minigan.backend import get_array_module
from minigan.nn.conv.fast.chunked import Im2colChunks
from minigan.nn.conv.fast.patches import batch_chunks, landing, pad_hw, patch_rows
from minigan.nn.conv.geometry import Geometry
from minigan.nn.conv.reference import im2col

#: Take the path (in "auto") where blocks of s x s output pixels cost at most this many multiply-adds per
#: im2col's (Hq*Wq / (Ho*Wo): 1.13 for 16x16 inputs, 1.31 for 7x7, 1.56 for 4x4, where it was slower)...
MAX_BLOCK_OVERHEAD = 1.35
#: ...and where col2im would touch at least this share of what the window copy moves (kh*kw*C*Ho*Wo
#: against m*m*F*Hq*Wq): a 3- or 1-channel col2im is cheap beside copying F-channel windows.
MIN_COL2IM_SHARE = 0.15


def worthwhile(g: Geometry) -> bool:
    """True where "auto" takes this path: strides > 1, a kernel a multiple of the strides (no zero
    taps), few extra blocks and a col2im that would cost more than the window copy (docs/transposed_convolution.md)."""
    (kh, kw), (sh, sw), (ho, wo) = g.kernel_hw, g.strides, g.out_hw
    if (sh, sw) == (1, 1) or kh % sh or kw % sw:
        return False
    (mh, mw), (hq, wq) = taps_per_phase(g.kernel_hw, g.strides), _blocks(g)
    overhead = hq * wq / (ho * wo)
    share = kh * kw * g.channels * ho * wo / (mh * mw * g.filters * hq * wq)
    return overhead <= MAX_BLOCK_OVERHEAD and share >= MIN_COL2IM_SHARE


def taps_per_phase(kernel_hw: tuple[int, int], strides: tuple[int, int]) -> tuple[int, int]:
    """(m_h, m_w): the kernel's taps per phase, ceil(k / s) on each axis."""
    return -(-kernel_hw[0] // strides[0]), -(-kernel_hw[1] // strides[1])


def _blocks(g: Geometry) -> tuple[int, int]:
    """(Hq, Wq): blocks of s x s output pixels, enough for every row of dy's reach and of dx."""
    (mh, mw), (ho, wo), (top, left), (h, w) = taps_per_phase(g.kernel_hw, g.strides), g.out_hw, g.crop, g.in_hw
    sh, sw = g.strides
    return max(ho + mh - 1, -(-(top + h) // sh)), max(wo + mw - 1, -(-(left + w) // sw))


def phase_kernel(kernel: Any, strides: tuple[int, int]) -> Any:
    """A (kh, kw, C, F) kernel as the (m_h*m_w*F, s_h*s_w*C) matrix ``W[(t_h, t_w, f), (a, b, c)] =
    K[s_h*(m_h-1-t_h) + a, s_w*(m_w-1-t_w) + b, c, f]`` (zero past the kernel's edge)."""
    xp = get_array_module(kernel)
    (kh, kw, c, f), (sh, sw) = kernel.shape, strides
    mh, mw = taps_per_phase((kh, kw), strides)
    padded = xp.zeros((mh * sh, mw * sw, c, f), dtype=kernel.dtype)
    padded[:kh, :kw] = kernel
    flipped = padded.reshape(mh, sh, mw, sw, c, f)[::-1, :, ::-1]  # (t_h, a, t_w, b, c, f)
    return flipped.transpose(0, 2, 5, 1, 3, 4).reshape(mh * mw * f, sh * sw * c)


class Subpixel(Im2colChunks):
    """:class:`Im2colChunks` with conv2d_transpose as one product per chunk and a pixel shuffle."""

    def __init__(self, geometry: Geometry, dtype: Any) -> None:
        super().__init__(geometry, dtype)
        self.taps, self.blocks = taps_per_phase(geometry.kernel_hw, geometry.strides), _blocks(geometry)

    def conv2d_transpose(self, dy: Any, kernel: Any) -> Any:
        """``dx`` (N, H, W, C): the m x m strides-1 products of pad(dy), shuffled into place."""
        xp = get_array_module(dy)
        g = self.geometry
        (n, ho, wo, f), (mh, mw), (hq, wq), (sh, sw), c = dy.shape, self.taps, self.blocks, g.strides, g.channels
        weights = phase_kernel(kernel, g.strides)
        dypad = pad_hw(dy, (mh - 1, hq - ho), (mw - 1, wq - wo), self.workspace, "dypad")
        windows = im2col(dypad, mh, mw, 1, 1)  # (N, hq, wq, mh, mw, F)
        dx = xp.empty((n, *g.in_hw, c), dtype=dy.dtype)
        scratch, chunks = batch_chunks(n, hq * wq, mh * mw * f, dy.dtype, xp, self.workspace)
        phases = self.workspace.get("phases", (scratch.shape[0], sh * sw * c), dy.dtype, xp)
        for b in chunks:
            rows = patch_rows(windows[b], scratch)
            z = xp.matmul(rows, weights, out=phases[: rows.shape[0]]).reshape(-1, hq, wq, sh, sw, c)
            self._shuffle(z, dx[b])
        return dx

    def _shuffle(self, z: Any, dx: Any) -> None:
        """Phase (a, b) of block (v, w) of ``z`` to ``dx[:, s_h*v + a - top, s_w*w + b - left]``."""
        (sh, sw), (top, left), (hq, wq) = self.geometry.strides, self.geometry.crop, self.blocks
        for a in range(sh):
            blocks_h, rows = landing(a, sh, hq, top, dx.shape[1])
            for b in range(sw):
                blocks_w, columns = landing(b, sw, wq, left, dx.shape[2])
                if rows and columns:
                    dx[:, rows, columns] = z[:, blocks_h, blocks_w, a, b]
