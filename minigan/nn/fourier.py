"""The stride-1 transposed convolution by the convolution theorem, in real matrix products.

A stride-1 transposed convolution is a *full* 2-D convolution followed by a crop::

    yfull[n, a, b, f] = sum_{p, q, c} x[n, p, q, c] K[a - p, b - q, f, c]      y = crop(yfull)

On a circular grid of S_h x S_w points large enough that the kept outputs pick up nothing
that wraps around (:func:`grid_length`; at most (H + kh - 1) x (W + kw - 1)), the discrete
Fourier transform turns the convolution into one small matrix product per frequency::

    Yhat[u, v] = Xhat[u, v] @ Khat[u, v]      Xhat[u, v]: (N, C), Khat[u, v]: (C, F), complex

Real signals need only the B = S_h * (S_w // 2 + 1) frequencies with v <= S_w / 2. A complex
product costs three real ones (Gauss): with X = A + iB and K = P + iQ,

    T1 = A P,   T2 = B Q,   T3 = (A + B)(P + Q)   ->   Re Y = T1 - T2,  Im Y = T3 - T1 - T2

and the sums and differences fold into the transforms, so every step is a real matrix
product (no FFT: on 7x7 images a matrix transforms all images and channels at once):

1. ``xhat = T_x @ x``: rows ``[Re; Im; Re + Im]`` of the DFT at the H*W input pixels,
   a (3B, H*W) matrix, so ``xhat`` holds A, B and A + B for every frequency;
2. ``yhat = xhat @ khat``, one (N, C) x (C, F) product for each of the 3B blocks
   (``khat = T_k @ K`` holds P, Q and P + Q the same way);
3. ``y = U_y @ yhat``: the inverse DFT evaluated at the Ho*Wo pixels that survive the crop
   only, with T1, T2, T3 recombined into Re Y and Im Y inside its (Ho*Wo, 3B) matrix.

For the DCGAN's first transposed convolution (7x7 input, 5x5 kernel, 256 -> 128 channels,
a 9x9 grid, B = 45) step 2 costs 3 * 45 multiply-adds per image and channel pair instead of
im2col's 49 * 25: 9x fewer. Each step is linear, so the backward pass is the three steps transposed, in
reverse order (``dL/dA = dL/dY B^T`` and ``dL/dB = A^T dL/dY`` for ``Y = A B``): it is the
exact gradient of what the forward computes, with no derivation of its own.

:class:`minigan.nn.conv.Conv2DTranspose` uses this for strides 1 when it saves work
(:func:`pays_off`); tests/test_fast_paths.py checks it against the im2col path and
tests/test_gradients.py against finite differences.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan.backend import get_array_module
from minigan.backend import xp as backend_xp
from minigan.nn.workspace import Workspace

#: The block products must be matrix products worth the name: at least this many channels in and out.
MIN_CHANNELS = 16


def pays_off(blocks: int, direct: int, channels_in: int, channels_out: int) -> bool:
    """True when the block products (``blocks`` multiply-adds per image and channel pair)
    cost under half of im2col's ``direct`` ones, with enough channels for fast products."""
    return blocks < 0.5 * direct and min(channels_in, channels_out) >= MIN_CHANNELS


def grid_length(n: int, k: int, top: int, kept: int) -> int:
    """The shortest circular grid on which ``yfull[top : top + kept]`` of a full convolution
    (length ``n + k - 1``) picks up no wrapped-around terms.

    On a grid of S points, output ``a`` also receives ``yfull[a + S]`` and ``yfull[a - S]``;
    both are outside the full convolution when ``S >= n + k - 1 - top`` and
    ``S >= top + kept``. (The DCGAN's 7x7 'same' layer needs S = 9, not 11.)
    """
    return max(n + k - 1 - top, top + kept, n, k)


