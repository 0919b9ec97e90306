"""minigan's layers: each with a forward pass, a hand-written backward pass and its formula."""

from minigan.nn.activations import LeakyReLU, ReLU, Sigmoid, Tanh
from minigan.nn.conv import Conv2D, Conv2DTranspose
from minigan.nn.dense import Dense
from minigan.nn.dropout import Dropout
from minigan.nn.flat import FlatParameters, flatten_parameters
from minigan.nn.layer import Layer
from minigan.nn.merge import Concatenate, Parallel
from minigan.nn.normalization import BatchNormalization
from minigan.nn.sequential import Sequential
from minigan.nn.shape import Flatten, Reshape
from minigan.nn.spectral_normalization import SpectralNormalization
from minigan.nn.sync_normalization import SyncBatchNormalization

__all__ = [
    "BatchNormalization",
    "Concatenate",
    "Conv2D",
    "Conv2DTranspose",
    "Dense",
    "Dropout",
    "FlatParameters",
    "Flatten",
    "Layer",
    "LeakyReLU",
    "Parallel",
    "ReLU",
    "Reshape",
    "Sequential",
    "Sigmoid",
    "SpectralNormalization",
    "SyncBatchNormalization",
    "Tanh",
    "flatten_parameters",
]
