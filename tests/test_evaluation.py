"""IS / FID / KID through TF-GAN against numpy/scipy references; streaming, sampling, caching, the callback."""
import json
import os

import numpy as np
import pytest
import scipy.linalg
import tensorflow as tf

from bwgan_tf import evaluation as ev
from bwgan_tf import features as fl


# ------------------------------------------------------------------ numpy references

def numpy_fid(a, b):
    """Heusel et al. 2017: |m1 - m2|^2 + Tr(C1 + C2 - 2 sqrtm(C1 C2)), unbiased covariances."""
    m1, m2 = a.mean(0), b.mean(0)
    c1, c2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(c1 @ c2).real
    return float(np.sum((m1 - m2) ** 2) + np.trace(c1 + c2 - 2 * root))


def numpy_is(logits, splits):
    """Salimans et al. 2016: exp(E KL(p(y|x) || p(y))) per split; mean and std over splits."""
    scores = []
    for part in np.array_split(logits.astype(np.float64), splits):
        p = np.exp(part - part.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        q = p.mean(0)
        scores.append(np.exp(np.mean(np.sum(p * (np.log(p) - np.log(q)), axis=1))))
    return float(np.mean(scores)), float(np.std(scores))


def numpy_kid(a, b):
    """Unbiased MMD^2 (Binkowski et al. 2018) with the cubic kernel k(x, y) = (x.y / d + 1)^3, written out."""
    d = a.shape[1]
    k = lambda x, y: (x @ y.T / d + 1.0) ** 3  # noqa: E731
    kaa, kbb, kab = k(a, a), k(b, b), k(a, b)
    m, n = len(a), len(b)
    return float((kaa.sum() - np.trace(kaa)) / (m * (m - 1)) + (kbb.sum() - np.trace(kbb)) / (n * (n - 1))
                 - 2.0 * kab.mean())


def correlated(rng, n, d, shift=0.0, scale=1.0):
    mix = rng.normal(size=(d, d)) / np.sqrt(d)
    return (rng.normal(size=(n, d)) @ mix) * scale + shift


# ------------------------------------------------------------------ estimators

def test_fid_from_activations_matches_scipy():
    rng = np.random.default_rng(0)
    a, b = correlated(rng, 400, 12), correlated(rng, 300, 12, shift=0.3, scale=1.5)
    expected = numpy_fid(a, b)
    assert expected > 1.0
    assert ev.frechet_distance_from_activations(a, b) == pytest.approx(expected, rel=1e-3)
    ma, mb = ev.MomentAccumulator(), ev.MomentAccumulator()
    for chunk in np.array_split(a, 37):
        ma.update(chunk)
    mb.update(b)
    np.testing.assert_allclose(ma.mean, a.mean(0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ma.cov, np.cov(a, rowvar=False), rtol=1e-9, atol=1e-12)
    assert ev.frechet_distance(ma.mean, ma.cov, mb.mean, mb.cov) == pytest.approx(expected, rel=1e-3)
    assert ev.frechet_distance(ma.mean, ma.cov, ma.mean, ma.cov) == pytest.approx(0.0, abs=1e-6)


def test_moment_accumulator_is_stable_far_from_zero():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(1000, 4)) * 1e-2 + 1e4
    acc = ev.MomentAccumulator()
    for chunk in np.array_split(a, 13):
        acc.update(chunk)
    np.testing.assert_allclose(acc.cov, np.cov(a, rowvar=False), rtol=1e-6, atol=1e-12)


def test_inception_score_matches_numpy_and_streams():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(1000, 7)) * 3
    mean, std = numpy_is(logits, 10)
    got = ev.classifier_score(logits, splits=10)
    assert got[0] == pytest.approx(mean, rel=1e-5) and got[1] == pytest.approx(std, rel=1e-3)
    acc = ev.ClassifierScoreAccumulator(1000, 10)
    for chunk in np.array_split(logits, 71):  # batch boundaries straddle the split boundaries
        acc.update(chunk)
    assert acc.result() == pytest.approx(got, rel=1e-6)
    # confident and uniform predictions over all classes: IS = number of classes
    assert ev.classifier_score(np.eye(7)[np.arange(700) % 7] * 50.0, splits=1)[0] == pytest.approx(7.0, rel=1e-4)


