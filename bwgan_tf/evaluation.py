"""Sample quality: Inception Score, FID and KID through TF-GAN, streamed over many samples.

The estimators are TF-GAN's (`classifier_score_from_logits`, the Frechet distance of
`frechet_classifier_distance_from_activations`, `kernel_classifier_distance_and_std_from_activations`);
this module feeds them with bounded memory:
- IS (Salimans et al. 2016): exp(E_x KL(p(y|x) || p(y))) on each of `splits` consecutive splits, mean and
  std over splits; only the current split's logits are held.
- FID (Heusel et al. 2017): |m - m_w|^2 + Tr(C + C_w - 2 (C C_w)^(1/2)) from running float64 means and
  unbiased covariances (Chan et al. parallel update), never from all activations.
- KID (Binkowski et al. 2018): TF-GAN's block estimator (cubic kernel (x.y/d + 1)^3) on the first
  `kid_samples` activations of each side (generated samples are i.i.d., so the first ones are a fair subset).
Only TF-GAN's Inception network gives metrics named is/fid/kid; any other extractor's are named
cs_<name>/fd_<name>/kd_<name>. Reference statistics of real data are cached in an .npz per dataset, split,
extractor and sample count. This is the only module that imports tensorflow_gan.
"""
import hashlib
import io
import json
import os
import time

import numpy as np
import tensorflow as tf
import tensorflow_gan as tfgan
from tensorflow_gan.python.eval.classifier_metrics import trace_sqrt_product

from bwgan_tf import features as features_lib
from bwgan_tf import files

METRICS = ("is", "fid", "kid")
DEFAULT_SPLITS = 10
DEFAULT_KID_SAMPLES = 10_000
_Z_CHUNK = 500  # latent vectors are drawn in fixed chunks so samples do not depend on the batch size


# ------------------------------------------------------------------------ estimators (TF-GAN)

def classifier_score(logits, splits=DEFAULT_SPLITS):
    """Inception/classifier score exp(E KL(p(y|x) || p(y))) over `splits` consecutive splits -> (mean, std)."""
    logits = np.asarray(logits)
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape [N, K], got {logits.shape}")
    acc = ClassifierScoreAccumulator(len(logits), splits)
    acc.update(logits)
    return acc.result()


def frechet_distance(mean1, cov1, mean2, cov2) -> float:
    """|m1 - m2|^2 + Tr(C1 + C2 - 2 (C1 C2)^(1/2)) in float64, with TF-GAN's trace_sqrt_product."""
    mean1, mean2 = tf.constant(mean1, tf.float64), tf.constant(mean2, tf.float64)
    cov1, cov2 = tf.constant(cov1, tf.float64), tf.constant(cov2, tf.float64)
    d = mean1.shape[0] if mean1.shape.rank == 1 else None
    if d is None or mean2.shape != [d] or cov1.shape != [d, d] or cov2.shape != [d, d]:
        raise ValueError(f"means [D] and covariances [D, D] must match, got {mean1.shape}, {cov1.shape}, "
                         f"{mean2.shape}, {cov2.shape}")
    trace = tf.linalg.trace(cov1 + cov2) - 2.0 * trace_sqrt_product(cov1, cov2)
    return float(tf.reduce_sum(tf.math.squared_difference(mean1, mean2)) + trace)


def frechet_distance_from_activations(activations1, activations2) -> float:
    """TF-GAN's frechet_classifier_distance_from_activations in float64 (holds all activations)."""
    return float(tfgan.eval.frechet_classifier_distance_from_activations(
        tf.constant(activations1, tf.float64), tf.constant(activations2, tf.float64)))


def kernel_distance(activations1, activations2, max_block_size=1024):
    """TF-GAN's unbiased KID block estimator with kernel (x.y/d + 1)^3, in float64 -> (kid, std error).

    The std is estimated across blocks of <= max_block_size rows, so it is NaN when there is only one block.

    TF-GAN 2.1 calls `.shape.assert_has_rank` on its inputs, so they are passed as tensors (eager works)."""
    a = tf.constant(np.asarray(activations1), tf.float64)
    b = tf.constant(np.asarray(activations2), tf.float64)
    if a.shape.rank != 2 or b.shape.rank != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"activations must be [N, D] and [M, D], got {a.shape} and {b.shape}")
    if min(a.shape[0], b.shape[0]) < 2:
        raise ValueError("KID needs at least 2 activations on each side")
    kid, std = tfgan.eval.kernel_classifier_distance_and_std_from_activations(a, b, max_block_size=max_block_size)
    return float(kid), float(std)


