"""The second-order methods of every layer: its Jacobian ``J = dy/dx`` at the pending training-mode forward.

:func:`minigan.penalties.gradient_penalty` differentiates a penalty on a critic's input gradient
with them (docs/gradient_penalty.md derives it)::

    input_gradient(dy)         J^T dy: backward's dL/dx alone, no parameter gradient, the cache kept
    tangent(dx)                J dx: how the output moves when the input moves along dx
    tangent_backward(dx, dy)   grads += d/dparam <J dx, dy> (if trainable)

A layer derives them by defining ``_input_gradient``, ``_tangent`` and, with parameters,
``_tangent_backward`` (each with the forward's cache as last argument), and by setting
``second_order = True`` in its own class body: a subclass inherits no derivation, since it may
change the forward. They live apart from :mod:`minigan.nn.layer` (and the convolutions' in
:mod:`minigan.nn.conv.second_order`) so that a first-order step reads only the code it runs.
"""

from __future__ import annotations

from typing import Any


class SecondOrder:
    """Mixed into :class:`minigan.nn.Layer`: the public methods, the defaults, and which layers derive them."""

    #: True in the body of each class that derives the methods (read from that class only).
    second_order = False

    def input_gradient(self, dy: Any) -> Any:
        """``J^T dy``: backward's ``dL/dx`` alone; no parameter gradient is added and the
        training-mode forward's cache stays (for :meth:`tangent`)."""
        return self._input_gradient(dy, self._pending_cache("input_gradient"))

    def tangent(self, dx: Any) -> Any:
        """``J dx``: the forward-mode derivative of the pending training-mode forward along ``dx``
        (the parameters held)."""
        return self._tangent(dx, self._pending_cache("tangent"))

    def tangent_backward(self, dx: Any, dy: Any) -> None:
        """Add ``d/dparam <J dx, dy>`` into ``self.grads`` (if trainable): the parameter gradient
        of the tangent pass for the tangent input ``dx`` and the output adjoint ``dy``."""
        self._tangent_backward(dx, dy, self._pending_cache("tangent_backward"))

    def tangent_unsupported(self) -> str | None:
        """None if this layer's own class derives the methods, else why not."""
        if vars(type(self)).get("second_order", False):
            return None
        return "no tangent (second-order) pass is derived for it"

    def _pending_cache(self, method: str) -> Any:
        if not self._pending:
            raise RuntimeError(f"{self.name}: {method}() needs a forward(training=True) before it, and no backward()")
        return self._cache

    def _input_gradient(self, dy: Any, cache: Any) -> Any:
        raise NotImplementedError(f"{self.name} ({type(self).__name__}): {self.tangent_unsupported()}")

    def _tangent(self, dx: Any, cache: Any) -> Any:
        raise NotImplementedError(f"{self.name} ({type(self).__name__}): {self.tangent_unsupported()}")

    def _tangent_backward(self, dx: Any, dy: Any, cache: Any) -> None:
        """Layers without parameters: nothing to add."""
