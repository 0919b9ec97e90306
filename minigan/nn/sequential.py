"""Sequential: a chain of layers, ``y = f_k(... f_2(f_1(x)))``, backward in reverse order."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from minigan.nn.layer import Layer


class Sequential(Layer):
    """Chain layers as Keras' ``Sequential`` does.

    ``params``, ``grads`` and ``state`` are the layers' dicts merged under keys
    ``"<layer name>/<param>"`` (``"dense/kernel"``, ``"conv2d_1/bias"``); the arrays are
    the layers' own, so an optimizer updating them in place updates the layers.
    Layer names are made unique within the model, as Keras does (``conv2d``, ``conv2d_1``).
    """

    def __init__(
        self, layers: Iterable[Layer] = (), input_shape: tuple[int, ...] | None = None, name: str | None = None
    ) -> None:
        # A container: no parameters of its own, so Layer.__init__'s storage is not made.
        self.name = name or "sequential"
        self.layers: list[Layer] = []
        self.built = False
        self.input_shape: tuple[int, ...] | None = None
        self.dtype = None
        for layer in layers:
            self.add(layer)
        if input_shape is not None:
            self.build_for(input_shape)

    def add(self, layer: Layer) -> None:
        """Append a layer, renaming it ``name_1``, ``name_2``, ... if its name is taken."""
        if not isinstance(layer, Layer):
            raise ValueError(f"{self.name}: expected a minigan layer, got {type(layer).__name__}")
        taken = {existing.name for existing in self.layers}
        base, k = layer.name, 0
        while layer.name in taken:
            k += 1
            layer.name = f"{base}_{k}"
        self.layers.append(layer)

    # -- building ---------------------------------------------------------------------
    def build_for(self, input_shape: tuple[int, ...], dtype: Any = None) -> None:
        shape = input_shape  # each layer checks its own (a Parallel first layer takes a list)
        self.input_shape = tuple(shape)
        for layer in self.layers:
            if not layer.built:
                layer.build_for(shape, dtype)
            shape = layer.output_shape(shape)
        self.dtype = self.layers[0].dtype if self.layers else None
        self.built = True

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        for layer in self.layers:
            input_shape = layer.output_shape(input_shape)
        return input_shape

    # -- the contract -----------------------------------------------------------------
    def forward(self, x: Any, training: bool = True) -> Any:
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def backward(self, dy: Any, input_grad: bool = True) -> Any:
        """Back through the layers in reverse order; ``input_grad`` goes to the first layer."""
        if not self.layers:
            return dy if input_grad else None
        for layer in reversed(self.layers[1:]):
            dy = layer.backward(dy)
        return self.layers[0].backward(dy, input_grad)

    def discard(self) -> None:
        for layer in self.layers:
            layer.discard()

    def zero_grad(self) -> None:
        for layer in self.layers:
            layer.zero_grad()

    # -- the merged dicts -------------------------------------------------------------
    def _merged(self, attribute: str) -> dict[str, Any]:
        return {
            f"{layer.name}/{key}": value
            for layer in self.layers
            for key, value in getattr(layer, attribute).items()
        }

    @property  # type: ignore[override]
    def params(self) -> dict[str, Any]:
        return self._merged("params")

    @property  # type: ignore[override]
    def grads(self) -> dict[str, Any]:
        return self._merged("grads")

    @property  # type: ignore[override]
    def state(self) -> dict[str, Any]:
        return self._merged("state")

    @property  # type: ignore[override]
    def trainable(self) -> bool:
        return all(layer.trainable for layer in self.layers)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        for layer in self.layers:
            layer.trainable = value

    # -- reporting --------------------------------------------------------------------
    def summary(self, print_fn: Any = print) -> str:
        """Print (and return) each layer's output shape and parameter count, like Keras."""
        if not self.built:
            raise RuntimeError(f"{self.name}: summary() needs a built model; give input_shape or call forward once")
        lines = [f'Model: "{self.name}"', f"{'Layer (type)':<46}{'Output Shape':<22}{'Param #':>12}", "=" * 80]
        shape = self.input_shape
        for layer in self.layers:
            shape = layer.output_shape(shape)
            label = f"{layer.name} ({type(layer).__name__})"
            lines.append(f"{label:<45} {str((None, *shape)):<22}{layer.count_params():>12,}")
        n_state = sum(v.size for v in self.state.values())
        lines += [
            "=" * 80,
            f"Total params: {self.count_params() + n_state:,}",
            f"Trainable params: {self.count_params():,}",
            f"Non-trainable params: {n_state:,}",
        ]
        text = "\n".join(lines)
        print_fn(text)
        return text
