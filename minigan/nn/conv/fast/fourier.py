"""Transposed convolutions and convolutions by the convolution theorem, in real matrix products.

Stride 1. A stride-1 transposed convolution is a *full* 2-D convolution followed by a crop::

    yfull[n, a, b, f] = sum_{p, q, c} x[n, p, q, c] K[a - p, b - q, f, c]      y = crop(yfull)

On a circular grid of S_h x S_w points large enough that the kept outputs pick up nothing
that wraps around (:func:`grid_length`; at most (H + kh - 1) x (W + kw - 1)), the discrete
Fourier transform turns the convolution into one small matrix product per frequency::

    Yhat[u, v] = Xhat[u, v] @ Khat[u, v]      Xhat[u, v]: (N, C), Khat[u, v]: (C, F), complex

Strides s, by output phases. Output pixel ``s a + r`` (one axis; after the crop ``top``)
receives ``x[p] K[i]`` where ``s p + i - top = s a + r``, that is::

    a = p + u      for the tap i = s u + r + top      (r = (i - top) mod s, its phase)

so each of the s x s output phases (r_h, r_w) is a stride-1 full convolution of x with the
taps of that phase, placed at positions (u, v). With the phases as s*s blocks of output
channels ("depth to space": the big side's pixel (s a + r_h, s b + r_w) is pixel (a, b),
channel block (r_h, r_w)), the whole layer is one stride-1 product: Khat[u, v] is (C, s*s*F),
each tap in its phase's block. With s = 1 there is one phase and u = i - top.

Real signals have Hermitian spectra: frequency (-u, -v) carries the conjugate of (u, v), so
one of each conjugate pair is enough (:func:`frequencies`), and the few frequencies that are
their own conjugate (u and v each 0 or half the grid) carry real values. A complex product
costs three real ones (Gauss): with X = A + iB and K = P + iQ,

    T1 = A P,   T2 = B Q,   T3 = (A + B)(P + Q)   ->   Re Y = T1 - T2,  Im Y = T3 - T1 - T2

and a real frequency costs one. The sums and differences fold into the transforms, so every
step is a real matrix product (no FFT: on 7x7 images a matrix transforms all images and
channels at once). With 3B blocks (three per complex frequency, one per real one):

1. ``xhat = T_x @ x``: rows ``[Re; Im; Re + Im]`` of the DFT at the H*W input pixels (and
   ``Re`` for the real frequencies), a (3B, H*W) matrix, so ``xhat`` holds A, B and A + B;
2. ``yhat = xhat @ khat``, one (N, C) x (C, s*s*F) product for each of the 3B blocks
   (``khat = T_k @ K`` holds P, Q and P + Q the same way);
3. ``y = U_y @ yhat``: the inverse DFT evaluated at the kept output pixels only (per phase),
   with T1, T2, T3 recombined into Re Y and Im Y inside its matrix.

Each step is linear, so the adjoint is the three steps transposed, in reverse order. That
adjoint is the Conv2D with the same kernel (docs/transposed_convolution.md), so one set of
matrices serves both layers: a Conv2DTranspose runs steps 1-3 forward and their transposes
for its input gradient; a Conv2D the other way round. The kernel gradient comes from the two
sides' spectra (``dL/dkhat = xhat^T dyhat`` per block, then ``T_k^T``): the exact gradient of
what the forward computes, with no derivation of its own.

:func:`worthwhile` decides, per layer, whether this saves work (docs/performance.md says which
layers of the zoo take it); ``algorithm="fourier"`` asks for it. tests/nn/test_fast_paths.py checks it against
minigan.nn.conv.reference and tests/nn/test_gradients.py against finite differences.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan.backend import get_array_module
from minigan.backend import xp as backend_xp
from minigan.nn.conv.fast.workspace import SCRATCH, Workspace
from minigan.nn.conv.geometry import Geometry

#: The block products must be matrix products worth the name: at least this many channels in and out.
MIN_CHANNELS = 16
#: Take the Fourier path where its three products cost at most this share of im2col's multiply-adds.
MAX_WORK_RATIO = 0.55


def phase_taps(k: int, stride: int, top: int) -> list[tuple[int, int]]:
    """(phase r, position u) of each kernel tap i = 0..k-1 along one axis: ``i - top = stride * u + r``."""
    return [divmod(i - top, stride)[::-1] for i in range(k)]


def grid_length(n: int, k: int, top: int, kept: int, stride: int = 1) -> int:
    """The shortest circular grid on which the ``kept`` outputs of every phase pick up no
    wrapped-around terms.

    Input position p (0 <= p < n) and tap position u add up to the output position p + u, so
    the sums lie in [u_min, n - 1 + u_max]. On a grid of S points, kept position a also
    receives the sums a + S and a - S; both lie outside that range when ``S >= n + u_max`` and
    ``S >= kept - u_min``. (The DCGAN's 7x7 'same' layer needs S = 9, not 11.)
    """
    positions = [u for _, u in phase_taps(k, stride, top)]
    return max(n + max(positions), kept - min(positions), 1)


def transform_grid(g: Geometry) -> tuple[int, int]:
    """(S_h, S_w): :func:`grid_length` along both axes; the small side is ``g.out_hw``."""
    axes = zip(g.out_hw, g.kernel_hw, g.strides, g.crop, g.in_hw, strict=True)
    return tuple(grid_length(n, k, top, big // s, s) for n, k, s, top, big in axes)


def frequencies(grid: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The frequencies (u, v) a real signal on ``grid`` needs, as two (count, 2) arrays: the
    complex ones, one of each conjugate pair ((u, v) and (-u, -v) mod the grid carry conjugate
    values), and the real ones, each its own conjugate (u and v each 0 or half the grid)."""
    sh, sw = grid
    u, v = (axis.ravel() for axis in np.meshgrid(np.arange(sh), np.arange(sw), indexing="ij"))
    index, mirror = u * sw + v, (-u % sh) * sw + (-v % sw)
    uv = np.stack([u, v], axis=1)
    return uv[index < mirror], uv[index == mirror]


def frequency_blocks(grid: tuple[int, int]) -> int:
    """3 real products for each complex frequency, 1 for each real one."""
    complex_, real = frequencies(grid)
    return 3 * len(complex_) + len(real)


def fits(g: Geometry) -> bool:
    """The path splits the big side (``g.in_hw``) into whole phases: a multiple of the strides."""
    return all(big % s == 0 for big, s in zip(g.in_hw, g.strides, strict=True))


def worthwhile(g: Geometry) -> bool:
    """True where the path fits and saves work: enough channels on both sides for fast block
    products, and its three products at most ``MAX_WORK_RATIO`` of im2col's multiply-adds
    (Ho*Wo*kh*kw*C*F per image, small side Ho x Wo with F channels, big side C)."""
    if not fits(g) or min(g.channels, g.filters) < MIN_CHANNELS:
        return False
    (sh, sw), (kh, kw) = g.strides, g.kernel_hw
    small, big = g.out_hw[0] * g.out_hw[1], g.in_hw[0] * g.in_hw[1]  # big: big / (sh*sw) pixels of sh*sw phases
    fourier = frequency_blocks(transform_grid(g)) * (small * g.filters + g.filters * sh * sw * g.channels
                                                    + big * g.channels)
    return fourier <= MAX_WORK_RATIO * small * kh * kw * g.filters * g.channels


def _angles(uv: np.ndarray, grid: tuple[int, int], positions: list[tuple[int, int]]) -> np.ndarray:
    """theta[f, j] = 2 pi (u_f a_j / S_h + v_f c_j / S_w) for frequencies ``uv`` and pixels ``positions``."""
    a, c = np.array(positions, dtype=np.float64).T
    return 2 * np.pi * (np.outer(uv[:, 0], a) / grid[0] + np.outer(uv[:, 1], c) / grid[1])


def spectrum_rows(grid: tuple[int, int], positions: list[tuple[int, int]]) -> np.ndarray:
    """(blocks, len(positions)): the DFT of a signal that is zero outside ``positions``, as the
    rows ``[Re; Im; Re + Im]`` for the complex frequencies (A, B and A + B of Gauss' products)
    and ``Re`` for the real ones."""
    complex_, real = frequencies(grid)
    theta = _angles(complex_, grid, positions)
    re, im = np.cos(theta), -np.sin(theta)
    return np.concatenate([re, im, re + im, np.cos(_angles(real, grid, positions))])


def inverse_columns(grid: tuple[int, int], positions: list[tuple[int, int]]) -> np.ndarray:
    """(len(positions), blocks): the real inverse DFT at ``positions``, taking Gauss' T1, T2, T3
    for each complex frequency and the one product of each real frequency.

    A complex frequency stands for itself and its conjugate, so it counts twice::

        2 Re(Y e^{i theta}) = 2 (Re Y cos - Im Y sin) = 2 ((cos + sin) T1 - (cos - sin) T2 - sin T3)
    """
    complex_, real = frequencies(grid)
    theta = _angles(complex_, grid, positions)
    cos, sin = 2 * np.cos(theta), 2 * np.sin(theta)
    columns = np.concatenate([cos + sin, -(cos - sin), -sin, np.cos(_angles(real, grid, positions))])
    return columns.T / (grid[0] * grid[1])


def _grid_positions(rows: range, cols: range) -> list[tuple[int, int]]:
    return [(a, b) for a in rows for b in cols]


class Fourier:
    """conv2d, conv2d_transpose and conv2d_kernel_grad of one :class:`Geometry` by the steps above.

    In this module's names: the geometry's Conv2D maps the big side (Ho, Wo) = ``in_hw`` (F
    channels, a multiple of the strides) to the small side (H, W) = ``out_hw`` (C channels); its
    adjoint, the transposed convolution, maps the small side to the big one with output
    ``yfull[top :, left :]`` (``crop``). The kernel (kh, kw, F, C) is Conv2D's layout from the
    big side to the small one and Keras' Conv2DTranspose layout from the small side to the big.

    The kernel gradient needs both sides' spectra, which the calls before it computed: each
    call remembers the array it transformed and its spectrum, and :meth:`conv2d_kernel_grad`
    reuses a spectrum when it is given that very array (a layer's training input stays
    unchanged until its backward), then forgets them.
    """

    def __init__(self, geometry: Geometry, dtype: Any) -> None:
        (h, w), (kh, kw), (sh, sw), (top, left) = geometry.out_hw, geometry.kernel_hw, geometry.strides, geometry.crop
        ho, wo = geometry.in_hw
        grid = transform_grid(geometry)
        self.geometry, self.strides = geometry, (sh, sw)
        self.blocks = frequency_blocks(grid)
        rows, cols = phase_taps(kh, sh, top), phase_taps(kw, sw, left)
        xp = backend_xp()
        inputs = _grid_positions(range(h), range(w))
        taps = [(u, v) for _, u in rows for _, v in cols]  # kernel taps (i, j) in row-major order
        outputs = _grid_positions(range(ho // sh), range(wo // sw))  # the big side's pixels, per phase
        self.t_x = xp.asarray(spectrum_rows(grid, inputs), dtype=dtype)  # (3B, H*W)
        self.t_k = xp.asarray(spectrum_rows(grid, taps), dtype=dtype)  # (3B, kh*kw)
        self.u_y = xp.asarray(inverse_columns(grid, outputs), dtype=dtype)  # (Ho*Wo/(sh*sw), 3B)
        self.tap_phase = xp.asarray([r * sw + q for r, _ in rows for q, _ in cols])  # each tap's phase block
        self.workspace = Workspace()  # what outlives a call: the spectra kept for the kernel gradient
        self._phase_kernels: dict[bool, Any] = {}  # see _phase_kernel: zero-filled once
        self._remembered: dict[str, tuple[Any, Any]] = {}  # side -> (array, its spectrum)

    # Layouts: pixels first, each pixel's phases as channel blocks; kernels in phase blocks.

    def _pixels(self, a: Any, strides: tuple[int, int], name: str) -> Any:
        """(N, H, W, C) -> (H*W/(sh*sw), N*sh*sw*C): pixel (a, b) holds the phases
        (s_h a + r_h, s_w b + r_w) of every image, in the workspace array ``name``."""
        xp = get_array_module(a)
        (n, h, w, c), (sh, sw) = a.shape, strides
        out = SCRATCH.get(name, (h // sh * (w // sw), n * sh * sw * c), a.dtype, xp)
        phases = a.reshape(n, h // sh, sh, w // sw, sw, c).transpose(1, 3, 0, 2, 4, 5)
        xp.copyto(out.reshape(phases.shape), phases)
        return out

    @staticmethod
    def _from_pixels(a: Any, shape: tuple[int, ...], strides: tuple[int, int]) -> Any:
        """The inverse of :meth:`_pixels`, into a new (N, H, W, C) array (always a copy: with one
        image and strides 1 the layout is already right, and ``a`` is workspace memory)."""
        xp = get_array_module(a)
        (n, h, w, c), (sh, sw) = shape, strides
        out = xp.empty(shape, dtype=a.dtype)
        blocks = a.reshape(h // sh, w // sw, n, sh, sw, c).transpose(2, 0, 3, 1, 4, 5)
        xp.copyto(out.reshape(blocks.shape), blocks)
        return out

    def _kernel_blocks(self, kernel: Any, transposed: bool) -> Any:
        """khat (3B, C, sh*sw*F) from a (kh, kw, F, C) kernel, or its transpose (3B, sh*sw*F, C)."""
        taps, c = kernel.shape[0] * kernel.shape[1], kernel.shape[-1]
        blocks = self._phase_kernel(kernel, transposed)
        khat = SCRATCH.matmul(self.t_k, blocks.reshape(taps, -1), "khat_t" if transposed else "khat")
        return khat.reshape(self.blocks, -1, c) if transposed else khat.reshape(self.blocks, c, -1)

    def _phase_kernel(self, kernel: Any, transposed: bool) -> Any:
        """The kernel's taps, each (F, C) slice in its own phase block and zeros in the others:
        (kh*kw, sh*sw, F, C), or (kh*kw, C, sh*sw, F) for ``transposed=False``. The zeros are
        written once; later calls overwrite only the taps' own blocks."""
        xp = get_array_module(kernel)
        kh, kw, f, c = kernel.shape
        taps, phases = kh * kw, self.strides[0] * self.strides[1]
        if phases == 1 and transposed:
            return kernel.reshape(taps, 1, f, c)  # one phase: the kernel itself
        shape = (taps, phases, f, c) if transposed else (taps, c, phases, f)
        blocks = self._phase_kernels.get(transposed)
        if blocks is None or blocks.shape != shape or blocks.dtype != kernel.dtype:
            blocks = self._phase_kernels[transposed] = xp.zeros(shape, dtype=kernel.dtype)
        slices = kernel.reshape(taps, f, c)
        if transposed:
            blocks[xp.arange(taps), self.tap_phase] = slices
        else:
            blocks[xp.arange(taps), :, self.tap_phase] = slices.transpose(0, 2, 1)
        return blocks

    # The three steps, each in both directions.

    def _spectrum(self, a: Any, side: str) -> Any:
        """Step 1 of the small side (N, H, W, C) or step 3 transposed of the big side (N, Ho, Wo, F):
        (3B, N, C) or (3B, N, sh*sw*F); remembered with ``a``."""
        if side == "small":
            matrix, pixels = self.t_x, self._pixels(a, (1, 1), "small")
        else:
            matrix, pixels = self.u_y.T, self._pixels(a, self.strides, "big")
        spectrum = self.workspace.matmul(matrix, pixels, f"{side}_spectrum").reshape(self.blocks, a.shape[0], -1)
        self._remembered[side] = (a, spectrum)
        return spectrum

    def _remembered_spectrum(self, a: Any, side: str) -> Any:
        array, spectrum = self._remembered.get(side, (None, None))
        return spectrum if array is a else self._spectrum(a, side)

    def _small_image(self, spectrum: Any, shape: tuple[int, ...]) -> Any:
        """Step 1 transposed: (3B, N, C) -> a new (N, H, W, C) array."""
        pixels = SCRATCH.matmul(self.t_x.T, spectrum.reshape(self.blocks, -1), "small")
        return self._from_pixels(pixels, shape, (1, 1))

    def _big_image(self, spectrum: Any, shape: tuple[int, ...]) -> Any:
        """Step 3: (3B, N, sh*sw*F) -> a new (N, Ho, Wo, F) array."""
        pixels = SCRATCH.matmul(self.u_y, spectrum.reshape(self.blocks, -1), "big")
        return self._from_pixels(pixels, shape, self.strides)

    # The three functions of minigan.nn.conv.reference.

    def conv2d(self, x: Any, kernel: Any) -> Any:
        """Big side (N, Ho, Wo, F) -> small side (N, H, W, C): the three steps transposed."""
        g = self.geometry
        product = SCRATCH.matmul(self._spectrum(x, "big"), self._kernel_blocks(kernel, transposed=True),
                                 "small_product")
        return self._small_image(product, (x.shape[0], *g.out_hw, g.filters))

    def conv2d_transpose(self, dy: Any, kernel: Any) -> Any:
        """Small side (N, H, W, C) -> big side (N, Ho, Wo, F): steps 1-3."""
        g = self.geometry
        product = SCRATCH.matmul(self._spectrum(dy, "small"), self._kernel_blocks(kernel, transposed=False),
                                 "big_product")
        return self._big_image(product, (dy.shape[0], *g.in_hw, g.channels))

    def conv2d_kernel_grad(self, x: Any, dy: Any) -> Any:
        """dL/dK (kh, kw, F, C) = T_k^T (xhat^T dyhat per block) for ``x`` on the big side and ``dy``
        on the small one, each tap picked from its phase block."""
        xp = get_array_module(x)
        (kh, kw), f, c = self.geometry.kernel_hw, self.geometry.channels, self.geometry.filters
        big, small = self._remembered_spectrum(x, "big"), self._remembered_spectrum(dy, "small")
        self._remembered.clear()
        dkhat = SCRATCH.matmul(big.transpose(0, 2, 1), small, "dkhat")  # (3B, sh*sw*F, C)
        per_phase = (self.t_k.T @ dkhat.reshape(self.blocks, -1)).reshape(kh * kw, -1, f, c)
        return per_phase[xp.arange(kh * kw), self.tap_phase].reshape(kh, kw, f, c)