def test_kid_matches_numpy_unbiased_estimator():
    rng = np.random.default_rng(3)
    a, b = correlated(rng, 120, 8), correlated(rng, 90, 8, shift=0.5)
    kid, std = ev.kernel_distance(a, b, max_block_size=1024)  # one block: the plain unbiased estimator
    assert kid == pytest.approx(numpy_kid(a, b), rel=1e-6)
    assert kid > 0.05
    blocked, blocked_std = ev.kernel_distance(a, b, max_block_size=30)  # TF-GAN's block estimator
    assert blocked == pytest.approx(kid, rel=0.5) and blocked_std > 0


def test_bad_inputs_raise_value_errors():
    with pytest.raises(ValueError, match="--metrics"):
        ev.parse_metrics("is,fidd")
    assert ev.parse_metrics("FID, is,fid") == ("fid", "is")
    with pytest.raises(ValueError, match="splits"):
        ev.ClassifierScoreAccumulator(5, 10)
    with pytest.raises(ValueError, match="covariances"):
        ev.frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))


# ------------------------------------------------------------------ extractors, sampling, the whole path

def tiny_generator(latent_dim=4, seed=0):
    init = tf.keras.initializers.RandomNormal(stddev=1.0, seed=seed)
    return tf.keras.Sequential([tf.keras.Input((latent_dim,)),
                                tf.keras.layers.Dense(8 * 8 * 3, activation="tanh", kernel_initializer=init),
                                tf.keras.layers.Reshape((8, 8, 3))], name="tiny_generator")


def tiny_extractor(calls=None):
    """A random-weight conv net; `calls` (a list) records every batch size it sees."""
    inner = fl.random_extractor((8, 8, 3), feature_dim=6, num_classes=5, seed=1, name="tiny")

    def fn(images):
        if calls is not None:
            calls.append(int(images.shape[0]))
        f, logits = inner(images)
        return f * 100.0, logits * 100.0

    return fl.FeatureExtractor("tiny", fn, has_logits=True)


def uniform_batches(n_batches=4, size=25, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, (size, 8, 8, 3)).astype(np.float32) for _ in range(n_batches)]


def test_whole_path_on_generated_images_matches_direct_computation():
    gen, extractor = tiny_generator(), tiny_extractor()
    real = uniform_batches()
    result = ev.evaluate(gen, num_samples=90, extractor=extractor, reference=real, batch_size=13, splits=3,
                         kid_samples=90, kid_block_size=1024)
    assert set(result) >= {"cs_tiny", "cs_tiny_std", "fd_tiny", "kd_tiny", "kd_tiny_std"}
    assert not {"is", "fid", "kid"} & set(result)  # not Inception: never called IS/FID/KID
    assert result["kd_tiny_std"] is None  # one KID block: TF-GAN's std is NaN, reported as None
    images = np.concatenate(list(ev.as_sampler(gen).batches(90, 90, seed=0)))
    fake_f, fake_logits = extractor(images)
    real_f, _ = extractor(np.concatenate(real)[:90])  # reference_num defaults to num_samples
    assert result["fd_tiny"] == pytest.approx(numpy_fid(real_f.astype(np.float64), fake_f.astype(np.float64)),
                                              rel=1e-3)
    assert result["cs_tiny"] == pytest.approx(numpy_is(fake_logits, 3)[0], rel=1e-4)
    assert result["kd_tiny"] == pytest.approx(numpy_kid(real_f.astype(np.float64), fake_f.astype(np.float64)),
                                              rel=1e-4, abs=1e-6)
    # the same samples however they are batched
    again = ev.evaluate(gen, num_samples=90, extractor=extractor, reference=real, batch_size=90, splits=3,
                        kid_samples=90)
    for key in ("cs_tiny", "fd_tiny", "kd_tiny"):
        assert again[key] == pytest.approx(result[key], rel=1e-4, abs=1e-7)
    # the generator's own samples as the reference: distance ~ 0, far below the distance to uniform noise
    own = ev.evaluate(gen, metrics="fid", num_samples=90, extractor=extractor, batch_size=30,
                      reference=list(ev.as_sampler(gen).batches(90, 45, seed=0)))
    assert abs(own["fd_tiny"]) < 1e-3 * result["fd_tiny"]


