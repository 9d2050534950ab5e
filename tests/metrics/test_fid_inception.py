"""FID Inception port: features against PyTorch's on the TorchScript original, preprocessing, converter checks.

The fixture fixtures/fid_reference.npz (8 32x32 uint8 images and their PyTorch features) was written by
`python tools/verify_fid_port.py --torch_python=<venv with torch> --fixture=tests/metrics/fixtures/fid_reference.npz`.
The feature test needs the converted weights: `make inception` (python tools/setup_inception.py) puts them in the
cache; without them it fails and says so.
"""
import os
import pathlib
import pickle

import numpy as np
import pytest
import tensorflow as tf

from bwgan_tf.io import images as images_lib
from bwgan_tf.metrics import fid_inception, fid_weights

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "fid_reference.npz"
# The port's own features of the same 8 images on the classic stack (TF 2.15, Keras 2), written by
# write_stack_fixture() below with that stack's python: the other stack must give the same to 1e-5 relative.
STACK_FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "fid_classic_features.npz"
STACK_REL_TOLERANCE = 1e-5
# Per-image relative L2 error of the 2048 features (the float32 port vs PyTorch float32; rounding only).
FEATURE_REL_TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def model():
    return fid_inception.build_model()


@pytest.fixture(scope="module")
def reference():
    with np.load(FIXTURE) as data:
        return data["images"], data["features"]


def _relative_errors(actual, expected):
    return np.linalg.norm(actual - expected, axis=1) / np.linalg.norm(expected, axis=1)


def test_port_matches_pytorch_features_on_the_fixture(model, reference):
    path = fid_inception.weights_path()
    if not os.path.isfile(path):
        pytest.fail(f"FID Inception weights missing at {path}: run `make inception` (python tools/setup_inception.py)")
    fid_inception.set_weights(model, path)
    images, expected = reference
    features = model(fid_inception.preprocess(images), training=False).numpy()
    assert features.shape == (len(images), fid_inception.FEATURE_DIM)
    errors = _relative_errors(features, expected)
    assert errors.max() < FEATURE_REL_TOLERANCE, errors
    # The tolerance separates images: features of different images are far apart (it can fail).
    assert _relative_errors(np.roll(features, 1, axis=0), expected).min() > 100 * FEATURE_REL_TOLERANCE


def _port_features(model, images):
    path = fid_inception.weights_path()
    if not os.path.isfile(path):
        pytest.fail(f"FID Inception weights missing at {path}: run `make inception` (python tools/setup_inception.py)")
    fid_inception.set_weights(model, path)
    return model(fid_inception.preprocess(images), training=False).numpy()


def write_stack_fixture():  # python -c "import tests.metrics.test_fid_inception as t; t.write_stack_fixture()"
    with np.load(FIXTURE) as data:
        images = data["images"]
    np.savez(STACK_FIXTURE, features=_port_features(fid_inception.build_model(), images), tensorflow=tf.__version__)


def test_both_stacks_give_the_same_features_from_the_same_cached_weights(model, reference):
    images, _ = reference
    with np.load(STACK_FIXTURE) as data:
        expected = data["features"]
    errors = _relative_errors(_port_features(model, images), expected)
    assert errors.max() < STACK_REL_TOLERANCE, errors


def test_graph_quirks(model):
    assert model.output_shape == (None, 2048)
    assert len(fid_inception.conv_layers(model)) == 94
    layer = lambda name: model.get_layer(fid_inception.layer_name(name))
    assert isinstance(layer("mixed_9/tower_2/pool"), tf.keras.layers.AveragePooling2D)
    assert isinstance(layer("mixed_10/tower_2/pool"), tf.keras.layers.MaxPooling2D)


def test_layer_names_have_no_slash_and_map_back_to_the_graph_names_the_weights_file_uses(model):
    assert not [layer.name for layer in model.layers if "/" in layer.name]  # Keras 3 refuses them
    convs = fid_inception.conv_layers(model)
    assert "mixed_10/tower_1/mixed/conv_1" in convs and "conv" in convs
    assert all(fid_inception.layer_name(name) == layer.name for name, layer in convs.items())


def _bilinear_half_pixel(image, size):
    """Reference resize of one [H, W, C] image: source coordinate (i + 0.5) * in / out - 0.5, clamped."""
    def axis_weights(n_in):
        src = np.clip((np.arange(size) + 0.5) * n_in / size - 0.5, 0, n_in - 1)
        low = np.floor(src).astype(int)
        return low, np.minimum(low + 1, n_in - 1), src - low
    r0, r1, fr = axis_weights(image.shape[0])
    c0, c1, fc = axis_weights(image.shape[1])
    rows = image[r0] * (1 - fr)[:, None, None] + image[r1] * fr[:, None, None]
    return rows[:, c0] * (1 - fc)[None, :, None] + rows[:, c1] * fc[None, :, None]


def test_preprocess_quantises_like_to_uint8_and_scales():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1.1, 1.1, (2, 299, 299, 3)).astype(np.float32)
    x[0, 0, 0] = [-1.0, 1.0, 0.5 / 127.5 - 1.0]  # ends and a rounding tie
    out = fid_inception.preprocess(x).numpy()
    expected = (images_lib.to_uint8(x).astype(np.float32) - 128.0) / 128.0
    np.testing.assert_array_equal(out, expected)
    assert out.min() == -1.0 and out.max() == 127.0 / 128.0


