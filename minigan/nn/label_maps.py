"""A one-hot label as constant image maps, and the convolution of an image joined with them.

The conditional DCGAN's discriminator sees the label y (N, K) as K constant maps beside the
image's channels (:class:`LabelMaps`), then convolves the joined C + K channels. A convolution
is linear, so the maps' share of it is y times the response of each label's map:
:class:`LabelMapConv2D` computes exactly that, without the maps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan import backend, nn
from minigan.backend import get_array_module
from minigan.nn.conv.reference import im2col, pad_hw
from minigan.nn.matmul import column_sums


class LabelMaps(nn.Layer):
    """Broadcast a one-hot label to constant maps: ``(N, K) -> (N, H, W, K)``, ``y[n, i, j, k] = x[n, k]``.

    Backward sums over the map: ``dx[n, k] = sum_ij dy[n, i, j, k]``.
    ``Conv2D(concat([x, LabelMaps(H, W)(y)]))`` is what :class:`LabelMapConv2D` computes.
    """

    input_rank = 1

    def __init__(self, height: int, width: int, name: str | None = None) -> None:
        if int(height) < 1 or int(width) < 1:
            raise ValueError(f"LabelMaps: expected height and width >= 1, got {height} and {width}")
        self.height, self.width = int(height), int(width)
        super().__init__(name=name)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (self.height, self.width, *input_shape)

    def _forward(self, x: Any, training: bool) -> tuple[Any, Any]:
        xp = get_array_module(x)
        n, k = x.shape
        return xp.ascontiguousarray(xp.broadcast_to(x[:, None, None, :], (n, self.height, self.width, k))), None

    def _backward(self, dy: Any, cache: Any) -> Any:
        return dy.sum(axis=(1, 2))


class LabelMapConv2D(nn.Conv2D):
    """``Conv2D(concat([x, LabelMaps(H, W)(y)]))`` for the inputs ``[x (N, H, W, C), y (N, K)]``.

    The kernel is that Conv2D's, (kh, kw, C + K, F): ``Kx`` on the image's channels, ``Ky`` on
    the maps'. The maps' part of the output is linear in y, so it is y times ``R``, the output
    of each label's map alone; every patch of a constant map is a patch of a map of ones, the
    padding mask ``M = im2col(pad(ones))`` (Ho*Wo, kh*kw)::

        out = conv2d(x, Kx) + y R + b        R = M Ky: (K, Ho*Wo*F), Ky as (kh*kw, K*F)
        dx = conv2d_transpose(dY, Kx)        dKx = conv2d_kernel_grad(x, dY)
        dy = dY R^T                          dKy = M^T (y^T dY)

    The image's part costs a Conv2D on C channels: the cDCGAN's discriminator (1 channel and
    10 maps) does a tenth of the joined convolution's work. Backward returns ``[dx, dy]``.
    """

    input_rank = None

    def build_for(self, input_shape: Any, dtype: Any = None) -> None:
        shapes = tuple(tuple(int(d) for d in shape) for shape in input_shape)
        if len(shapes) != 2 or len(shapes[0]) != 3 or len(shapes[1]) != 1:
            raise ValueError(
                f"{self.name}: expected input shapes [(height, width, channels), (classes,)], got {list(shapes)}"
            )
        self._build_checked(shapes, dtype)

    def build(self, input_shape: Any, dtype: np.dtype) -> None:
        (h, w, c), (k,) = input_shape
        self._build_kernel(self._geometry((h, w, c)), dtype, kernel_channels=c + k)
        g = self.geometry
        ones = backend.xp().ones((1, h, w, 1), dtype)
        self.mask = im2col(pad_hw(ones, *g.pads), *g.kernel_hw, *g.strides).reshape(-1, g.kernel_hw[0] * g.kernel_hw[1])

    def output_shape(self, input_shape: Any) -> tuple[int, ...]:
        return super().output_shape(input_shape[0])

    def _check_input(self, xs: Any) -> Any:
        if not isinstance(xs, (list, tuple)) or len(xs) != 2:
            raise ValueError(f"{self.name}: expected [images (N, H, W, C), labels (N, K)], got {type(xs).__name__}")
        x, y = xs
        dtypes = {getattr(a, "dtype", None) for a in xs}
        if len(dtypes) != 1 or next(iter(dtypes)) is None or next(iter(dtypes)).kind != "f":
            raise ValueError(f"{self.name}: expected floating arrays of one dtype, got {sorted(map(str, dtypes))}")
        if not self.built:
            self.build_for((x.shape[1:], y.shape[1:]), x.dtype)
        (image, labels), got = self.input_shape, [tuple(a.shape) for a in xs]
        if got != [(len(x), *image), (len(x), *labels)] or x.dtype != self.dtype:
            raise ValueError(
                f"{self.name}: expected {self.dtype} images (N, {', '.join(map(str, image))}) and labels "
                f"(N, {labels[0]}), got {x.dtype} arrays of shapes {got}"
            )
        return x, y

    def _label_response(self, label_kernel: Any) -> Any:
        """R (K, Ho*Wo*F): the output of each label's constant map, M Ky rearranged."""
        kh, kw, k, f = label_kernel.shape
        response = self.mask @ label_kernel.reshape(kh * kw, k * f)  # (Ho*Wo, K*F)
        return response.reshape(-1, k, f).transpose(1, 0, 2).reshape(k, -1)

    def _forward(self, xs: Any, training: bool) -> tuple[Any, Any]:
        x, y = xs
        kernel, c = self.params["kernel"], self.geometry.channels
        image_kernel = get_array_module(x).ascontiguousarray(kernel[:, :, :c])
        response = self._label_response(kernel[:, :, c:])
        out = self.impl.conv2d(x, image_kernel)
        out += (y @ response).reshape(out.shape)
        return self._add_bias(out), (x, y, image_kernel, response)

    def _backward(self, dy: Any, cache: Any) -> Any:
        x, y, image_kernel, response = cache
        dx = self.impl.conv2d_transpose(dy, image_kernel)
        dlabels = dy.reshape(len(dy), -1) @ response.T
        self._param_backward(dy, cache)
        return [dx, dlabels]

    def _param_backward(self, dy: Any, cache: Any) -> None:
        if not self.trainable:
            return
        x, y = cache[:2]
        kernel_grad, c = self.grads["kernel"], self.geometry.channels
        kh, kw, _, f = kernel_grad.shape
        kernel_grad[:, :, :c] += self.impl.conv2d_kernel_grad(x, dy)
        per_label = (y.T @ dy.reshape(len(dy), -1)).reshape(len(y.T), -1, f)  # y^T dY: (K, Ho*Wo, F)
        per_pixel = per_label.transpose(1, 0, 2).reshape(len(self.mask), -1)  # (Ho*Wo, K*F)
        kernel_grad[:, :, c:] += (self.mask.T @ per_pixel).reshape(kh, kw, -1, f)
        if self.use_bias:
            self.grads["bias"] += column_sums(dy.reshape(-1, self.filters))