def test_streaming_many_small_batches_equals_one_batch():
    extractor = tiny_extractor()
    images = np.concatenate(uniform_batches(3, 40, seed=5))

    def sampler_from(batches):
        it = iter(batches)
        return ev.Sampler(lambda z: next(it), latent_dim=2)

    kwargs = dict(extractor=extractor, num_samples=120, splits=4, kid_samples=120,
                  reference_stats=ev.reference_statistics(uniform_batches(2, 60, seed=6), extractor))
    one = ev.evaluate(sampler_from([images]), batch_size=120, **kwargs)
    many = ev.evaluate(sampler_from(np.array_split(images, 40)), batch_size=3, **kwargs)
    for key in ("cs_tiny", "cs_tiny_std", "fd_tiny", "kd_tiny"):
        assert many[key] == pytest.approx(one[key], rel=1e-5, abs=1e-8)


def test_samplers_from_model_like_objects_and_saved_model(tmp_path):
    gen = tiny_generator(latent_dim=5)

    class FakeGAN:
        ema_generator, latent_dim = gen, 5

    class Exported(tf.Module):
        def __init__(self):
            super().__init__()
            self.gen = gen

        @tf.function(input_signature=[tf.TensorSpec([None, 5], tf.float32)])
        def generate(self, z):
            return {"images": self.gen(z, training=False)}

    module = Exported()
    tf.saved_model.save(module, str(tmp_path / "sm"), signatures={"generate": module.generate})
    expected = np.concatenate(list(ev.as_sampler(gen).batches(20, 20, seed=3)))
    for source in (FakeGAN(), str(tmp_path / "sm"), ev.Sampler(gen, 5)):
        sampler = ev.as_sampler(source)
        assert sampler.latent_dim == 5
        got = np.concatenate(list(sampler.batches(20, 6, seed=3)))
        np.testing.assert_allclose(got, expected, atol=1e-5)
    other = np.concatenate(list(ev.as_sampler(gen).batches(20, 20, seed=4)))
    assert np.abs(other - expected).max() > 0.1
    with pytest.raises(ValueError, match="generate"):
        ev.as_sampler(object())  # not a sampler source
    with pytest.raises(ValueError, match="--saved_model"):
        ev.as_sampler(str(tmp_path / "missing"))


def test_is_needs_logits_and_fid_needs_reference():
    features_only = fl.FeatureExtractor("feat", lambda x: (tf.reshape(x, [x.shape[0], -1]), None), has_logits=False)
    with pytest.raises(ValueError, match="logits"):
        ev.evaluate(tiny_generator(), metrics="is", num_samples=10, extractor=features_only)
    with pytest.raises(ValueError, match="--reference"):
        ev.evaluate(tiny_generator(), metrics="fid", num_samples=10, extractor=features_only)


def test_keras_extractor_from_saved_classifier(tmp_path):
    model = fl.build_classifier((8, 8, 3), num_classes=4, width=2, feature_dim=5, seed=0)
    path = fl.save_classifier(model, tmp_path / "clf.keras")
    assert os.listdir(tmp_path) == ["clf.keras"]  # no temp file left behind
    extractor = fl.keras_extractor(path)
    assert extractor.name == "clf" and extractor.has_logits and not extractor.is_inception
    x = np.random.default_rng(0).uniform(-1, 1, (6, 8, 8, 3)).astype(np.float32)
    feats, logits = extractor(x)
    np.testing.assert_allclose(logits, model(x, training=False).numpy(), atol=1e-5)
    np.testing.assert_allclose(feats, tf.keras.Model(model.inputs, model.get_layer("features").output)(x), atol=1e-5)
    big, _ = extractor(tf.image.resize(x, [16, 16]))  # resized back to the model's 8 x 8 input
    assert big.shape == (6, 5)
    assert ev.metric_labels(extractor) == {"is": "cs_clf", "fid": "fd_clf", "kid": "kd_clf"}
    with pytest.raises(ValueError, match="layer"):
        fl.keras_extractor(model, layer="nope")
    with pytest.raises(ValueError, match="--classifier"):
        fl.keras_extractor(str(tmp_path / "missing.keras"))


