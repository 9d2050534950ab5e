"""Experiments: the papers' presets, the run directory, and the training run that survives interruption.

A run directory holds everything needed to trace and resume a result:
  config.json      the full configuration, with lambda/gamma as resolved (section 3.2 heuristic for "auto")
  metrics.jsonl    one JSON line per logged generator step (train-step scalars, steps/s) and per evaluation
  checkpoints/     tf.train.CheckpointManager: generator, critic, EMA generator, both optimizers, step counters
  tensorboard/     scalars, sample grids, dD at real images (raw and as a direction in B)
  samples/         PNG grids of the EMA generator from a fixed z (2-D data: points over the critic's contours)
Training an existing run directory resumes from its latest checkpoint.
"""
import json
import math
import os
import time
from typing import Optional, Tuple

import numpy as np
import tensorflow as tf

from bwgan_tf import data, files, gan, images, lipschitz, models, spaces

# --------------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------------
DEFAULTS = dict(
    preset=None, dataset="cifar10", data_dir=None, image_size=None,
    space="l2", lipschitz="gradient_penalty", lam="auto", gamma="auto", clip=0.01, one_sided=False, drift=1e-5,
    architecture="resnet", width=None, latent_dim=128, critic_normalization=None, generator_batch_norm=True,
    n_critic=5, batch_size=64, steps=100_000, lr=None, lr_decay=True, ema_decay=0.999, seed=0,
    xla="auto", mixed_precision=False, strategy="default",
    output_dir=None, checkpoint_every=1000, keep_checkpoints=3, sample_every=1000, log_every=100,
    eval_every=0, eval_metrics="is,fid", eval_num_samples=10_000, eval_classifier=None, inception=None,
)

_PAPER = dict(architecture="resnet", latent_dim=128, n_critic=5, batch_size=64, steps=100_000, lr=2e-4, lr_decay=True)
_TOY = dict(architecture="toy_mlp", width=512, latent_dim=2, space="l2", lam=10.0, gamma=1.0, n_critic=5,
            batch_size=256, steps=100_000, lr=1e-4, lr_decay=False, xla=True, sample_every=1000)

PRESETS = {
    # Adler & Lunz 2018: best inception score 8.31 with L^10, lambda and gamma by the section 3.2 heuristic.
    "cifar10_l10": dict(_PAPER, dataset="cifar10", space="lp:p=10", lam="auto", gamma="auto"),
    # Adler & Lunz 2018: W^{-3/2,2}, inception score 8.26.
    "cifar10_sobolev": dict(_PAPER, dataset="cifar10", space="sobolev:s=-1.5,p=2,c=5", lam="auto", gamma="auto"),
    # WGAN-GP (Gulrajani et al. 2017) as the W^{0,2} = l2 special case: lambda 10, gamma 1.
    "cifar10_wgan_gp": dict(_PAPER, dataset="cifar10", space="sobolev:s=0,p=2,c=5", lam=10.0, gamma=1.0),
    # Adler & Lunz 2018 CelebA 64x64 with a Sobolev norm (one more residual block per side).
    "celeba_sobolev": dict(_PAPER, dataset="celeb_a", image_size=64, space="sobolev:s=-1.5,p=2,c=5", lam="auto",
                           gamma="auto"),
    # Arjovsky et al. 2017, Algorithm 1: RMSProp 5e-5, clip 0.01, DCGAN pair, LSUN bedrooms 64x64.
    "lsun_wgan": dict(dataset="lsun_bedroom", image_size=64, lipschitz="weight_clipping", clip=0.01,
                      architecture="dcgan", width=64, latent_dim=100, critic_normalization="batch", n_critic=5,
                      batch_size=64, steps=100_000, lr=5e-5, lr_decay=False),
    # Arjovsky et al. 2017, Fig. 8: the 4 x 512 MLP generator against the DCGAN critic.
    "lsun_wgan_mlp": dict(dataset="lsun_bedroom", image_size=64, lipschitz="weight_clipping", clip=0.01,
                          architecture="mlp/dcgan", width=None, latent_dim=100, critic_normalization="batch",
                          n_critic=5, batch_size=64, steps=100_000, lr=5e-5, lr_decay=False),
    # Gulrajani et al. 2017 toy experiments (gan_toy.py): 3 x 512 ReLU MLPs, lambda 10.
    "toy_8gaussians": dict(_TOY, dataset="toy:8gaussians"),
    "toy_25gaussians": dict(_TOY, dataset="toy:25gaussians"),
    "toy_swissroll": dict(_TOY, dataset="toy:swissroll"),
}

