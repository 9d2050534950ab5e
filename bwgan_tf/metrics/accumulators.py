"""Streaming state for the metrics: statistics of many samples held in bounded memory.

- MomentAccumulator: running float64 mean and unbiased covariance (Chan, Golub & LeVeque's pairwise update),
  so FID never holds all activations.
- ClassifierScoreAccumulator: the Inception/classifier score split by split; only the current split's logits
  are held.
- HeadAccumulator: the first rows (KID, precision/recall and density/coverage use the first `kid_samples`
  features of each side, SWD the first images; generated samples are i.i.d., so the first ones are a fair
  subset).
"""
import numpy as np

from bwgan_tf.metrics import estimators


class MomentAccumulator:
    """Running mean and unbiased covariance of rows [B, D] in float64 (Chan, Golub & LeVeque pairwise update)."""

    def __init__(self):
        self.count = 0
        self.mean = None
        self._m2 = None

    def update(self, x):
        x = np.asarray(x, np.float64)
        if x.ndim != 2:
            raise ValueError(f"activations must have shape [B, D], got {x.shape}")
        n_b = len(x)
        if n_b == 0:
            return
        mean_b = x.mean(axis=0)
        centred = x - mean_b
        m2_b = centred.T @ centred
        if self.count == 0:
            self.count, self.mean, self._m2 = n_b, mean_b, m2_b
            return
        if x.shape[1] != self.mean.shape[0]:
            raise ValueError(f"activations have {x.shape[1]} features, earlier ones {self.mean.shape[0]}")
        n = self.count + n_b
        delta = mean_b - self.mean
        self.mean = self.mean + delta * (n_b / n)
        self._m2 = self._m2 + m2_b + np.outer(delta, delta) * (self.count * n_b / n)
        self.count = n

    @property
    def cov(self):
        if self.count < 2:
            raise ValueError("a covariance needs at least 2 samples")
        return self._m2 / (self.count - 1)


class ClassifierScoreAccumulator:
    """IS over `splits` consecutive splits of `num` logits, each scored by TF-GAN when complete."""

    def __init__(self, num, splits=estimators.DEFAULT_SPLITS):
        self.sizes = estimators.split_sizes(num, splits)
        self.scores = []
        self._buffer = []
        self._buffered = 0

    def update(self, logits):
        logits = np.asarray(logits, np.float32)
        self._buffer.append(logits)
        self._buffered += len(logits)
        while len(self.scores) < len(self.sizes) and self._buffered >= self.sizes[len(self.scores)]:
            block = np.concatenate(self._buffer)
            size = self.sizes[len(self.scores)]
            self.scores.append(estimators.split_score(block[:size]))
            self._buffer, self._buffered = [block[size:]], len(block) - size

    def result(self):
        if len(self.scores) != len(self.sizes):
            raise ValueError(f"only {len(self.scores)} of {len(self.sizes)} splits are complete")
        return float(np.mean(self.scores)), float(np.std(self.scores))


class HeadAccumulator:
    """Keeps the first `max_rows` rows it is given (as `dtype`)."""

    def __init__(self, max_rows, dtype=np.float32):
        self.max_rows, self.dtype = int(max_rows), dtype
        self._parts, self.count = [], 0

    def update(self, x):
        take = min(len(x), self.max_rows - self.count)
        if take > 0:
            self._parts.append(np.asarray(x[:take], self.dtype))
            self.count += take

    @property
    def rows(self):
        return np.concatenate(self._parts) if self._parts else np.zeros((0, 0), self.dtype)