# ------------------------------------------------------------------ Inception loading

def test_missing_inception_error_says_where_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "empty_cache"))
    for handle in (None, str(tmp_path / "no_such_folder")):
        with pytest.raises(fl.InceptionUnavailableError) as info:
            fl.load_inception(handle)
        message = str(info.value)
        assert "--inception" in message and "tfhub.dev/tensorflow/tfgan/eval/inception/1" in message
        assert "tar -xzf" in message and "kaggle.com" in message
    assert issubclass(fl.InceptionUnavailableError, ValueError)  # tools exit 2
    with pytest.raises(fl.InceptionUnavailableError):
        ev.evaluate(tiny_generator(), metrics="is", num_samples=10)  # default extractor is Inception


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
    fake_inception_module(cache / hashlib.sha1(fl.INCEPTION_HANDLE.encode()).hexdigest())
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(cache))
    x = np.random.default_rng(0).uniform(-1, 1, (3, 32, 32, 3)).astype(np.float32)
    for handle in (None, str(cache / hashlib.sha1(fl.INCEPTION_HANDLE.encode()).hexdigest())):
        extractor = fl.inception_extractor(handle)
        assert extractor.is_inception and extractor.name == "inception"
        feats, logits = extractor(x)
        assert feats.shape == (3, 2048) and logits.shape == (3, 1008)
        resized_mean = tf.reduce_mean(tf.image.resize(x, [299, 299], method="bilinear"), axis=[1, 2]).numpy()
        np.testing.assert_allclose(feats[:, :3], resized_mean, atol=1e-5)
    assert ev.metric_labels(extractor) == {"is": "is", "fid": "fid", "kid": "kid"}


# ------------------------------------------------------------------ reference cache, callback, sweep table

def test_reference_statistics_are_cached(tmp_path):
    calls = []
    extractor = tiny_extractor(calls)
    real = uniform_batches(4, 25)
    first = ev.reference_statistics(real, extractor, num=90, cache_dir=tmp_path, name="uniform")
    assert not first.from_cache and first.count == 90 and sum(calls) == 90
    feats = np.concatenate([extractor(b)[0] for b in real])[:90].astype(np.float64)
    np.testing.assert_allclose(first.cov, np.cov(feats, rowvar=False), rtol=1e-5, atol=1e-8)
    files = os.listdir(tmp_path)
    assert len(files) == 1 and files[0].endswith(".npz") and "uniform" in files[0] and "tiny" in files[0]
    calls_before = len(calls)
    second = ev.reference_statistics(real, extractor, num=90, cache_dir=tmp_path, name="uniform")
    assert second.from_cache and len(calls) == calls_before
    np.testing.assert_array_equal(second.cov, first.cov)
    np.testing.assert_array_equal(second.kid_features, first.kid_features)
    third = ev.reference_statistics(real, extractor, num=80, cache_dir=tmp_path, name="uniform")
    assert not third.from_cache and len(os.listdir(tmp_path)) == 2
    # same extractor name, other weights: another cache entry
    a = fl.keras_extractor(fl.build_classifier((8, 8, 3), width=2, feature_dim=3, seed=0), name="clf")
    b = fl.keras_extractor(fl.build_classifier((8, 8, 3), width=2, feature_dim=3, seed=1), name="clf")
    assert a.fingerprint != b.fingerprint
    ev.reference_statistics(real, a, num=50, cache_dir=tmp_path, name="uniform")
    assert not ev.reference_statistics(real, b, num=50, cache_dir=tmp_path, name="uniform").from_cache
    assert ev.reference_statistics(real, a, num=50, cache_dir=tmp_path, name="uniform").from_cache


