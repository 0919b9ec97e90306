"""Argument checks and sizes shared by the network builders."""

from __future__ import annotations

from collections.abc import Sequence

ImageShape = tuple[int, int, int]


def scaled(channels: Sequence[int], width: float, what: str) -> list[int]:
    if width <= 0:
        raise ValueError(f"{what}: expected width > 0, got {width}")
    return [max(1, round(c * width)) for c in channels]


def check_image_shape(image_shape: Sequence[int], what: str) -> ImageShape:
    shape = tuple(int(d) for d in image_shape)
    if len(shape) != 3 or shape[0] % 4 or shape[1] % 4 or min(shape) < 1:
        raise ValueError(
            f"{what}: expected image_shape (height, width, channels) with height and width divisible by 4, "
            f"got {tuple(image_shape)}"
        )
    return shape  # type: ignore[return-value]


def check_classes(num_classes: int | None, what: str) -> int | None:
    if num_classes is not None and int(num_classes) < 2:
        raise ValueError(f"{what}: expected num_classes >= 2 (or None), got {num_classes}")
    return None if num_classes is None else int(num_classes)


def check_latent(latent_dim: int, what: str) -> int:
    if int(latent_dim) < 1:
        raise ValueError(f"{what}: expected latent_dim >= 1, got {latent_dim}")
    return int(latent_dim)


def label_layer_units(num_classes: int | None, label_units: int | None, width: float, what: str) -> int | None:
    if label_units is None:
        return None
    if num_classes is None or int(label_units) < 1:
        raise ValueError(f"{what}: expected label_units >= 1 with num_classes, got {label_units} and {num_classes}")
    return scaled([label_units], width, what)[0]