# ------------------------------------------------------------------------ streaming accumulators

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

    def __init__(self, num, splits=DEFAULT_SPLITS):
        if splits < 1 or num < splits:
            raise ValueError(f"splits must be in [1, num_samples={num}], got {splits}")
        self.sizes = [len(s) for s in np.array_split(np.arange(num), splits)]
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
            self.scores.append(float(tfgan.eval.classifier_score_from_logits(tf.constant(block[:size], tf.float64))))
            self._buffer, self._buffered = [block[size:]], len(block) - size

    def result(self):
        if len(self.scores) != len(self.sizes):
            raise ValueError(f"only {len(self.scores)} of {len(self.sizes)} splits are complete")
        return float(np.mean(self.scores)), float(np.std(self.scores))


class HeadAccumulator:
    """Keeps the first `max_rows` rows (float32) it is given."""

    def __init__(self, max_rows):
        self.max_rows = int(max_rows)
        self._parts, self.count = [], 0

    def update(self, x):
        take = min(len(x), self.max_rows - self.count)
        if take > 0:
            self._parts.append(np.asarray(x[:take], np.float32))
            self.count += take

    @property
    def rows(self):
        return np.concatenate(self._parts) if self._parts else np.zeros((0, 0), np.float32)


# ------------------------------------------------------------------------ sampling

class Sampler:
    """Images from a generator: `generate(z [B, latent_dim]) -> images [B, ...]` in [-1, 1].

    `batches(num, batch_size, seed)` draws z ~ N(0, I) statelessly in fixed chunks of 500, so the samples
    depend on (seed, index) only, not on the batch size."""

    def __init__(self, generate, latent_dim, name="generator"):
        if int(latent_dim) < 1:
            raise ValueError(f"latent_dim must be a positive integer, got {latent_dim!r}")
        self.generate = generate
        self.latent_dim = int(latent_dim)
        self.name = name

    def latents(self, num, batch_size, seed):
        if num < 1 or batch_size < 1:
            raise ValueError(f"num_samples and batch_size must be >= 1, got {num}, {batch_size}")
        chunk, chunk_index, pos = None, -1, 0
        for start in range(0, num, batch_size):
            need, parts = min(batch_size, num - start), []
            while need:
                if chunk is None or pos == _Z_CHUNK:
                    chunk_index += 1
                    chunk = tf.random.stateless_normal([_Z_CHUNK, self.latent_dim], seed=[int(seed), chunk_index])
                    pos = 0
                take = min(need, _Z_CHUNK - pos)
                parts.append(chunk[pos:pos + take])
                pos, need = pos + take, need - take
            yield tf.concat(parts, 0)

    def batches(self, num, batch_size=100, seed=0):
        for z in self.latents(num, batch_size, seed):
            yield tf.convert_to_tensor(self.generate(z), tf.float32)


def as_sampler(source, latent_dim=None) -> Sampler:
    """A Sampler from a WassersteinGAN (its ema_generator), a generator keras.Model (+ latent_dim, else its
    input width), an exported SavedModel (path or loaded; its `generate` signature {z} -> {images}), or a
    callable z -> images with latent_dim."""
    if isinstance(source, Sampler):
        return source
    if hasattr(source, "ema_generator") and hasattr(source, "latent_dim"):
        generator = source.ema_generator
        return Sampler(lambda z: generator(z, training=False), latent_dim or source.latent_dim, "ema_generator")
    if isinstance(source, tf.keras.Model):
        latent_dim = latent_dim or source.input_shape[-1]
        return Sampler(lambda z: source(z, training=False), latent_dim, source.name)
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isdir(path):
            raise ValueError(f"--saved_model: no SavedModel folder at {path!r}")
        source = tf.saved_model.load(path)
    signatures = getattr(source, "signatures", None)
    if signatures is not None:
        if "generate" not in signatures:
            raise ValueError(f"--saved_model: the SavedModel has no 'generate' signature; it has {list(signatures)}")
        signature = signatures["generate"]
        spec = signature.structured_input_signature[1]["z"]
        generate = lambda z: signature(z=z)["images"]  # noqa: E731
        generate.keep_alive = source
        return Sampler(generate, latent_dim or spec.shape[-1], "saved_model")
    if callable(source) and latent_dim:
        return Sampler(source, latent_dim, getattr(source, "__name__", "generator"))
    raise ValueError("source must be a WassersteinGAN, a generator keras.Model, a SavedModel with a 'generate' "
                     f"signature, or a callable with latent_dim; got {type(source).__name__}")


