"""The second order of Conv2D and Conv2DTranspose (:mod:`minigan.nn.second_order`; docs/gradient_penalty.md).

Both layers are linear in x, so the tangent ``J dx`` is the forward without the bias, ``J^T dy``
the backward's input gradient, and the kernel gradient of ``<J dx, dy>`` the backward's kernel
gradient with ``dx`` in place of ``x`` (no bias term: the bias does not move with x)::

    Conv2D           J dx = conv2d(dx, K)            J^T dy = conv2d_transpose(dy, K)   dK += conv2d_kernel_grad(dx, dy)
    Conv2DTranspose  J dx = conv2d_transpose(dx, K)  J^T dy = conv2d(dy, K)             dK += conv2d_kernel_grad(dy, dx)

The three functions are the layer's algorithm's (``self.impl``), as in its forward and backward.
Mixed into the layers of :mod:`minigan.nn.conv.layers`, apart so that a convolution step reads
only what it runs.
"""

from __future__ import annotations

from typing import Any


class Conv2DSecondOrder:
    """Conv2D's: ``J dx = conv2d(dx, K)``."""

    def _input_gradient(self, dy: Any, x: Any) -> Any:
        return self.impl.conv2d_transpose(dy, self.params["kernel"])

    def _tangent(self, dx: Any, x: Any) -> Any:
        return self.impl.conv2d(dx, self.params["kernel"])

    def _tangent_backward(self, dx: Any, dy: Any, x: Any) -> None:
        """``d/dK <conv2d(dx, K), dy> = conv2d_kernel_grad(dx, dy)``."""
        if self.trainable:
            self.grads["kernel"] += self.impl.conv2d_kernel_grad(dx, dy)


class Conv2DTransposeSecondOrder:
    """Conv2DTranspose's: ``J dx = conv2d_transpose(dx, K)``."""

    def _input_gradient(self, dy: Any, x: Any) -> Any:
        return self.impl.conv2d(dy, self.params["kernel"])

    def _tangent(self, dx: Any, x: Any) -> Any:
        return self.impl.conv2d_transpose(dx, self.params["kernel"])

    def _tangent_backward(self, dx: Any, dy: Any, x: Any) -> None:
        """``d/dK <conv2d_transpose(dx, K), dy> = d/dK <dx, conv2d(dy, K)> = conv2d_kernel_grad(dy, dx)``."""
        if self.trainable:
            self.grads["kernel"] += self.impl.conv2d_kernel_grad(dy, dx)
