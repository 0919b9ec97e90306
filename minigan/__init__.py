"""minigan: a from-scratch, autograd-free neural-network engine for GANs (NumPy / CuPy)."""

from minigan import losses, nn, optim
from minigan.backend import floatx, get_backend, seed, set_backend, set_floatx

__version__ = "0.1.0"

__all__ = ["__version__", "floatx", "get_backend", "losses", "nn", "optim", "seed", "set_backend", "set_floatx"]