# Keys that define the model and the data it learns; a resumed run must agree on them.
MODEL_KEYS = ("dataset", "image_size", "space", "lipschitz", "architecture", "width", "latent_dim",
              "critic_normalization", "generator_batch_norm", "n_critic", "batch_size", "seed")
STRATEGIES = ("default", "mirrored")


class NonFiniteLossError(RuntimeError):
    """A training scalar became NaN or infinite; the run stopped and kept its last good checkpoint."""


def _fail(key: str, message: str):
    raise ValueError(f"{key}: {message}")


def _int(config, key, minimum):
    value = config[key]
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        _fail(key, f"must be an integer >= {minimum}, got {value!r}")
    config[key] = int(value)


def _number_or_auto(config, key, positive):
    value = config[key]
    if value == "auto":
        return
    try:
        value = float(value)
    except (TypeError, ValueError):
        _fail(key, f"must be a number or 'auto', got {config[key]!r}")
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        _fail(key, f"must be a {'positive' if positive else 'non-negative'} number or 'auto', got {config[key]!r}")
    config[key] = value


def _bool(config, key, allow_auto=False):
    value = config[key]
    if isinstance(value, str):
        lowered = value.strip().lower()
        if allow_auto and lowered == "auto":
            config[key] = "auto"
            return
        if lowered in ("true", "1", "yes"):
            value = True
        elif lowered in ("false", "0", "no"):
            value = False
    if not isinstance(value, (bool, np.bool_)):
        _fail(key, f"must be true or false{' or auto' if allow_auto else ''}, got {config[key]!r}")
    config[key] = bool(value)


def split_architecture(architecture: str) -> Tuple[str, str]:
    """'NAME' or 'GENERATOR/CRITIC' -> (generator architecture, critic architecture)."""
    parts = str(architecture).split("/")
    if len(parts) not in (1, 2) or any(p not in models.ARCHITECTURES for p in parts):
        _fail("architecture", f"must be NAME or GENERATOR/CRITIC with names in {', '.join(models.ARCHITECTURES)}, "
                              f"got {architecture!r}")
    return parts[0], parts[-1]


