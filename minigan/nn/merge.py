"""Models that are more than a chain: concatenation, and branches that merge.

The conditional GANs feed two inputs (noise ``z`` and a one-hot label ``y``) through
their own branches and join them::

    G = Sequential([Parallel([z_branch, y_branch]), ...rest of the generator...])
    images = G.forward([z, y]);   dz, dy = G.backward(dimages)

``Parallel`` takes a list of inputs and returns one array; its backward returns a list of
input gradients, in the same order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan.backend import get_array_module
from minigan.nn.layer import Layer
from minigan.nn.sequential import Sequential


class Concatenate(Layer):
    """Join arrays along ``axis`` (the channels by default), as Keras' ``Concatenate``.

    Forward: ``y = concat([x_1, ..., x_k], axis)``; every other axis must agree.
    Backward: each input gets its own slice of ``dy`` back: ``dx_i = dy[..., o_i : o_i + d_i]``.
    """

    def __init__(self, axis: int = -1, name: str | None = None) -> None:
        self.axis = int(axis)
        super().__init__(name=name)

    def build_for(self, input_shape: Any, dtype: Any = None) -> None:
        shapes = [tuple(int(d) for d in shape) for shape in input_shape]
        rank = len(shapes[0]) + 1
        axis = self.axis % rank
        if axis == 0:
            raise ValueError(f"{self.name}: cannot concatenate along the batch axis")
        rest = {shape[: axis - 1] + shape[axis:] for shape in shapes}
        if len(rest) != 1 or {len(s) for s in shapes} != {rank - 1}:
            raise ValueError(f"{self.name}: expected shapes that agree except on axis {self.axis}, got {shapes}")
        self.input_shape = tuple(shapes)
        self.dtype = np.dtype(dtype) if dtype is not None else None
        self.built = True

    def output_shape(self, input_shape: Any) -> tuple[int, ...]:
        shapes = [tuple(shape) for shape in input_shape]
        axis = self.axis % (len(shapes[0]) + 1) - 1
        joined = sum(shape[axis] for shape in shapes)
        return shapes[0][:axis] + (joined,) + shapes[0][axis + 1 :]

    def _check_input(self, xs: Any) -> Any:
        if not isinstance(xs, (list, tuple)) or len(xs) < 2:
            raise ValueError(f"{self.name}: expected a list of at least two arrays, got {type(xs).__name__}")
        dtypes = {getattr(x, "dtype", None) for x in xs}
        if len(dtypes) != 1 or next(iter(dtypes)) is None or next(iter(dtypes)).kind != "f":
            raise ValueError(f"{self.name}: expected floating arrays of one dtype, got {sorted(map(str, dtypes))}")
        shapes = tuple(tuple(x.shape[1:]) for x in xs)
        if not self.built:
            self.build_for(shapes, xs[0].dtype)
        if shapes != self.input_shape or len({x.shape[0] for x in xs}) != 1:
            raise ValueError(
                f"{self.name}: expected inputs of shapes {[(None, *s) for s in self.input_shape]}, "
                f"got {[tuple(x.shape) for x in xs]}"
            )
        return xs

    def _forward(self, xs: Any, training: bool) -> tuple[Any, Any]:
        sizes = [x.shape[self.axis] for x in xs]
        return get_array_module(xs[0]).concatenate(xs, axis=self.axis), sizes

    def _backward(self, dy: Any, sizes: Any) -> Any:
        grads, start = [], 0
        for size in sizes:
            index = [slice(None)] * dy.ndim
            index[self.axis] = slice(start, start + size)
            grads.append(dy[tuple(index)])
            start += size
        return grads


class Parallel(Sequential):
    """Apply branch ``i`` to input ``i`` and concatenate the outputs along ``axis``.

    ``Parallel([f, g]).forward([a, b]) = concat([f(a), g(b)], axis)``; backward returns
    ``[df/da^T dy_f, dg/db^T dy_g]``. Use an empty ``Sequential()`` for an input that joins
    unchanged. ``params``/``grads`` merge the branches' under their (unique) names.
    """

    def __init__(self, branches: list[Layer], axis: int = -1, name: str | None = None) -> None:
        if len(branches) < 2:
            raise ValueError(f"Parallel: expected at least two branches, got {len(branches)}")
        super().__init__(branches, name=name or "parallel")
        self.join = Concatenate(axis, name=f"{self.name}_concatenate")

    def build_for(self, input_shape: Any, dtype: Any = None) -> None:
        shapes = [tuple(int(d) for d in shape) for shape in input_shape]
        if len(shapes) != len(self.layers):
            raise ValueError(f"{self.name}: expected {len(self.layers)} input shapes, got {len(shapes)}")
        for branch, shape in zip(self.layers, shapes, strict=True):
            if not branch.built:
                branch.build_for(shape, dtype)
        self.join.build_for([b.output_shape(s) for b, s in zip(self.layers, shapes, strict=True)], dtype)
        self.input_shape = tuple(shapes)
        self.dtype = next((b.dtype for b in self.layers if b.dtype is not None), None)
        self.built = True

    def output_shape(self, input_shape: Any) -> tuple[int, ...]:
        return self.join.output_shape([b.output_shape(s) for b, s in zip(self.layers, input_shape, strict=True)])

    def forward(self, xs: Any, training: bool = True) -> Any:
        if not isinstance(xs, (list, tuple)) or len(xs) != len(self.layers):
            raise ValueError(f"{self.name}: expected a list of {len(self.layers)} inputs, got {type(xs).__name__}")
        if not self.built:
            self.build_for([x.shape[1:] for x in xs])
        return self.join.forward([b.forward(x, training) for b, x in zip(self.layers, xs, strict=True)], training)

    def backward(self, dy: Any, input_grad: bool = True) -> list[Any] | None:
        grads = [b.backward(d, input_grad) for b, d in zip(self.layers, self.join.backward(dy), strict=True)]
        return grads if input_grad else None

    def discard(self) -> None:
        super().discard()
        self.join.discard()
