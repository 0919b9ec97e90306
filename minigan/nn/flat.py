"""Flat parameters: every parameter of a model in one contiguous buffer, every gradient in another.

``flatten_parameters(model)`` copies each array of ``model.params`` into one 1-D buffer and
each of ``model.grads`` into a second with the same layout, then puts a view of the buffer in
the layers' dicts in place of each array::

    flat = flatten_parameters(model)
    model.params[key]  is  flat.params[o_k : o_k + n_k].reshape(shape_k)     (a view: same memory)
    model.grads[key]   is  flat.grads[o_k : o_k + n_k].reshape(shape_k)

The layers' code is unchanged (they read ``self.params["kernel"]`` and add into
``self.grads["kernel"]``), while work on every parameter at once (Adam's step, zeroing the
gradients, an all-reduce) becomes one array operation on ``flat.params`` / ``flat.grads``
instead of one per array. Each array starts on a 256-byte boundary; the gaps between arrays
hold zeros and stay zero under Adam (zero gradient, zero moments, zero update).

The views hold while every write goes *into* the arrays (``a[...] = b``, ``a += b``); code
that puts a new array in a dict (``layer.params["kernel"] = new``) detaches that key from the
buffer. :meth:`FlatParameters.detached` lists such keys and :meth:`FlatParameters.check`
raises on them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from minigan import backend
from minigan.nn.layer import Layer

ALIGN_BYTES = 256  # each array's start: the GPU memory pool's and cuBLAS's preferred alignment


def _address(array: Any) -> int:
    """The address of an array's first element (NumPy or CuPy)."""
    interface = getattr(array, "__array_interface__", None)
    return interface["data"][0] if interface is not None else array.data.ptr


class FlatParameters:
    """The layout of a flattened model: ``keys`` (``model.params``' order), each key's ``offset``
    (in elements) and ``shape``, and the two buffers ``params`` and ``grads`` of ``size`` elements."""

    def __init__(self, model: Any, keys: list[str], offsets: list[int], shapes: list[tuple[int, ...]],
                 params: Any, grads: Any) -> None:
        self.model = model
        self.keys, self.offsets, self.shapes = tuple(keys), tuple(offsets), tuple(shapes)
        self.params, self.grads = params, grads

    @property
    def size(self) -> int:
        """Elements of each buffer (the parameters and the alignment gaps)."""
        return int(self.params.size)

    @property
    def dtype(self) -> Any:
        return self.params.dtype

    def views(self, buffer: Any) -> dict[str, Any]:
        """``key -> buffer[o_k : o_k + n_k].reshape(shape_k)`` for any buffer of this layout (Adam's moments)."""
        return {
            key: buffer[offset:offset + _count(shape)].reshape(shape)
            for key, offset, shape in zip(self.keys, self.offsets, self.shapes, strict=True)
        }

    def detached(self) -> list[str]:
        """The keys of ``model.params`` or ``model.grads`` whose array is no longer this layout's view."""
        bad = []
        for kind, buffer in (("params", self.params), ("grads", self.grads)):
            arrays, base, itemsize = getattr(self.model, kind), _address(buffer), buffer.itemsize
            if list(arrays) != list(self.keys):
                return [f"{kind}: keys {sorted(set(arrays) ^ set(self.keys))}"]
            for key, offset, shape in zip(self.keys, self.offsets, self.shapes, strict=True):
                array = arrays[key]
                if (array.shape != shape or array.dtype != buffer.dtype or not array.flags.c_contiguous
                        or _address(array) != base + offset * itemsize):
                    bad.append(f"{kind}[{key!r}]")
        return bad

    def check(self) -> None:
        """Raise RuntimeError if some array of the model was replaced instead of written into."""
        bad = self.detached()
        if bad:
            raise RuntimeError(
                f"{getattr(self.model, 'name', type(self.model).__name__)}: {', '.join(bad[:4])} no longer in the "
                "flat buffer (an array was replaced, not written into: write with a[...] = b)"
            )


