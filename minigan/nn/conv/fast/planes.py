"""conv2d_transpose with the channels first, for images of a few channels: col2im over whole planes.

im2col's conv2d_transpose computes ``dY K^T`` (N*Ho*Wo, kh*kw*C) and adds every tap's C channels
into the image: with C = 3 that is runs of three numbers, the slowest copy there is. The same
product transposed gives each (tap, channel) as a whole image plane, so col2im adds planes, and
one transpose at the end puts the channels last::

    cols = K dY^T                                       (kh, kw, C, N, Ho, Wo)
    planes[c, n, p*sh + i - top, q*sw + j - left] += cols[i, j, c, n, p, q]     (C, N, H, W)
    dx = planes transposed to (N, H, W, C)

col2im is :func:`minigan.nn.conv.fast.patches.col2im_add` itself, on the planes as a batch of C*N one-channel
images. ``algorithm="planes"``; conv2d and conv2d_kernel_grad are im2col's. "auto" takes it for
the image side of Radford's DCGANs (3 channels, 32x32 pixels or more), where its conv2d_transpose
took 11.3 ms against the sub-pixel path's 19.1 (``python benchmarks/bench_conv.py --model radford64``,
G's last layer, batch 64).
"""

from __future__ import annotations

from typing import Any

from minigan.backend import get_array_module
from minigan.nn.conv.fast.chunked import Im2colChunks
from minigan.nn.conv.fast.patches import col2im_add
from minigan.nn.conv.fast.workspace import SCRATCH
from minigan.nn.conv.geometry import Geometry

#: "auto" takes the path for images of at most this many channels...
MAX_CHANNELS = 4
#: ... and at least this many pixels.
MIN_PIXELS = 32 * 32


def worthwhile(g: Geometry) -> bool:
    """Where "auto" takes this path: strides > 1 onto an image of few channels and many pixels."""
    return g.strides != (1, 1) and g.channels <= MAX_CHANNELS and g.in_hw[0] * g.in_hw[1] >= MIN_PIXELS


class Planes(Im2colChunks):
    """:class:`Im2colChunks` with conv2d_transpose as one product into image planes and their col2im."""

    def conv2d_transpose(self, dy: Any, kernel: Any) -> Any:
        """``dx`` (N, H, W, C): ``K dY^T`` as (tap, channel) planes, added into place, channels last."""
        xp = get_array_module(dy)
        g = self.geometry
        (n, ho, wo, f), (kh, kw), c = dy.shape, g.kernel_hw, g.channels
        cols = SCRATCH.matmul(kernel.reshape(-1, f), dy.reshape(-1, f).T, "planes")  # (kh*kw*C, N*Ho*Wo)
        cols = cols.reshape(kh, kw, c * n, ho, wo, 1).transpose(2, 3, 4, 0, 1, 5)  # C*N images' patches
        planes = xp.zeros((c, n, *g.in_hw), dtype=dy.dtype)
        col2im_add(cols, planes.reshape(c * n, *g.in_hw, 1), *g.strides, g.crop)
        return xp.ascontiguousarray(planes.transpose(1, 2, 3, 0))
