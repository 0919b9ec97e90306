"""Scratch arrays that a layer keeps from call to call.

Fresh memory is not free: glibc hands out any array over 32 MB as new pages from the
kernel (and returns them on free), and the first touch of every 4 KiB page is a page
fault. On a 2-core benchmark machine that was about 0.2 s per GB, more than the arithmetic of
some layers. A layer that needs a large temporary on every call
keeps it in a :class:`Workspace` instead of allocating it again.

Only arrays that never leave the layer go here: scratch, and the layer's own cache for
its backward pass (one training forward, then its backward: the Layer contract makes
reusing the cache's memory on the next training forward safe). Outputs and gradients
that a layer returns are always fresh arrays.

Temporaries that live only within one call (a kernel's spectrum, a product before its
inverse transform) need no memory of their own per layer: layers run one at a time, so
they share :data:`SCRATCH`, whose arrays are views of one buffer per name, as large as the
largest request so far.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan.backend import get_array_module


class Workspace:
    """Named arrays, reallocated only when the shape, dtype or backend asked for changes."""

    def __init__(self) -> None:
        self._arrays: dict[str, Any] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: Any, xp: Any) -> Any:
        """The array ``name`` of ``shape`` and ``dtype`` (its contents are whatever was left there)."""
        array = self._arrays.get(name)
        if array is None or array.shape != tuple(shape) or array.dtype != dtype or get_array_module(array) is not xp:
            array = self._arrays[name] = xp.empty(shape, dtype=dtype)
        return array

    def matmul(self, a: Any, b: Any, name: str) -> Any:
        """``a @ b`` written into the array ``name`` (``a`` and ``b`` 2-D, or stacks of the same length)."""
        xp = get_array_module(a)
        return xp.matmul(a, b, out=self.get(name, (*a.shape[:-1], b.shape[-1]), a.dtype, xp))


class SharedScratch:
    """Call-local temporaries shared by every layer: ``get`` returns a view of the buffer
    ``name`` (grown when a request is larger), valid until the next ``get`` of that name."""

    def __init__(self) -> None:
        self._buffers: dict[str, Any] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: Any, xp: Any) -> Any:
        """An array ``name`` of ``shape`` and ``dtype``, contents undefined."""
        size = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        buffer = self._buffers.get(name)
        if buffer is None or buffer.nbytes < size or get_array_module(buffer) is not xp:
            buffer = self._buffers[name] = xp.empty(size, dtype=np.uint8)
        return buffer[:size].view(dtype).reshape(shape)

    def matmul(self, a: Any, b: Any, name: str) -> Any:
        """``a @ b`` written into the temporary ``name``."""
        xp = get_array_module(a)
        return xp.matmul(a, b, out=self.get(name, (*a.shape[:-1], b.shape[-1]), a.dtype, xp))

    def nbytes(self) -> int:
        """The memory held, in bytes."""
        return sum(buffer.nbytes for buffer in self._buffers.values())


#: The one pool of call-local temporaries (per process).
SCRATCH = SharedScratch()
