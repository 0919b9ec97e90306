"""The convolution layers: the plain reference, the layers, and the fast algorithms beside them.

Read in this order::

    geometry.py    sizes, padding, and the Geometry both layers share
    reference.py   im2col, col2im, conv2d and its two adjoints: whole batch, one product each
    layers.py      Conv2D and Conv2DTranspose: forward, backward, the parameters
    fast/          the same three functions faster (chunked im2col, Winograd, Fourier, ...), and "auto"

A layer built with ``algorithm="reference"`` runs ``reference.py`` and nothing of ``fast/``.
"""

from minigan.nn.conv.layers import Conv2D, Conv2DTranspose

__all__ = ["Conv2D", "Conv2DTranspose"]