def test_preprocess_resizes_bilinear_half_pixel_and_takes_uint8():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (3, 32, 32, 3)).astype(np.float32)
    out = fid_inception.preprocess(x).numpy()
    assert out.shape == (3, 299, 299, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out, fid_inception.preprocess(images_lib.to_uint8(x)).numpy())
    manual = (_bilinear_half_pixel(images_lib.to_uint8(x[0]).astype(np.float64), 299) - 128.0) / 128.0
    np.testing.assert_allclose(out[0], manual, atol=1e-5)


@pytest.mark.parametrize("bad", [np.zeros((32, 32, 3), np.float32), np.zeros((1, 32, 32, 1), np.float32),
                                 np.zeros((1, 32, 32, 3), np.int32)])
def test_preprocess_rejects_bad_input(bad):
    with pytest.raises(ValueError, match="images"):
        fid_inception.preprocess(bad)


class _Evil:
    def __reduce__(self):
        return os.system, ("echo pwned",)


def test_restricted_unpickler_refuses_other_globals():
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        fid_weights.RestrictedUnpickler(pickle.dumps(_Evil(), protocol=2), storage=None).load()


def test_rebuild_tensor_uses_offset_and_stride_and_checks_bounds():
    storage = np.arange(20, dtype=np.float32)
    tensor = fid_weights._rebuild_tensor_v2(storage, 2, (3, 2), (1, 3))  # a transposed view from element 2
    np.testing.assert_array_equal(tensor, [[2, 5], [3, 6], [4, 7]])
    with pytest.raises(ValueError, match="overruns"):
        fid_weights._rebuild_tensor_v2(storage, 10, (4, 4), (4, 1))


def test_archive_with_wrong_sha1_or_layout_is_refused(tmp_path):
    not_it = tmp_path / "default_1.pt"
    not_it.write_bytes(b"not the archive")
    with pytest.raises(ValueError, match="sha1"):
        fid_weights.read_archive(str(not_it))
    import zipfile
    with zipfile.ZipFile(not_it, "w") as archive:
        archive.writestr("root/version", "3")
    with pytest.raises(ValueError, match="not a TorchScript archive"):
        fid_weights.read_archive(str(not_it), expected_sha1=None)


def _module(cls, **state):
    module = fid_weights._script_class("__torch__.test", cls)()
    vars(module).update(state)
    return module


def _synthetic_tree(model, rng):
    """A module tree shaped like default_1.pt's (WrapNet.net.layers...) with random weights for the given model."""
    layers = _module("Sequential")
    for name, layer in fid_inception.conv_layers(model).items():
        h, w, i, o = layer.kernel.shape
        padding = [(h - 1) // 2, (w - 1) // 2] if layer.padding == "same" else [0, 0]
        conv = _module("Conv2dLayer", weight=rng.normal(size=(o, i, h, w)).astype(np.float32),
                       beta=rng.normal(size=o).astype(np.float32), mean=rng.normal(size=o).astype(np.float32),
                       var=rng.uniform(0.1, 1, size=o).astype(np.float32), stride=layer.strides[0], padding=padding)
        parts = name.split("/")
        if parts[0] in ("mixed_9", "mixed_10"):  # the E blocks flatten their attribute names
            parts = [parts[0], "_".join(parts[1:])]
        parent = layers
        for part in parts[:-1]:
            if not hasattr(parent, part):
                setattr(parent, part, _module("Sequential"))
            parent = getattr(parent, part)
        setattr(parent, parts[-1], conv)
    layers.mixed_9.tower_2_pool = _module("AvgPool2d")
    layers.mixed_10.tower_2_pool = _module("MaxPool2d")
    return _module("WrapNet", net=_module("InceptionV3", layers=layers))


def test_convert_tree_folds_batch_norm_and_checks_shapes(model):
    tree = _synthetic_tree(model, np.random.default_rng(2))
    weights = fid_weights.convert_tree(tree, model)
    conv = tree.net.layers.mixed_9.tower_1_mixed_conv_1
    scale = 1 / np.sqrt(conv.var.astype(np.float64) + 1e-3)
    np.testing.assert_allclose(weights["mixed_9/tower_1/mixed/conv_1/kernel"],
                               conv.weight.transpose(2, 3, 1, 0) * scale, rtol=1e-6)
    np.testing.assert_allclose(weights["mixed_9/tower_1/mixed/conv_1/bias"], conv.beta - conv.mean * scale,
                               rtol=1e-5, atol=1e-6)

    tree.net.layers.mixed_4.tower.conv_1.weight = np.zeros((128, 128, 7, 1), np.float32)  # 7x1 instead of 1x7
    with pytest.raises(ValueError, match=r"mixed_4/tower/conv_1\.weight has shape"):
        fid_weights.convert_tree(tree, model)
    tree = _synthetic_tree(model, np.random.default_rng(2))
    tree.net.layers.mixed_10.tower_2_pool = _module("AvgPool2d")
    with pytest.raises(ValueError, match="mixed_10/tower_2/pool is a AvgPool2d"):
        fid_weights.convert_tree(tree, model)


def test_load_without_cache_names_the_setup_command(tmp_path, monkeypatch):
    monkeypatch.setenv("BWGAN_TF_CACHE", str(tmp_path))
    assert os.path.dirname(fid_inception.weights_path()) == str(tmp_path)
    assert fid_inception.ARCHIVE_SHA1[:12] in os.path.basename(fid_inception.weights_path())
    with pytest.raises(fid_inception.FIDNetworkUnavailableError) as error:
        fid_inception.load()
    assert isinstance(error.value, ValueError)
    for needed in ("make inception", "tools/setup_inception.py", "--pt=PATH"):
        assert needed in str(error.value)