def make_config(preset: Optional[str] = None, **overrides) -> dict:
    """DEFAULTS, then the preset's values, then the overrides that are not None; validated.

    Raises ValueError naming the key (the same name as the tool's flag) and what is allowed.
    """
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown config keys {', '.join(unknown)}; known: {', '.join(sorted(DEFAULTS))}")
    if preset is not None and preset not in PRESETS:
        _fail("preset", f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    config = dict(DEFAULTS)
    config.update(PRESETS.get(preset, {}))
    config.update({k: v for k, v in overrides.items() if v is not None})
    config["preset"] = preset
    return validate(config)


def validate(config: dict) -> dict:
    config = dict(config)
    for key, minimum in (("n_critic", 1), ("batch_size", 1), ("steps", 1), ("latent_dim", 1), ("checkpoint_every", 1),
                         ("keep_checkpoints", 1), ("sample_every", 0), ("log_every", 1), ("eval_every", 0),
                         ("eval_num_samples", 2), ("seed", 0)):
        _int(config, key, minimum)
    for key in ("width", "image_size"):
        if config[key] is not None:
            _int(config, key, 1)
    if config["lipschitz"] not in lipschitz.NAMES:
        _fail("lipschitz", f"must be one of {', '.join(lipschitz.NAMES)}, got {config['lipschitz']!r}")
    try:
        config["space"] = str(spaces.parse(config["space"]))
    except ValueError as error:
        _fail("space", str(error))
    try:
        data.sample_shape(config["dataset"], config["image_size"])
    except ValueError as error:
        _fail("dataset", str(error))
    _number_or_auto(config, "lam", positive=False)
    _number_or_auto(config, "gamma", positive=True)
    for key in ("clip", "drift"):
        try:
            config[key] = float(config[key])
        except (TypeError, ValueError):
            _fail(key, f"must be a number, got {config[key]!r}")
    if not config["clip"] > 0:
        _fail("clip", f"must be positive, got {config['clip']}")
    if config["lr"] is not None:
        try:
            config["lr"] = float(config["lr"])
        except (TypeError, ValueError):
            _fail("lr", f"must be a positive number, got {config['lr']!r}")
        if not config["lr"] > 0:
            _fail("lr", f"must be a positive number, got {config['lr']!r}")
    config["ema_decay"] = float(config["ema_decay"])
    if not 0 <= config["ema_decay"] < 1:
        _fail("ema_decay", f"must be in [0, 1), got {config['ema_decay']}")
    for key in ("one_sided", "lr_decay", "generator_batch_norm", "mixed_precision"):
        _bool(config, key)
    _bool(config, "xla", allow_auto=True)
    split_architecture(config["architecture"])
    if config["critic_normalization"] in ("", "none", "None"):
        config["critic_normalization"] = None
    if config["critic_normalization"] not in models.NORMALIZATIONS:
        _fail("critic_normalization", f"must be one of none, layer, batch, got {config['critic_normalization']!r}")
    if config["critic_normalization"] == "batch" and config["lipschitz"] != "weight_clipping":
        _fail("critic_normalization", "batch norm in the critic is only allowed with weight clipping: a penalty "
                                      "on per-sample gradients assumes samples are scored independently")
    if config["strategy"] not in STRATEGIES:
        _fail("strategy", f"must be one of {', '.join(STRATEGIES)}, got {config['strategy']!r}")
    if config["eval_every"]:
        from bwgan_tf import evaluation  # imports TF-GAN; only needed when evaluating
        evaluation.parse_metrics(config["eval_metrics"])
    return config


# --------------------------------------------------------------------------------------------------
# Building a model from a configuration
# --------------------------------------------------------------------------------------------------
def resolve_xla(config) -> bool:
    """"auto": XLA where it was measured faster: on GPU always; on CPU for the MLPs (XLA's CPU convolutions are
    slower than oneDNN's, tools/benchmark.py). Never under MirroredStrategy (cross-replica updates)."""
    if config["strategy"] == "mirrored":
        return False
    if config["xla"] != "auto":
        return config["xla"]
    return bool(tf.config.list_physical_devices("GPU")) or all(
        name in ("mlp", "toy_mlp") for name in split_architecture(config["architecture"]))


def resolve_lambda_gamma(config) -> Tuple[float, float]:
    """lam and gamma as numbers; "auto" from 2,000 real images (Adler & Lunz 2018, section 3.2)."""
    if config["lipschitz"] in ("weight_clipping", "c_transform"):
        return 0.0, 1.0
    real = None
    if "auto" in (config["lam"], config["gamma"]):
        real = data.take(config["dataset"], lipschitz.MIN_HEURISTIC_IMAGES, data_dir=config["data_dir"],
                         seed=config["seed"], image_size=config["image_size"])
    return lipschitz.resolve_lambda_gamma(config["space"], config["lam"], config["gamma"], real)


def build_model(config: dict) -> gan.WassersteinGAN:
    """The WassersteinGAN of a validated config whose lam and gamma are numbers (see resolve_lambda_gamma)."""
    image_shape = data.sample_shape(config["dataset"], config["image_size"])
    generator_name, critic_name = split_architecture(config["architecture"])
    width = config["width"]
    generator = models.build_generator(generator_name, image_shape=image_shape, latent_dim=config["latent_dim"],
                                       width=width if generator_name == critic_name else None,
                                       batch_norm=config["generator_batch_norm"], seed=config["seed"])
    critic = models.build_critic(critic_name, image_shape=image_shape, width=width, seed=config["seed"] + 1,
                                 normalization=config["critic_normalization"])
    strategy = lipschitz.build(config["lipschitz"], space=config["space"], lam=config["lam"], gamma=config["gamma"],
                               clip=config["clip"], one_sided=config["one_sided"])
    model = gan.WassersteinGAN(generator, critic, latent_dim=config["latent_dim"], lipschitz=strategy,
                               n_critic=config["n_critic"], ema_decay=config["ema_decay"], drift=config["drift"],
                               seed=config["seed"])
    optimizers = gan.paper_optimizers(config["lipschitz"], lr=config["lr"], n_critic=config["n_critic"],
                                      decay_steps=config["steps"] if config["lr_decay"] else None)
    if tf.keras.mixed_precision.global_policy().name == "mixed_float16":
        optimizers = tuple(tf.keras.mixed_precision.LossScaleOptimizer(o) for o in optimizers)
    model.compile(*optimizers, jit_compile=resolve_xla(config))
    return model


def _checkpoint_manager(model, run_dir, keep=3) -> tf.train.CheckpointManager:
    checkpoint = tf.train.Checkpoint(**model.checkpoint_items())
    return tf.train.CheckpointManager(checkpoint, os.path.join(run_dir, "checkpoints"), max_to_keep=keep)


def read_config(run_dir: str) -> dict:
    path = os.path.join(run_dir, "config.json")
    if not os.path.isfile(path):
        raise ValueError(f"run_dir: {run_dir!r} holds no config.json (not a bwgan_tf run directory)")
    with open(path) as f:
        return json.load(f)


def load_model(run_dir: str, checkpoint: Optional[str] = None) -> Tuple[gan.WassersteinGAN, dict]:
    """The model of a run directory restored from its latest (or the given) checkpoint, and its config."""
    config = read_config(run_dir)
    model = build_model(config)
    manager = _checkpoint_manager(model, run_dir)
    path = checkpoint or manager.latest_checkpoint
    if path is None:
        raise ValueError(f"run_dir: {run_dir!r} has no checkpoint yet")
    manager.checkpoint.restore(path).expect_partial()
    return model, config


def load_generator(run_dir: str, checkpoint: Optional[str] = None) -> Tuple[tf.keras.Model, dict]:
    """The EMA generator of a run directory (latest or given checkpoint) and the run's config."""
    model, config = load_model(run_dir, checkpoint)
    return model.ema_generator, config


# --------------------------------------------------------------------------------------------------
# Run directory files
# --------------------------------------------------------------------------------------------------
def read_metrics(run_dir: str) -> list:
    """The records of metrics.jsonl (a line cut short by a kill is skipped)."""
    return files.read_jsonl(os.path.join(run_dir, "metrics.jsonl"))


def _truncate_metrics(run_dir: str, step: int) -> None:
    """After a resume from `step`, drop the lines the interrupted run logged past it."""
    path = os.path.join(run_dir, "metrics.jsonl")
    if not os.path.exists(path):
        return
    kept = [r for r in read_metrics(run_dir) if r.get("step", 0) <= step]
    files.write_text_atomically(path, "".join(json.dumps(r) + "\n" for r in kept))


def prepare_run_dir(config: dict) -> Tuple[str, dict]:
    """Creates output_dir (or checks that an existing run agrees on MODEL_KEYS) and writes config.json.

    Returns (run_dir, config with lam and gamma resolved).
    """
    run_dir = config["output_dir"]
    if not run_dir:
        _fail("output_dir", "is required")
    os.makedirs(run_dir, exist_ok=True)
    config = dict(config)
    path = os.path.join(run_dir, "config.json")
    if os.path.exists(path):
        saved = read_config(run_dir)
        changed = [k for k in MODEL_KEYS if saved.get(k) != config.get(k)]
        if changed:
            details = ", ".join(f"{k}: {saved.get(k)!r} there, {config.get(k)!r} now" for k in changed)
            _fail("output_dir", f"{run_dir!r} holds a different run ({details}); resume it with the same settings "
                                f"or choose another output_dir")
        config["lam"], config["gamma"] = saved["lam"], saved["gamma"]
        config["lam_gamma_source"] = saved.get("lam_gamma_source")
    else:
        config["lam_gamma_source"] = {k: ("heuristic" if config[k] == "auto" else "given") for k in ("lam", "gamma")}
        config["lam"], config["gamma"] = resolve_lambda_gamma(config)
    for sub in ("checkpoints", "tensorboard", "samples"):
        os.makedirs(os.path.join(run_dir, sub), exist_ok=True)
    files.write_json_atomically(path, config)
    return run_dir, config


# --------------------------------------------------------------------------------------------------
# Callbacks
# --------------------------------------------------------------------------------------------------
class _StepCallback(tf.keras.callbacks.Callback):
    """Base: the current generator step, and a stop flag shared with NonFiniteGuard."""

    guard = None

    def step(self) -> int:
        return int(self.model.generator_steps.numpy())

    def stopped(self) -> bool:
        return self.guard is not None and self.guard.failure is not None


class NonFiniteGuard(_StepCallback):
    """Stops training at the first NaN or infinite scalar, before anything is logged or saved for that step."""

    def __init__(self):
        super().__init__()
        self.failure = None

    def on_train_batch_end(self, batch, logs=None):
        for term, value in (logs or {}).items():
            if not np.isfinite(value):
                self.failure = (self.step(), term, float(value))
                self.model.stop_training = True
                return


class MetricsLogger(_StepCallback):
    """Every log_every generator steps: a metrics.jsonl line, TensorBoard scalars and a progress line."""

    def __init__(self, run_dir, writer, total_steps, log_every, start_step, print_fn=print):
        super().__init__()
        self.path = os.path.join(run_dir, "metrics.jsonl")
        self.writer, self.total, self.every, self.print = writer, total_steps, log_every, print_fn
        self.last_time, self.last_step, self.start = None, start_step, start_step

    def on_train_begin(self, logs=None):
        self.last_time = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        step = self.step()
        if self.stopped() or (step % self.every and step != self.total and step != self.start + 1):
            return
        now = time.perf_counter()
        rate = (step - self.last_step) / max(now - self.last_time, 1e-9)
        self.last_time, self.last_step = now, step
        record = {"step": step, "time": time.time(), "steps_per_s": rate}
        record.update({k: float(v) for k, v in (logs or {}).items()})
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")
        with self.writer.as_default(step=step):
            for key, value in record.items():
                if key not in ("step", "time"):
                    tf.summary.scalar(f"train/{key}", value)
        eta = (self.total - step) / rate if rate > 0 else float("inf")
        scalars = " ".join(f"{k} {record[k]:.4g}" for k in ("wasserstein", "critic_loss", "generator_loss", "grad_norm")
                           if k in record)
        self.print(f"step {step}/{self.total} ({100 * step / self.total:.1f}%) | {rate:.2f} steps/s | "
                   f"ETA {_duration(eta)} | {scalars}", flush=True)


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


class CheckpointSaver(_StepCallback):
    """Every checkpoint_every generator steps and at the end: CheckpointManager.save (written, then indexed)."""

    def __init__(self, manager, every):
        super().__init__()
        self.manager, self.every = manager, every

    def save(self):
        step = self.step()
        if self.manager.latest_checkpoint != self._path(step):
            self.manager.save(checkpoint_number=step)

    def _path(self, step):
        return os.path.join(self.manager.directory, f"ckpt-{step}")

    def on_train_batch_end(self, batch, logs=None):
        if not self.stopped() and self.step() % self.every == 0:
            self.save()

    def on_train_end(self, logs=None):
        if not self.stopped():
            self.save()


def critic_field(critic, extent=2.0, resolution=120) -> np.ndarray:
    """Critic values on a [resolution, resolution] grid over [-extent, extent]^2 (row 0 at y = +extent)."""
    axis = np.linspace(-extent, extent, resolution, dtype=np.float32)
    xx, yy = np.meshgrid(axis, axis[::-1])
    points = np.stack([xx.ravel(), yy.ravel()], axis=1)
    return critic(points, training=False).numpy().reshape(resolution, resolution)


def toy_picture(model, real_points, num=1000, seed=0, extent=None) -> np.ndarray:
    """Generated points (orange) over real points (blue) and the critic's contours."""
    fake = model.sample(num, seed).numpy()
    extent = extent or float(max(2.0, np.abs(real_points).max() * 1.2))
    field = critic_field(model.critic, extent)
    return images.scatter([(real_points, (30, 90, 200)), (fake, (240, 120, 0))], extent=extent, field=field)


class SampleWriter(_StepCallback):
    """Every sample_every generator steps: samples/step_XXXXXXX.png of the EMA generator for a fixed z, and in
    TensorBoard the grid plus dD at real images, raw and as a direction in B (Adler & Lunz 2018, Figs. 8-14).

    dD(x) is an element of B*; the raw input gradient shows it in L^2 coordinates. To show what the critic "sees"
    in the chosen space we also draw spaces.dual_representation: the x in B with <dD, x> = ||dD||_{B*}^2 and
    ||x||_B = ||dD||_{B*}; for W^{s,2} that is the gradient mapped through the dual Sobolev filter twice
    (M_{-2s} dD, the Riesz representer), for L^p the duality map |g|^{q-1} sign g. Signed values are shown with
    0 at mid-grey (images.signed_to_uint8)."""

    def __init__(self, run_dir, writer, every, real_examples, space, num=64, seed=0):
        super().__init__()
        self.dir, self.writer, self.every = os.path.join(run_dir, "samples"), writer, every
        self.real, self.space, self.num, self.seed = real_examples, spaces.parse(space), num, seed

    def on_train_batch_end(self, batch, logs=None):
        if not self.stopped() and self.every and self.step() % self.every == 0:
            self.write()

    def on_train_end(self, logs=None):
        if not self.stopped() and self.every:
            self.write()

    def write(self):
        step = self.step()
        if self.real.ndim == 2:
            picture = toy_picture(self.model, self.real, seed=self.seed)
        else:
            picture = images.grid(images.to_uint8(self.model.sample(self.num, self.seed).numpy()))
        images.write_png(os.path.join(self.dir, f"step_{step:07d}.png"), picture)
        with self.writer.as_default(step=step):
            tf.summary.image("samples", picture[None])
            if self.real.ndim == 4:
                self._gradient_images()

    def _gradient_images(self):
        real = tf.constant(self.real[:8])
        with tf.GradientTape() as tape:
            tape.watch(real)
            scores = tf.reduce_sum(tf.cast(self.model.critic(real, training=False), tf.float32))
        gradient = tape.gradient(scores, real)
        tf.summary.image("dD/raw_gradient", _as_displayable(images.signed_to_uint8(gradient.numpy())), max_outputs=8)
        if isinstance(self.space, (spaces.Lp, spaces.Sobolev)):
            direction = spaces.dual_representation(self.space, gradient).numpy()
            tf.summary.image("dD/direction_in_B", _as_displayable(images.signed_to_uint8(direction)), max_outputs=8)


def _as_displayable(batch: np.ndarray) -> np.ndarray:
    return batch if batch.shape[-1] in (1, 3, 4) else batch[..., :1]


# --------------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------------
def _distribution(name: str) -> tf.distribute.Strategy:
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def _policy(enabled: bool) -> str:
    if not enabled:
        return "float32"
    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"


def train(config: dict, print_fn=print) -> str:
    """Trains (or resumes) the run described by ``config`` (see make_config) and returns its run directory.

    Raises ValueError for bad settings and NonFiniteLossError when a training scalar becomes NaN/inf.
    """
    config = validate(dict(DEFAULTS, **config))
    run_dir, config = prepare_run_dir(config)
    print_fn("config: " + json.dumps(config, sort_keys=True), flush=True)
    previous_policy = tf.keras.mixed_precision.global_policy()
    tf.keras.mixed_precision.set_global_policy(_policy(config["mixed_precision"]))
    try:
        return _train(config, run_dir, print_fn)
    finally:
        tf.keras.mixed_precision.set_global_policy(previous_policy)


def _train(config, run_dir, print_fn) -> str:
    strategy = _distribution(config["strategy"])
    with strategy.scope():
        model = build_model(config)
    manager = _checkpoint_manager(model, run_dir, config["keep_checkpoints"])
    if manager.latest_checkpoint:
        manager.checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
        print_fn(f"resumed from {manager.latest_checkpoint}", flush=True)
    start = int(model.generator_steps.numpy())
    if manager.latest_checkpoint and start != int(manager.latest_checkpoint.rsplit("-", 1)[1]):
        raise RuntimeError(f"{manager.latest_checkpoint} restored generator step {start}, not the step it is named "
                           f"after: the checkpoint is inconsistent")
    _truncate_metrics(run_dir, start)
    remaining = config["steps"] - start
    if remaining <= 0:
        print_fn(f"run complete: {start} of {config['steps']} generator steps already done", flush=True)
        return run_dir
    per_step = config["batch_size"] * config["n_critic"]
    dataset = data.load(config["dataset"], "train", batch_size=per_step, data_dir=config["data_dir"],
                        seed=config["seed"] * 1_000_003 + start, image_size=config["image_size"])
    examples = data.take(config["dataset"], 1000 if data.sample_shape(config["dataset"], config["image_size"]) == (2,)
                         else 8, data_dir=config["data_dir"], seed=config["seed"] + 1, image_size=config["image_size"])
    writer = tf.summary.create_file_writer(os.path.join(run_dir, "tensorboard"))
    guard = NonFiniteGuard()
    callbacks = [guard, MetricsLogger(run_dir, writer, config["steps"], config["log_every"], start, print_fn),
                 CheckpointSaver(manager, config["checkpoint_every"]),
                 SampleWriter(run_dir, writer, config["sample_every"], examples, config["space"], seed=config["seed"])]
    if config["eval_every"]:
        from bwgan_tf import evaluation
        callbacks.append(evaluation.EvaluationCallback(
            run_dir, reference=config["dataset"], eval_every=config["eval_every"], metrics=config["eval_metrics"],
            num_samples=config["eval_num_samples"], classifier=config["eval_classifier"], inception=config["inception"],
            data_dir=config["data_dir"], seed=config["seed"]))
    for callback in callbacks:
        callback.guard = guard
    print_fn(f"training {remaining} generator steps ({config['n_critic']} critic steps each, batch "
             f"{config['batch_size']}) in {run_dir}", flush=True)
    model.fit(dataset, epochs=1, steps_per_epoch=remaining, callbacks=callbacks, verbose=0)
    writer.flush()
    if guard.failure is not None:
        step, term, value = guard.failure
        raise NonFiniteLossError(f"training stopped at generator step {step}: {term} is {value}; the last good "
                                 f"checkpoint is {manager.latest_checkpoint}")
    return run_dir
