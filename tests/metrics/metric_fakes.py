"""Shared by tests/metrics: numpy references of the estimators, a tiny generator and extractor, a fake GAN."""
import numpy as np
import scipy.linalg
import tensorflow as tf

from bwgan_tf import metrics

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


def tiny_generator(latent_dim=4, seed=0):
    init = tf.keras.initializers.RandomNormal(stddev=1.0, seed=seed)
    return tf.keras.Sequential([tf.keras.Input((latent_dim,)),
                                tf.keras.layers.Dense(8 * 8 * 3, activation="tanh", kernel_initializer=init),
                                tf.keras.layers.Reshape((8, 8, 3))], name="tiny_generator")


def tiny_extractor(calls=None):
    """A random-weight conv net; `calls` (a list) records every batch size it sees."""
    inner = metrics.random_extractor((8, 8, 3), feature_dim=6, num_classes=5, seed=1, name="tiny")

    def fn(images):
        if calls is not None:
            calls.append(int(images.shape[0]))
        f, logits = inner(images)
        return f * 100.0, logits * 100.0

    return metrics.FeatureExtractor("tiny", fn, has_logits=True)


def uniform_batches(n_batches=4, size=25, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, (size, 8, 8, 3)).astype(np.float32) for _ in range(n_batches)]


class FakeGAN(tf.keras.Model):
    """The parts of WassersteinGAN the callback uses: ema_generator, latent_dim, generator_steps."""

    def __init__(self):
        super().__init__()
        self.ema_generator, self.latent_dim = tiny_generator(), 4
        self.generator_steps = tf.Variable(0, dtype=tf.int64, trainable=False)

    def train_step(self, data):
        self.generator_steps.assign_add(1)
        return {"generator_loss": tf.constant(0.0)}
