"""The generator without BatchNorm (for the BatchNorm study) keeps its shapes and gets its biases back."""

import numpy as np

from minigan import models, nn


def test_generator_without_batchnorm_has_no_batchnorm_and_uses_biases():
    g = models.dcgan_generator(width=0.1, batch_norm=False)
    assert not any(isinstance(layer, nn.BatchNormalization) for layer in g.layers)
    assert "dense/bias" in g.params and "conv2d_transpose/bias" in g.params
    assert "conv2d_transpose_2/bias" not in g.params  # the output layer is as in the tutorial
    images = g.forward(np.zeros((2, 100), np.float32), training=False)
    assert images.shape == (2, 28, 28, 1)