class FakeGAN(tf.keras.Model):
    """The parts of WassersteinGAN the callback uses: ema_generator, latent_dim, generator_steps."""

    def __init__(self):
        super().__init__()
        self.ema_generator, self.latent_dim = tiny_generator(), 4
        self.generator_steps = tf.Variable(0, dtype=tf.int64, trainable=False)

    def train_step(self, data):
        self.generator_steps.assign_add(1)
        return {"generator_loss": tf.constant(0.0)}


def test_evaluation_callback_writes_metrics_and_tensorboard(tmp_path):
    run_dir = tmp_path / "run"
    callback = ev.EvaluationCallback(run_dir, reference=None, reference_stats=ev.reference_statistics(
        uniform_batches(2, 30), tiny_extractor()), eval_every=3, metrics=("is", "fid"), num_samples=40,
                                     extractor=tiny_extractor(), batch_size=20, splits=2)
    model = FakeGAN()
    model.compile(run_eagerly=False)
    model.fit(tf.data.Dataset.from_tensor_slices(np.zeros((7, 1), np.float32)).batch(1), epochs=1, verbose=0,
              callbacks=[callback])
    records = [json.loads(line) for line in open(run_dir / "metrics.jsonl")]
    assert [r["step"] for r in records] == [3, 6, 7]  # every 3 generator steps, and at the end
    assert all(r["event"] == "evaluation" and r["fd_tiny"] > 0 and r["cs_tiny"] >= 1.0 for r in records)
    assert records[0]["fd_tiny"] == pytest.approx(records[1]["fd_tiny"])  # same weights, same z: same result
    assert os.listdir(run_dir / "tensorboard" / "eval")
    with pytest.raises(ValueError, match="unit"):
        ev.EvaluationCallback(run_dir, eval_every=3, unit="batches", metrics="is")
    with pytest.raises(ValueError, match="reference"):
        ev.EvaluationCallback(run_dir, eval_every=3, metrics="fid")


def test_sweep_table_reads_space_and_last_evaluation(tmp_path):
    for name, space, fid in (("a", "lp:p=10", 20.0), ("b", "sobolev:s=-1.5,p=2,c=5", 25.0)):
        run = tmp_path / name
        run.mkdir()
        (run / "config.json").write_text(json.dumps({"space": space}))
        lines = [{"step": 1, "generator_loss": 1.0}, {"step": 5, "is": 3.0, "fid": 2 * fid},
                 {"step": 9, "is": 4.0, "is_std": 0.1, "fid": fid}, {"step": 10, "generator_loss": 0.5}]
        (run / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in lines) + "\n{partial")
    rows = ev.sweep_table([tmp_path / "a", tmp_path / "b"])
    assert [(r["s"], r["p"], r["step"], r["fid"], r["is"]) for r in rows] == [(0.0, 10.0, 9, 20.0, 4.0),
                                                                             (-1.5, 2.0, 9, 25.0, 4.0)]
    with pytest.raises(ValueError, match="config.json"):
        ev.sweep_table([tmp_path / "missing"])


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
    extractor = fl.keras_extractor(str(tmp_path / "net"), layer="embedding")
    x = np.random.default_rng(0).uniform(-1, 1, (5, 8, 8, 3)).astype(np.float32)
    feats, logits = extractor(x)
    np.testing.assert_allclose(feats, x.mean(axis=(1, 2)), atol=1e-6)
    np.testing.assert_allclose(logits, x.mean(axis=(1, 2)) @ net.w.numpy(), atol=1e-5)
    assert extractor.name == "net" and extractor.has_logits
    with pytest.raises(ValueError, match="layer"):
        fl.keras_extractor(str(tmp_path / "net"), layer="pool_9")