# ------------------------------------------------------------------------ reference statistics

class ReferenceStats:
    """Mean [D], unbiased covariance [D, D] and the first KID rows [K, D] of real features; `from_cache`."""

    def __init__(self, mean, cov, count, kid_features, key="", from_cache=False):
        self.mean, self.cov, self.count = np.asarray(mean), np.asarray(cov), int(count)
        self.kid_features = np.asarray(kid_features, np.float32)
        self.key, self.from_cache = key, from_cache


def _real_batches(spec, num, split, data_dir, batch_size):
    from bwgan_tf import data  # imported here: evaluation of generated samples alone needs no data pipeline
    dataset = data.load(spec, split=split, batch_size=batch_size, data_dir=data_dir, repeat=False, shuffle=False)
    seen = 0
    for batch in dataset:
        batch = batch[0] if isinstance(batch, (tuple, list)) else batch
        yield batch[:num - seen]
        seen += int(batch.shape[0])
        if seen >= num:
            return


def _cache_path(cache_dir, key: dict) -> str:
    text = json.dumps(key, sort_keys=True)
    stem = "-".join(features_lib.sanitize_name(str(key[k])) for k in ("reference", "split", "extractor", "num"))
    return os.path.join(cache_dir, f"ref-{stem}-{hashlib.sha1(text.encode()).hexdigest()[:10]}.npz")


