"""Turning stored uint8 pixels into the arrays the networks see."""

from __future__ import annotations

import numpy as np

from minigan.backend import floatx

SCALES = ("[-1,1]", "[0,1]", "uint8")


def check_scale(scale: str) -> str:
    """``scale`` if it is one of :data:`SCALES`, else a ValueError saying which are allowed."""
    if scale not in SCALES:
        raise ValueError(f"scale: expected one of {', '.join(repr(s) for s in SCALES)}, got {scale!r}")
    return scale


def scale_images(images: np.ndarray, scale: str) -> np.ndarray:
    """uint8 pixels as ``floatx()`` (float32) in [-1, 1] (``"[-1,1]"``, for a tanh generator) or
    [0, 1] (``"[0,1]"``), or unchanged (``"uint8"``). 0 maps to -1 or 0 and 255 to exactly 1."""
    if check_scale(scale) == "uint8":
        return images
    x = images.astype(floatx())
    if scale == "[-1,1]":
        x /= 127.5
        x -= 1
    else:
        x /= 255
    return x