def transform_grid(hw: tuple[int, int], kernel_hw: tuple[int, int], crop: tuple[int, int],
                   out_hw: tuple[int, int]) -> tuple[int, int]:
    """(S_h, S_w): :func:`grid_length` along both axes, for the arguments of :class:`FourierConvTranspose`."""
    return tuple(grid_length(*axis) for axis in zip(hw, kernel_hw, crop, out_hw, strict=True))


def frequency_blocks(grid: tuple[int, int]) -> int:
    """3B: three real products for each of the B frequencies a real signal on ``grid`` needs."""
    return 3 * grid[0] * (grid[1] // 2 + 1)


def _phases(grid: tuple[int, int], positions: list[tuple[int, int]]) -> np.ndarray:
    """theta[b, j] = 2 pi (u_b a_j / S_h + v_b c_j / S_w) for the B real-signal frequencies."""
    sh, sw = grid
    u, v = np.meshgrid(np.arange(sh), np.arange(sw // 2 + 1), indexing="ij")
    a, c = np.array(positions, dtype=np.float64).T
    return 2 * np.pi * (np.outer(u.ravel(), a) / sh + np.outer(v.ravel(), c) / sw)


def dft_matrix(grid: tuple[int, int], positions: list[tuple[int, int]]) -> np.ndarray:
    """(2B, len(positions)): the DFT of a signal that is zero outside ``positions``."""
    theta = _phases(grid, positions)
    return np.concatenate([np.cos(theta), -np.sin(theta)])


def inverse_dft_matrix(grid: tuple[int, int], positions: list[tuple[int, int]]) -> np.ndarray:
    """(len(positions), 2B): the real inverse DFT at ``positions`` from the B frequencies.

    Frequencies 0 < v < S_w / 2 stand for themselves and their mirror image (the conjugate),
    so they count twice.
    """
    sh, sw = grid
    theta = _phases(grid, positions)
    v = np.tile(np.arange(sw // 2 + 1), sh)
    twice = np.where((v == 0) | (2 * v == sw), 1.0, 2.0)[:, None]
    return np.concatenate([twice * np.cos(theta), -twice * np.sin(theta)]).T / (sh * sw)


def gauss_rows(dft: np.ndarray) -> np.ndarray:
    """(2B, P) rows ``[Re; Im]`` -> (3B, P) rows ``[Re; Im; Re + Im]``."""
    re, im = np.split(dft, 2)
    return np.concatenate([re, im, re + im])


def gauss_columns(inverse: np.ndarray) -> np.ndarray:
    """(O, 2B) columns ``[U_re | U_im]`` -> (O, 3B) taking T1, T2, T3 instead of Re, Im::

        U_re (T1 - T2) + U_im (T3 - T1 - T2) = (U_re - U_im) T1 - (U_re + U_im) T2 + U_im T3
    """
    u_re, u_im = np.split(inverse, 2, axis=1)
    return np.concatenate([u_re - u_im, -(u_re + u_im), u_im], axis=1)


def _grid_positions(rows: range, cols: range) -> list[tuple[int, int]]:
    return [(a, b) for a in rows for b in cols]


class FourierConvTranspose:
    """The transforms of a stride-1 transposed convolution of (H, W) images with a (kh, kw)
    kernel whose output is ``yfull[top : top + Ho, left : left + Wo]``."""

    def __init__(self, hw: tuple[int, int], kernel_hw: tuple[int, int], crop: tuple[int, int],
                 out_hw: tuple[int, int], dtype: Any) -> None:
        (h, w), (kh, kw), (top, left), (ho, wo) = hw, kernel_hw, crop, out_hw
        grid = transform_grid(hw, kernel_hw, crop, out_hw)
        self.blocks = frequency_blocks(grid)
        xp = backend_xp()
        inputs = _grid_positions(range(h), range(w))
        taps = _grid_positions(range(kh), range(kw))
        outputs = _grid_positions(range(top, top + ho), range(left, left + wo))
        self.t_x = xp.asarray(gauss_rows(dft_matrix(grid, inputs)), dtype=dtype)  # (3B, H*W)
        self.t_k = xp.asarray(gauss_rows(dft_matrix(grid, taps)), dtype=dtype)  # (3B, kh*kw)
        self.u_y = xp.asarray(gauss_columns(inverse_dft_matrix(grid, outputs)), dtype=dtype)  # (Ho*Wo, 3B)
        self.workspace = Workspace()  # the large temporaries, reused from call to call

    def _pixels(self, a: Any, name: str) -> Any:
        """(N, H, W, C) -> (H*W, N*C), pixels first, in the workspace array ``name``."""
        xp = get_array_module(a)
        n, c = a.shape[0], a.shape[-1]
        out = self.workspace.get(name, (a[0].size // c, n * c), a.dtype, xp)
        xp.copyto(out.reshape(-1, n, c), a.reshape(n, -1, c).transpose(1, 0, 2))
        return out

    @staticmethod
    def _from_pixels(a: Any, shape: tuple[int, ...]) -> Any:
        """(H*W, N*C) -> a new (N, H, W, C) array."""
        n, c = shape[0], shape[-1]
        return get_array_module(a).ascontiguousarray(a.reshape(-1, n, c).transpose(1, 0, 2)).reshape(shape)

    def _kernel_blocks(self, kernel: Any, transposed: bool) -> Any:
        """khat (3B, C, F) from a (kh, kw, F, C) kernel, or its transpose (3B, F, C)."""
        xp = get_array_module(kernel)
        kh, kw, f, c = kernel.shape
        k = kernel if transposed else xp.ascontiguousarray(kernel.transpose(0, 1, 3, 2))
        name = "khat_t" if transposed else "khat"
        return self.workspace.matmul(self.t_k, k.reshape(kh * kw, f * c), name).reshape(self.blocks, *k.shape[2:])

    def forward(self, x: Any, kernel: Any, out_shape: tuple[int, ...], training: bool) -> tuple[Any, Any]:
        """``y`` (N, Ho, Wo, F) and the cache ``xhat`` (3B, N, C) for backward."""
        n, ws = x.shape[0], self.workspace
        xhat = ws.matmul(self.t_x, self._pixels(x, "x"), "xhat" if training else "xhat_inference")
        xhat = xhat.reshape(self.blocks, n, -1)
        yhat = ws.matmul(xhat, self._kernel_blocks(kernel, transposed=False), "yhat")  # (3B, N, F)
        y = self._from_pixels(ws.matmul(self.u_y, yhat.reshape(self.blocks, -1), "y"), (n, *out_shape))
        return y, xhat

    def backward(self, dy: Any, xhat: Any, x_shape: tuple[int, ...], kernel: Any,
                 input_grad: bool, kernel_grad: bool) -> tuple[Any, Any]:
        """(dL/dx or None, dL/dK or None): the forward's three products transposed."""
        n, ws = dy.shape[0], self.workspace
        dyhat = ws.matmul(self.u_y.T, self._pixels(dy, "dy"), "dyhat").reshape(self.blocks, n, -1)  # (3B, N, F)
        dx = dk = None
        if input_grad:  # dL/dxhat = dL/dyhat khat^T
            dxhat = ws.matmul(dyhat, self._kernel_blocks(kernel, transposed=True), "dxhat")  # (3B, N, C)
            dx = self._from_pixels(ws.matmul(self.t_x.T, dxhat.reshape(self.blocks, -1), "dx"), x_shape)
        if kernel_grad:  # (dL/dkhat)^T = dL/dyhat^T xhat, already in the kernel's (F, C) order
            dkhat = ws.matmul(dyhat.transpose(0, 2, 1), xhat, "dkhat")  # (3B, F, C)
            dk = (self.t_k.T @ dkhat.reshape(self.blocks, -1)).reshape(kernel.shape)
        return dx, dk