def _count(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _layout(shapes: list[tuple[int, ...]], itemsize: int) -> tuple[list[int], int]:
    """Each array's offset, aligned to :data:`ALIGN_BYTES`, and the buffer's size (elements)."""
    align = max(1, ALIGN_BYTES // itemsize)
    offsets, end = [], 0
    for shape in shapes:
        start = -(-end // align) * align
        offsets.append(start)
        end = start + _count(shape)
    return offsets, end


def _sublayers(root: Any) -> Iterator[Any]:
    """``root`` and every layer reachable from it through attributes (a Sequential's ``layers``, a
    wrapper's ``layer``, a Parallel's ``join``), each once."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        yield obj
        for value in vars(obj).values():
            if isinstance(value, Layer):
                stack.append(value)
            elif isinstance(value, (list, tuple)):
                stack.extend(item for item in value if isinstance(item, Layer))


def _existing(model: Any, keys: list[str], shapes: list[tuple[int, ...]], params: dict, grads: dict) -> Any:
    """The layout of a model flattened before (its arrays already views of two buffers), else None."""
    if not keys:
        return None
    first_p, first_g = params[keys[0]].base, grads[keys[0]].base
    if first_p is None or first_g is None or first_p.ndim != 1 or first_g.ndim != 1:
        return None
    offsets, size = _layout(shapes, first_p.itemsize)
    if first_p.size != size or first_g.size != size or first_g.dtype != first_p.dtype:
        return None
    flat = FlatParameters(model, keys, offsets, shapes, first_p, first_g)
    return None if flat.detached() else flat


def flatten_parameters(model: Any) -> FlatParameters:
    """Move every parameter of a built ``model`` (a layer or a Sequential) into one buffer and every
    gradient into another, the layers' arrays becoming views into them; return the layout.

    A model flattened before, whose arrays are all still views, keeps its buffers (nothing is
    copied). The values are unchanged. Raises ValueError for an unbuilt model, parameters of
    several dtypes, or an array shared by two keys."""
    name = getattr(model, "name", type(model).__name__)
    if not getattr(model, "built", True):
        raise ValueError(f"flatten_parameters: {name} is not built; give input_shape or call forward once")
    params, grads = model.params, model.grads
    keys = list(params)
    if list(grads) != keys:
        raise ValueError(f"flatten_parameters: {name}: params and grads have different keys")
    shapes = [tuple(params[k].shape) for k in keys]
    for key, shape in zip(keys, shapes, strict=True):
        if tuple(grads[key].shape) != shape or grads[key].dtype != params[key].dtype:
            raise ValueError(
                f"flatten_parameters: {name}: grads[{key!r}] is {grads[key].dtype} {tuple(grads[key].shape)}, "
                f"its parameter {params[key].dtype} {shape}"
            )
    dtypes = sorted({str(params[k].dtype) for k in keys})
    if len(dtypes) > 1:
        raise ValueError(f"flatten_parameters: {name}: expected parameters of one dtype, got {dtypes}")
    arrays = [*params.values(), *grads.values()]
    if len({id(a) for a in arrays}) != len(arrays):
        raise ValueError(f"flatten_parameters: {name}: an array is shared by two keys; it cannot have two places")
    existing = _existing(model, keys, shapes, params, grads)
    if existing is not None:
        return existing
    xp = backend.get_array_module(*arrays) if arrays else backend.xp()
    dtype = params[keys[0]].dtype if keys else backend.floatx()
    offsets, size = _layout(shapes, np.dtype(dtype).itemsize)
    flat = FlatParameters(model, keys, offsets, shapes, xp.zeros(size, dtype), xp.zeros(size, dtype))
    moved = {}  # id(old array) -> its view; ``arrays`` keeps the old arrays (and so their ids) alive
    for kind, buffer in (("params", flat.params), ("grads", flat.grads)):
        old, new = getattr(model, kind), flat.views(buffer)
        for key in keys:
            new[key][...] = old[key]
            moved[id(old[key])] = new[key]
    for layer in _sublayers(model):  # every dict holding an old array, wrappers' and wrapped layers' alike
        for kind in ("params", "grads"):
            arrays_of_layer = vars(layer).get(kind)
            if isinstance(arrays_of_layer, dict):
                for key, array in arrays_of_layer.items():
                    if id(array) in moved:
                        arrays_of_layer[key] = moved[id(array)]
    bad = flat.detached()
    if bad:
        raise ValueError(f"flatten_parameters: {name}: could not put {', '.join(bad[:4])} in the buffer "
                         "(kept in no layer's params/grads dict)")
    return flat
