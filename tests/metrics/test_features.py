"""Feature extractors: Keras and plain SavedModel classifiers, TF-GAN's Inception from a folder or the TF-Hub cache."""
import os

import numpy as np
import pytest
import tensorflow as tf
from metric_fakes import tiny_generator

from bwgan_tf import metrics
from bwgan_tf.runs import export


def test_keras_extractor_from_saved_classifier(tmp_path):
    model = metrics.build_classifier((8, 8, 3), num_classes=4, width=2, feature_dim=5, seed=0)
    path = metrics.save_classifier(model, tmp_path / "clf.keras")
    assert os.listdir(tmp_path) == ["clf.keras"]  # no temp file left behind
    extractor = metrics.keras_extractor(path)
    assert extractor.name == "clf" and extractor.has_logits and not extractor.is_inception
    x = np.random.default_rng(0).uniform(-1, 1, (6, 8, 8, 3)).astype(np.float32)
    feats, logits = extractor(x)
    np.testing.assert_allclose(logits, model(x, training=False).numpy(), atol=1e-5)
    np.testing.assert_allclose(feats, tf.keras.Model(model.inputs, model.get_layer("features").output)(x), atol=1e-5)
    big, _ = extractor(tf.image.resize(x, [16, 16]))  # resized back to the model's 8 x 8 input
    assert big.shape == (6, 5)
    settings = metrics.registry.Settings(50_000)
    assert [metrics.metric_label(m, settings, extractor) for m in ("is", "fid", "kid", "pr")] == [
        "cs50k_clf", "fd50k_clf", "kd10k_clf", "pr10k_k3_clf"]  # never IS/FID/KID: the classifier is named
    with pytest.raises(ValueError, match="layer"):
        metrics.keras_extractor(model, layer="nope")
    with pytest.raises(ValueError, match="--classifier"):
        metrics.keras_extractor(str(tmp_path / "missing.keras"))


# ------------------------------------------------------------------ Inception loading

def test_missing_inception_error_says_where_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "empty_cache"))
    for handle in (None, str(tmp_path / "no_such_folder")):
        with pytest.raises(metrics.InceptionUnavailableError) as info:
            metrics.load_inception(handle)
        message = str(info.value)
        assert "--inception" in message and "tfhub.dev/tensorflow/tfgan/eval/inception/1" in message
        assert "tar -xzf" in message and "kaggle.com" in message
    assert issubclass(metrics.InceptionUnavailableError, ValueError)  # tools exit 2
    with pytest.raises(metrics.InceptionUnavailableError):
        metrics.evaluate(tiny_generator(), metrics="is", num_samples=10)  # default extractor is Inception


def fake_inception_module(path):
    """A stand-in with the Inception module's interface: 'default' signature, 299 x 299 in, logits + pool_3."""

    class Fake(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable(tf.random.stateless_normal([3, 1008], seed=[0, 1]))

        @tf.function(input_signature=[tf.TensorSpec([None, 299, 299, 3], tf.float32)])
        def default(self, images):
            pooled = tf.reduce_mean(images, axis=[1, 2])
            return {"logits": pooled @ self.w, "pool_3": tf.reshape(tf.tile(pooled, [1, 683])[:, :2048],
                                                                    [-1, 1, 1, 2048])}

    module = Fake()
    tf.saved_model.save(module, str(path), signatures={"default": module.default})


def test_inception_loads_from_folder_and_tfhub_cache(tmp_path, monkeypatch):
    import hashlib
    cache = tmp_path / "cache"
    fake_inception_module(cache / hashlib.sha1(metrics.INCEPTION_HANDLE.encode()).hexdigest())
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(cache))
    x = np.random.default_rng(0).uniform(-1, 1, (3, 32, 32, 3)).astype(np.float32)
    for handle in (None, str(cache / hashlib.sha1(metrics.INCEPTION_HANDLE.encode()).hexdigest())):
        extractor = metrics.inception_extractor(handle)
        assert extractor.is_inception and extractor.name == "inception"
        feats, logits = extractor(x)
        assert feats.shape == (3, 2048) and logits.shape == (3, 1008)
        resized_mean = tf.reduce_mean(tf.image.resize(x, [299, 299], method="bilinear"), axis=[1, 2]).numpy()
        np.testing.assert_allclose(feats[:, :3], resized_mean, atol=1e-5)
    settings = metrics.registry.Settings(10_000, splits=5)
    assert [metrics.metric_label(m, settings, extractor) for m in ("is", "fid", "swd")] == [
        "is10k_5splits", "fid10k", "swd8192"]


def test_inception_loads_from_a_folder_without_tensorflow_hub_and_a_download_then_says_what_is_missing(
        tmp_path, monkeypatch):
    from bwgan_tf import compat
    monkeypatch.setattr(compat, "optional_module", lambda name: None)  # as on a stack without tensorflow_hub
    fake_inception_module(tmp_path / "module")
    feats, logits = metrics.inception_extractor(str(tmp_path / "module"))(np.zeros((2, 32, 32, 3), np.float32))
    assert feats.shape == (2, 2048) and logits.shape == (2, 1008)
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "empty"))
    with pytest.raises(metrics.InceptionUnavailableError, match="downloading it needs tensorflow_hub, which is not"):
        metrics.load_inception(allow_download=True)


def test_plain_saved_model_classifier_as_extractor(tmp_path):
    class Net(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable(tf.random.stateless_normal([3, 4], seed=[1, 2]))

        @tf.function(input_signature=[tf.TensorSpec([None, 8, 8, 3], tf.float32)])
        def serve(self, images):
            pooled = tf.reduce_mean(images, axis=[1, 2])
            return {"embedding": pooled, "logits": pooled @ self.w}

    net = Net()
    tf.saved_model.save(net, str(tmp_path / "net"), signatures={"serving_default": net.serve})
    extractor = metrics.keras_extractor(str(tmp_path / "net"), layer="embedding")
    x = np.random.default_rng(0).uniform(-1, 1, (5, 8, 8, 3)).astype(np.float32)
    feats, logits = extractor(x)
    np.testing.assert_allclose(feats, x.mean(axis=(1, 2)), atol=1e-6)
    np.testing.assert_allclose(logits, x.mean(axis=(1, 2)) @ net.w.numpy(), atol=1e-5)
    assert extractor.name == "net" and extractor.has_logits
    with pytest.raises(ValueError, match="layer"):
        metrics.keras_extractor(str(tmp_path / "net"), layer="pool_9")


def test_an_exported_generator_given_as_classifier_is_named_as_such(tmp_path):
    path = export.export_generator(tiny_generator(), str(tmp_path / "generator"), latent_dim=4)
    with pytest.raises(ValueError, match=r"^--classifier: .*generator' is a generator exported by tools/export.py, "
                                         "not a classifier"):
        metrics.keras_extractor(path)