def _write_npz_atomically(path, **arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    files.write_bytes_atomically(path, buffer.getvalue())


def reference_statistics(real, extractor, *, num=50_000, split="train", data_dir=None, batch_size=100,
                         kid_samples=DEFAULT_KID_SAMPLES, cache_dir=None, name=None) -> ReferenceStats:
    """Feature statistics of real data, computed once and cached.

    Args:
      real: a dataset spec for bwgan_tf.data.load (streamed, unshuffled) or an iterable of image batches
        [B, H, W, C] in [-1, 1] (then `name` labels it in the cache key; without a name nothing is cached).
      extractor: a features.FeatureExtractor.
      num: number of real samples (fewer if the split is smaller; `count` says how many).
      cache_dir: folder of the .npz cache (None: no cache), keyed by reference, split, extractor name and
        weights fingerprint, num and kid_samples. KID uses the first kid_samples real rows: keep the data unsorted.
    """
    if num < 2:
        raise ValueError(f"reference_num must be >= 2, got {num}")
    is_spec = isinstance(real, str)
    label = real if is_spec else name
    path = None
    if cache_dir and label:
        key = {"reference": label, "split": split, "extractor": extractor.name, "num": int(num),
               "kid_samples": int(kid_samples), "weights": getattr(extractor, "fingerprint", "")}
        path = _cache_path(cache_dir, key)
        if os.path.isfile(path):
            with np.load(path) as cached:
                if json.loads(str(cached["key"])) == key:
                    return ReferenceStats(cached["mean"], cached["cov"], cached["count"], cached["kid_features"],
                                          str(cached["key"]), from_cache=True)
    batches = _real_batches(real, num, split, data_dir, batch_size) if is_spec else real
    moments, head, seen = MomentAccumulator(), HeadAccumulator(kid_samples), 0
    for batch in batches:
        batch = batch[:num - seen]
        if len(batch) == 0:
            break
        feats, _ = extractor(batch)
        moments.update(feats)
        head.update(feats)
        seen += len(batch)
    stats = ReferenceStats(moments.mean, moments.cov, moments.count, head.rows)
    if path:
        stats.key = json.dumps(key, sort_keys=True)
        _write_npz_atomically(path, mean=stats.mean, cov=stats.cov, count=stats.count,
                              kid_features=stats.kid_features, key=stats.key)
    return stats


# ------------------------------------------------------------------------ evaluation

def metric_labels(extractor) -> dict:
    """{'is': 'is', 'fid': 'fid', 'kid': 'kid'} for TF-GAN's Inception; cs_/fd_/kd_<name> for any other."""
    if extractor.is_inception:
        return {"is": "is", "fid": "fid", "kid": "kid"}
    return {"is": f"cs_{extractor.name}", "fid": f"fd_{extractor.name}", "kid": f"kd_{extractor.name}"}


def parse_metrics(metrics) -> tuple:
    """'is,fid' or a sequence -> a tuple of names from METRICS (ValueError naming the bad ones)."""
    names = [m.strip().lower() for m in (metrics.split(",") if isinstance(metrics, str) else metrics) if m.strip()]
    bad = [m for m in names if m not in METRICS]
    if bad or not names:
        raise ValueError(f"--metrics: unknown {bad or 'empty list'}; allowed: {', '.join(METRICS)}")
    return tuple(dict.fromkeys(names))


def resolve_extractor(extractor=None, *, classifier=None, classifier_layer=None, inception=None,
                      allow_download=False) -> features_lib.FeatureExtractor:
    """A FeatureExtractor as given, else a Keras/SavedModel classifier (path or model), else TF-GAN's Inception."""
    if extractor is not None:
        if not isinstance(extractor, features_lib.FeatureExtractor):
            raise ValueError(f"extractor must be a features.FeatureExtractor, got {type(extractor).__name__}")
        return extractor
    if classifier is not None:
        return features_lib.keras_extractor(classifier, layer=classifier_layer)
    return features_lib.inception_extractor(inception, allow_download=allow_download)


def evaluate(source, *, metrics=METRICS, num_samples=50_000, extractor=None, reference=None, reference_stats=None,
             reference_split="train", reference_num=None, data_dir=None, batch_size=100, seed=0,
             splits=DEFAULT_SPLITS, kid_samples=DEFAULT_KID_SAMPLES, kid_block_size=1024, cache_dir=None,
             latent_dim=None) -> dict:
    """IS / FID / KID of `num_samples` generated samples, streamed batch by batch.

    Args:
      source: anything as_sampler accepts (WassersteinGAN, generator + latent_dim, SavedModel, Sampler).
      extractor: a FeatureExtractor (resolve_extractor; default TF-GAN's Inception, which must be available).
      reference / reference_stats: real data (spec or batches, see reference_statistics) or precomputed stats;
        needed for fid and kid. reference_num defaults to num_samples.
    Returns:
      {label: value, label_std: ...} with labels from metric_labels, plus num_samples, extractor,
      reference_count and seconds.
    """
    start = time.perf_counter()
    metrics = parse_metrics(metrics)
    extractor = resolve_extractor(extractor)
    sampler = as_sampler(source, latent_dim)
    if num_samples < 2 or batch_size < 1:
        raise ValueError(f"num_samples must be >= 2 and batch_size >= 1, got {num_samples}, {batch_size}")
    if "is" in metrics and not extractor.has_logits:
        raise ValueError(f"--metrics: 'is' needs logits, and extractor {extractor.name!r} has none")
    needs_reference = any(m in metrics for m in ("fid", "kid"))
    if needs_reference and reference_stats is None:
        if reference is None:
            raise ValueError("--reference: fid and kid need real data (a dataset spec) or reference_stats")
        reference_stats = reference_statistics(reference, extractor, num=reference_num or num_samples,
                                               split=reference_split, data_dir=data_dir, batch_size=batch_size,
                                               kid_samples=kid_samples, cache_dir=cache_dir)
    scores = ClassifierScoreAccumulator(num_samples, splits) if "is" in metrics else None
    moments, head = MomentAccumulator(), HeadAccumulator(kid_samples if "kid" in metrics else 0)
    for images in sampler.batches(num_samples, batch_size, seed):
        feats, logits = extractor(images)
        if scores is not None:
            scores.update(logits)
        if "fid" in metrics:
            moments.update(feats)
        head.update(feats)
    labels = metric_labels(extractor)
    result = {}
    if scores is not None:
        result[labels["is"]], result[labels["is"] + "_std"] = scores.result()
    if "fid" in metrics:
        result[labels["fid"]] = frechet_distance(reference_stats.mean, reference_stats.cov, moments.mean, moments.cov)
    if "kid" in metrics:
        result[labels["kid"]], result[labels["kid"] + "_std"] = kernel_distance(
            reference_stats.kid_features, head.rows, max_block_size=kid_block_size)
    # TF-GAN's KID std is NaN with a single block (<= kid_block_size samples): reported as None (JSON null)
    result = {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in result.items()}
    result.update(num_samples=int(num_samples), extractor=extractor.name, seconds=time.perf_counter() - start)
    if reference_stats is not None:
        result["reference_count"] = reference_stats.count
    return result


# ------------------------------------------------------------------------ training callback

def append_jsonl(path, record: dict) -> None:
    """Appends one JSON line (a single write of a complete line, flushed)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")
        f.flush()


class EvaluationCallback(tf.keras.callbacks.Callback):
    """Evaluates the EMA generator during WassersteinGAN.fit; writes TensorBoard scalars and metrics.jsonl.

    Args:
      run_dir: run directory; results are appended to run_dir/metrics.jsonl as
        {"event": "evaluation", "step": generator_steps, "epoch": ..., <labels>: ...} and written as
        TensorBoard scalars "eval/<label>" to run_dir/tensorboard/eval at step = generator steps.
      reference: real-data spec for bwgan_tf.data (or reference_stats=ReferenceStats); needed for fid/kid.
      eval_every: evaluate every this many generator steps (unit="steps": model.generator_steps, one per
        train batch) or epochs (unit="epochs").
      metrics: subset of ("is", "fid", "kid").
      num_samples: generated samples per evaluation (the papers use 50000; cheaper values during training).
      extractor / classifier / inception: the features (see resolve_extractor); default TF-GAN's Inception,
        resolved at on_train_begin (so a missing module fails before training starts).
      cache_dir: reference-statistics cache (default run_dir/../.reference_cache).
      seed: the same latent vectors at every evaluation; at_train_end: also evaluate after the last step.
    `history` holds every result dict.
    """

    def __init__(self, run_dir, *, reference=None, eval_every=5000, unit="steps", metrics=("is", "fid"),
                 num_samples=10_000, extractor=None, classifier=None, inception=None, reference_stats=None,
                 reference_split="train", reference_num=None, data_dir=None, batch_size=100, seed=0,
                 splits=DEFAULT_SPLITS, kid_samples=DEFAULT_KID_SAMPLES, cache_dir=None, at_train_end=True):
        super().__init__()
        if unit not in ("steps", "epochs"):
            raise ValueError(f"unit must be 'steps' or 'epochs', got {unit!r}")
        if int(eval_every) < 1:
            raise ValueError(f"eval_every must be a positive integer, got {eval_every!r}")
        self.metrics = parse_metrics(metrics)
        if any(m in self.metrics for m in ("fid", "kid")) and reference is None and reference_stats is None:
            raise ValueError("reference: fid and kid need a real-data spec or reference_stats")
        self.run_dir, self.unit, self.eval_every = os.fspath(run_dir), unit, int(eval_every)
        self.reference, self.reference_stats = reference, reference_stats
        self.num_samples, self.batch_size, self.seed, self.splits = num_samples, batch_size, seed, splits
        self.reference_split, self.reference_num, self.data_dir = reference_split, reference_num, data_dir
        self.kid_samples, self.at_train_end = kid_samples, at_train_end
        self.cache_dir = cache_dir or os.path.join(os.path.dirname(os.path.abspath(self.run_dir)), ".reference_cache")
        self._extractor_args = dict(extractor=extractor, classifier=classifier, inception=inception)
        self.extractor = None
        self.history = []
        self._writer = None
        self._batches = 0
        self._last_step = None

    def _step(self) -> int:
        steps = getattr(self.model, "generator_steps", None)
        return int(steps.numpy()) if steps is not None else self._batches

    def on_train_begin(self, logs=None):
        if self.extractor is None:
            self.extractor = resolve_extractor(**self._extractor_args)
        if self.reference_stats is None and any(m in self.metrics for m in ("fid", "kid")):
            self.reference_stats = reference_statistics(
                self.reference, self.extractor, num=self.reference_num or self.num_samples,
                split=self.reference_split, data_dir=self.data_dir, batch_size=self.batch_size,
                kid_samples=self.kid_samples, cache_dir=self.cache_dir)

    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1
        if self.unit == "steps":
            step = self._step()
            if step % self.eval_every == 0 and step != self._last_step:
                self.evaluate_now()

    def on_epoch_end(self, epoch, logs=None):
        if self.unit == "epochs" and (epoch + 1) % self.eval_every == 0 and self._step() != self._last_step:
            result = self.evaluate_now(epoch=epoch)
            if logs is not None:
                logs.update({k: v for k, v in result.items() if isinstance(v, float)})

    def on_train_end(self, logs=None):
        if self.at_train_end and self._step() != self._last_step:
            self.evaluate_now()

    def evaluate_now(self, epoch=None) -> dict:
        """Evaluates the model's EMA generator now and records the result."""
        if self.extractor is None:
            self.on_train_begin()
        step = self._step()
        result = evaluate(self.model, metrics=self.metrics, num_samples=self.num_samples, extractor=self.extractor,
                          reference_stats=self.reference_stats, batch_size=self.batch_size, seed=self.seed,
                          splits=self.splits, kid_samples=self.kid_samples)
        result.update(event="evaluation", step=step, time=time.time())
        if epoch is not None:
            result["epoch"] = int(epoch)
        self._last_step = step
        self.history.append(result)
        append_jsonl(os.path.join(self.run_dir, "metrics.jsonl"), result)
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(os.path.join(self.run_dir, "tensorboard", "eval"))
        with self._writer.as_default():
            for label in metric_labels(self.extractor).values():
                for key in (label, label + "_std"):
                    if result.get(key) is not None:
                        tf.summary.scalar(f"eval/{key}", result[key], step=step)
            self._writer.flush()
        return result


# ------------------------------------------------------------------------ sweeps (Adler & Lunz Figs. 2, 3, 6)

def _space_spec(config: dict):
    for key in ("space", "banach_space", "norm"):
        value = config.get(key)
        if isinstance(value, str):
            return value
    nested = config.get("lipschitz")
    return nested.get("space") if isinstance(nested, dict) else None


def sweep_table(run_dirs) -> list:
    """One row per run directory: its space spec, s and p, step and the last evaluation's metrics.

    Metric columns are those whose names start with is/fid/kid/cs_/fd_/kd_ in the last metrics.jsonl record
    that has any of them."""
    from bwgan_tf import spaces
    rows = []
    for run_dir in run_dirs:
        config_path = os.path.join(run_dir, "config.json")
        if not os.path.isfile(config_path):
            raise ValueError(f"run_dirs: no config.json in {run_dir!r}")
        with open(config_path) as f:
            config = json.load(f)
        spec = _space_spec(config)
        row = {"run_dir": os.fspath(run_dir), "space": spec, "s": None, "p": None}
        if spec:
            space = spaces.parse(spec)
            row["s"] = getattr(space, "s", 0.0 if hasattr(space, "p") else None)
            row["p"] = getattr(space, "p", None)
        prefixes = ("is", "fid", "kid", "cs_", "fd_", "kd_")
        for record in reversed(files.read_jsonl(os.path.join(run_dir, "metrics.jsonl"))):
            found = {k: v for k, v in record.items() if k.startswith(prefixes) and isinstance(v, (int, float))}
            if found:
                row["step"] = record.get("step")
                row.update(found)
                break
        rows.append(row)
    return rows
