"""How well does a critic estimate the Wasserstein distance? (Mallasto, Montufar & Gerolin, Table 1).

Protocol: a critic alone is trained for ``iterations`` steps on fresh mini-batches of ``batch_size`` from two
distributions P and Q, to maximise E_P D - E_Q D under one Lipschitz method; then, on fresh batch pairs, its
estimate is compared with the exact batch distance W_1 (bwgan_tf.ot, cost ||x - y||_B), error =
|estimate - exact|; repeated ``repeats`` times, reported as mean +- std. Methods:

  weight_clipping          WGAN (Arjovsky et al. 2017, Alg. 1): RMSProp 5e-5, |w| <= c; estimate
                           E_P D - E_Q D, compared with W_1 in l2 (clipping bounds no particular norm).
  gradient_penalty         WGAN-GP (Gulrajani et al. 2017): penalty in l2, Adam; compared with W_1 in l2.
  banach_gradient_penalty  BWGAN (Adler & Lunz 2018, eq. 8): penalty in the dual norm of ``space``;
                           estimate (E_P D - E_Q D) / gamma, compared with W_1 in ``space``.
  c_transform              Mallasto et al. objective (6): phi on the P batch, phi^c(y_j) = min_i c(x_i, y_j)
                           - phi(x_i) on the Q batch, estimate mean phi(x) + mean phi^c(y) <= exact W_1.

Also WGAN's Example 1 (parallel lines): W(P_0, P_theta) = |theta| while JS = log 2 for theta != 0.
The scores, penalties and clipping are bwgan_tf.lipschitz's; this module adds the data, critics and loop.
"""
import dataclasses
import math
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import tensorflow as tf

from bwgan_tf import lipschitz, ot, spaces

METHODS = ("weight_clipping", "gradient_penalty", "banach_gradient_penalty", "c_transform")
SECOND_DISTRIBUTIONS = ("half", "noise:STD")

# Mallasto et al., Table 1, CIFAR-10 row: error mean +- std over 20 critics (500 iterations, batch 64).
MALLASTO_CIFAR10 = {"weight_clipping": (27.26, 0.61), "gradient_penalty": (27.14, 0.87), "c_transform": (1.53, 0.29)}


# --------------------------------------------------------------------------------------------------
# Pairs of distributions
# --------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Pair:
    """Two distributions P, Q sampled together: ``sample(n, seed)`` -> (x [n, ...], y [n, ...]) float32.

    ``sample`` is a TF function of a stateless seed (int32 [2]) usable inside tf.function / XLA.
    ``population`` is the population W_1 in ``population_space`` where known (else None).
    """

    name: str
    sample_shape: Tuple[int, ...]
    sample: Callable[[int, tf.Tensor], Tuple[tf.Tensor, tf.Tensor]]
    population: Optional[float] = None
    population_space: Optional[str] = None


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _split_seed(seed: tf.Tensor, k: int) -> tf.Tensor:
    return tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=k)


def gaussians_pair(shift: float = 1.0) -> Pair:
    """P = N(+(shift, shift), I), Q = N(-(shift, shift), I) in R^2 (Mallasto et al., Fig. 2).

    A translation: the population W_1 in any norm is ||(2 shift, 2 shift)||, 2 sqrt(2) in l2 for shift 1.
    """
    shift = float(shift)
    offset = tf.constant([shift, shift], tf.float32)

    def sample(n, seed):
        sx, sy = tf.unstack(_split_seed(seed, 2))
        return (tf.random.stateless_normal([n, 2], sx) + offset, tf.random.stateless_normal([n, 2], sy) - offset)

    return Pair(f"gaussians:shift={shift:g}", (2,), sample, population=2 * math.sqrt(2) * abs(shift), population_space="l2")


def parallel_lines_pair(theta: float) -> Pair:
    """P_0 = (0, Z), P_theta = (theta, Z), Z ~ U[0, 1] (Arjovsky et al. 2017, Example 1): W_1 = |theta|."""
    theta = float(theta)
    if not math.isfinite(theta):
        raise ValueError(f"theta must be a finite number, got {theta!r}")

    def sample(n, seed):
        sx, sy = tf.unstack(_split_seed(seed, 2))
        zx, zy = tf.random.stateless_uniform([n, 1], sx), tf.random.stateless_uniform([n, 1], sy)
        return tf.concat([tf.zeros_like(zx), zx], 1), tf.concat([tf.fill(tf.shape(zy), theta), zy], 1)

    return Pair(f"parallel_lines:theta={theta:g}", (2,), sample, population=abs(theta), population_space="l2")


def load_cifar_images(path) -> np.ndarray:
    """x_train of an npz (uint8 [N, H, W, C]) as float32 in [-1, 1]."""
    try:
        with np.load(path) as data:
            images = data["x_train"]
    except (OSError, KeyError) as error:
        raise ValueError(f"cifar_path must be an .npz with x_train uint8 [N, H, W, C]; {path}: {error}") from None
    if images.ndim != 4:
        raise ValueError(f"cifar_path {path}: x_train must be [N, H, W, C], got shape {images.shape}")
    return images.astype(np.float32) / 127.5 - 1.0


def cifar_pair(images, second: str = "half", seed: int = 0) -> Pair:
    """P = real images, Q named by ``second``.

    Args:
      images: float32 [N, H, W, C] in [-1, 1].
      second: "half" (P and Q are two disjoint halves of the images, split by a seeded permutation) or
        "noise:STD" (P the images, Q independently drawn images plus N(0, STD^2) noise per pixel).
      seed: seed of the split.
    """
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[0] < 4:
        raise ValueError(f"images must be [N, H, W, C] with N >= 4, got shape {images.shape}")
    if second == "half":
        order = np.random.default_rng(seed).permutation(images.shape[0])
        half = images.shape[0] // 2
        first, other, noise = images[order[:half]], images[order[half:2 * half]], 0.0
    elif isinstance(second, str) and second.startswith("noise:"):
        try:
            noise = float(second.split(":", 1)[1])
        except ValueError:
            noise = float("nan")
        if not (math.isfinite(noise) and noise > 0):
            raise ValueError(f"second must be 'half' or 'noise:STD' with STD > 0, got {second!r}")
        first = other = images
    else:
        raise ValueError(f"second must be one of {', '.join(SECOND_DISTRIBUTIONS)}, got {second!r}")
    first_t, other_t = tf.constant(first), tf.constant(other)

    def sample(n, seed):
        sx, sy, sn = tf.unstack(_split_seed(seed, 3))
        ix = tf.random.stateless_uniform([n], sx, 0, first_t.shape[0], dtype=tf.int32)
        iy = tf.random.stateless_uniform([n], sy, 0, other_t.shape[0], dtype=tf.int32)
        x, y = tf.gather(first_t, ix), tf.gather(other_t, iy)
        if noise:
            y = y + noise * tf.random.stateless_normal(tf.shape(y), sn)
        return x, y

    return Pair(f"cifar10:{second}", tuple(images.shape[1:]), sample)


# --------------------------------------------------------------------------------------------------
# Critics
# --------------------------------------------------------------------------------------------------
CRITICS = ("mlp", "conv")


def build_critic(sample_shape: Sequence[int], kind: str = "mlp", width: int = 128, seed: int = 0) -> tf.keras.Model:
    """A small critic [N, *sample_shape] -> [N].

    mlp: flatten, 3 x Dense(width) ReLU, Dense(1). conv (images): Conv 3x3 stride 2 with width, 2 width,
    4 width channels, LeakyReLU(0.2) after each, flatten, Dense(1). No normalisation (Gulrajani et al.).
    """
    if kind not in CRITICS:
        raise ValueError(f"critic must be one of {', '.join(CRITICS)}, got {kind!r}")
    width = _positive_int(width, "width")
    init = lambda k: tf.keras.initializers.GlorotUniform(seed=seed * 10 + k)  # noqa: E731
    inputs = tf.keras.Input(tuple(sample_shape))
    h = inputs
    if kind == "conv":
        if len(sample_shape) != 3:
            raise ValueError(f"critic 'conv' needs image samples [H, W, C], got sample shape {tuple(sample_shape)}")
        for k, mult in enumerate((1, 2, 4)):
            h = tf.keras.layers.Conv2D(width * mult, 3, strides=2, padding="same", kernel_initializer=init(k))(h)
            h = tf.keras.layers.LeakyReLU(0.2)(h)
        h = tf.keras.layers.Flatten()(h)
    else:
        h = tf.keras.layers.Flatten()(h)
        for k in range(3):
            h = tf.keras.layers.Dense(width, activation="relu", kernel_initializer=init(k))(h)
    out = tf.keras.layers.Dense(1, kernel_initializer=init(9))(h)
    return tf.keras.Model(inputs, tf.keras.layers.Reshape(())(out), name=f"{kind}_critic")


# --------------------------------------------------------------------------------------------------
# Methods: the loss to minimise, the batch estimate, and what follows an update
# --------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Method:
    """One Lipschitz method as used by the protocol.

    ``lipschitz`` is the bwgan_tf.lipschitz strategy (scores, penalty, after_critic_update); ``space`` the
    cost of the exact distance the estimate is compared with. The raw estimate is divided by the
    strategy's gamma (a gamma-Lipschitz critic estimates gamma W_1, Adler & Lunz 2018, eq. 8).
    """

    name: str
    lipschitz: lipschitz.LipschitzStrategy
    space: spaces.Space

    @property
    def scale(self) -> float:
        return float(self.lipschitz.gamma)

    def make_optimizer(self, learning_rate: Optional[float] = None) -> tf.keras.optimizers.Optimizer:
        """RMSProp(5e-5) for weight clipping (WGAN Alg. 1), else Adam(1e-4, beta1 0, beta2 0.9) (WGAN-GP)."""
        if self.name == "weight_clipping":
            return tf.keras.optimizers.RMSprop(learning_rate or 5e-5)
        return tf.keras.optimizers.Adam(learning_rate or 1e-4, beta_1=0.0, beta_2=0.9)


def make_method(name: str, space: Union[str, spaces.Space] = "l1", lam: float = 10.0, gamma: float = 1.0,
                clip: float = 0.01, c_transform_space: Union[str, spaces.Space] = "l2") -> Method:
    """The Method named ``name`` (one of METHODS); ``space`` is the Banach space of banach_gradient_penalty."""
    if name == "weight_clipping":
        return Method(name, lipschitz.WeightClipping(clip), spaces.Lp(2))
    if name == "gradient_penalty":
        return Method(name, lipschitz.GradientPenalty(spaces.Lp(2), lam, 1.0), spaces.Lp(2))
    if name == "banach_gradient_penalty":
        strategy = lipschitz.GradientPenalty(space, lam, gamma)
        return Method(name, strategy, strategy.space)
    if name == "c_transform":
        strategy = lipschitz.CTransform(c_transform_space)
        return Method(name, strategy, strategy.space)
    raise ValueError(f"method must be one of {', '.join(METHODS)}, got {name!r}")


def _estimate(method: Method, critic: tf.keras.Model, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
    """The raw batch estimate E_x D - E_y D with the strategy's scores (for c_transform: E phi + E phi^c)."""
    real, fake = method.lipschitz.scores(critic, x, y)
    return tf.reduce_mean(real) - tf.reduce_mean(fake)


# --------------------------------------------------------------------------------------------------
# The protocol
# --------------------------------------------------------------------------------------------------
class _Trainer:
    """One critic, its optimizer and compiled steps for a (pair, method); ``run(seed)`` re-initialises them.

    Re-initialising instead of rebuilding lets repeats share one XLA compilation.
    """

    def __init__(self, pair: Pair, method: Method, *, batch_size: int, critic: str, width: int,
                 learning_rate: Optional[float], jit_compile: bool):
        self.pair, self.method, self.critic, self.width = pair, method, critic, _positive_int(width, "width")
        batch_size = _positive_int(batch_size, "batch_size")
        self.model = model = build_critic(pair.sample_shape, critic, width, 0)
        self.optimizer = optimizer = method.make_optimizer(learning_rate)
        optimizer.build(model.trainable_variables)
        self.rng = rng = tf.random.Generator.from_seed(0)

        @tf.function(jit_compile=jit_compile)
        def train_step(step_seed):
            x, y = pair.sample(batch_size, step_seed)
            with tf.GradientTape() as tape:
                estimate = _estimate(method, model, x, y)
                penalty, _ = method.lipschitz.penalty(model, x, y, rng)
                loss = penalty - estimate  # the critic maximises E_P D - E_Q D minus the penalty
            optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
            return loss, estimate

        @tf.function(jit_compile=jit_compile)
        def estimate_step(step_seed):
            x, y = pair.sample(batch_size, step_seed)
            return _estimate(method, model, x, y) / method.scale, x, y

        self.train_step, self.estimate_step = train_step, estimate_step

    def run(self, seed: int, iterations: int, eval_batches: int) -> Dict:
        iterations = _positive_int(iterations, "iterations")
        eval_batches = _positive_int(eval_batches, "eval_batches")
        self.model.set_weights(build_critic(self.pair.sample_shape, self.critic, self.width, seed).get_weights())
        for variable in self.optimizer.variables:
            variable.assign(tf.zeros_like(variable))
        self.rng.reset_from_seed(seed)
        start = time.perf_counter()
        for it in range(iterations):
            self.train_step(tf.constant([seed, it], tf.int32))
            self.method.lipschitz.after_critic_update(self.model)
        train_seconds = time.perf_counter() - start
        start = time.perf_counter()
        estimates, exacts = [], []
        for e in range(eval_batches):
            estimate, x, y = self.estimate_step(tf.constant([seed, 10_000_000 + e], tf.int32))
            estimates.append(float(estimate))
            exacts.append(ot.wasserstein(x, y, self.method.space))
        estimates, exacts = np.array(estimates), np.array(exacts)
        return {"seed": seed, "estimate": float(estimates.mean()), "exact": float(exacts.mean()),
                "error": float(np.abs(estimates - exacts).mean()),
                "relative_error": float(np.mean(np.abs(estimates - exacts) / np.maximum(exacts, 1e-12))),
                "population": _population(self.pair, self.method.space),
                "train_seconds": train_seconds, "eval_seconds": time.perf_counter() - start}


def train_and_estimate(pair: Pair, method: Method, *, iterations: int = 500, batch_size: int = 64, seed: int = 0,
                       eval_batches: int = 1, critic: str = "mlp", width: int = 128,
                       learning_rate: Optional[float] = None, jit_compile: bool = True) -> Dict:
    """Trains one critic alone and compares its batch estimates with exact batch distances (bwgan_tf.ot).

    Returns:
      dict with ``estimate`` and ``exact`` (means over ``eval_batches`` fresh batch pairs), ``error``
      (mean over those pairs of |estimate - exact|), ``relative_error`` (of |estimate - exact| / exact),
      ``population`` (W_1 in the method's cost space where known), ``train_seconds``, ``eval_seconds``.
    """
    _positive_int(iterations, "iterations"), _positive_int(eval_batches, "eval_batches")
    trainer = _Trainer(pair, method, batch_size=batch_size, critic=critic, width=width,
                       learning_rate=learning_rate, jit_compile=jit_compile)
    return trainer.run(seed, iterations, eval_batches)


def _population(pair: Pair, space: spaces.Space) -> Optional[float]:
    """Population W_1 of a translation pair (Q = P - v) in any norm: ||v||; None for other pairs."""
    if pair.name.startswith("gaussians:shift="):
        shift = float(pair.name.split("=")[1])
        return float(space.norm(tf.constant([[2 * shift, 2 * shift]], tf.float32))[0])
    if pair.name.startswith("parallel_lines:theta="):
        theta = float(pair.name.split("=")[1])
        return float(space.norm(tf.constant([[theta, 0.0]], tf.float32))[0])
    return None


def run_protocol(pair: Pair, methods: Sequence[Method], *, repeats: int = 20, iterations: int = 500,
                 batch_size: int = 64, eval_batches: int = 1, critic: str = "mlp", width: int = 128,
                 learning_rate: Optional[float] = None, seed: int = 0, jit_compile: bool = True,
                 log: Optional[Callable[[str], None]] = None) -> Dict:
    """Mallasto et al. Table 1 protocol: ``repeats`` critics per method; error mean +- std (ddof 0).

    Returns a JSON-serialisable dict: settings, and per method the error/estimate/exact mean and std,
    the population distance where known, and each repeat's record.
    """
    repeats = _positive_int(repeats, "repeats")
    if not methods:
        raise ValueError("methods must name at least one method")
    results = {"pair": pair.name, "population": pair.population, "population_space": pair.population_space,
               "repeats": repeats, "iterations": iterations, "batch_size": batch_size, "eval_batches": eval_batches,
               "critic": critic, "width": width, "seed": seed, "methods": {}}
    for method in methods:
        trainer = _Trainer(pair, method, batch_size=batch_size, critic=critic, width=width,
                           learning_rate=learning_rate, jit_compile=jit_compile)
        runs = []
        for r in range(repeats):
            runs.append(trainer.run(seed * 1000 + r, iterations, eval_batches))
            if log:
                log(f"{pair.name} {method.name} repeat {r + 1}/{repeats}: estimate {runs[-1]['estimate']:.4f} "
                    f"exact {runs[-1]['exact']:.4f} error {runs[-1]['error']:.4f} ({runs[-1]['train_seconds']:.1f} s)")
        summary = {"space": str(method.space), "scale": method.scale, "population": runs[0]["population"], "runs": runs}
        for key in ("error", "relative_error", "estimate", "exact"):
            values = np.array([run[key] for run in runs])
            summary[f"{key}_mean"], summary[f"{key}_std"] = float(values.mean()), float(values.std())
        summary["train_seconds_total"] = float(sum(run["train_seconds"] for run in runs))
        results["methods"][method.name] = summary
    return results


def format_table(results: Dict) -> str:
    """A Markdown table of one protocol result."""
    lines = [f"{results['pair']}: {results['repeats']} repeats x {results['iterations']} iterations, batch "
             f"{results['batch_size']}, {results['critic']} critic (width {results['width']}), "
             f"{results['eval_batches']} eval batch pair(s) per repeat",
             "",
             "| method | cost space | error mean +- std | relative error | estimate mean +- std | exact batch W1 | "
             "population W1 |",
             "|---|---|---|---|---|---|---|"]
    for name, m in results["methods"].items():
        population = "-" if m["population"] is None else f"{m['population']:.4f}"
        lines.append(f"| {name} | {m['space']} | {m['error_mean']:.4f} +- {m['error_std']:.4f} | "
                     f"{m['relative_error_mean']:.4f} | {m['estimate_mean']:.4f} +- {m['estimate_std']:.4f} | {m['exact_mean']:.4f} +- "
                     f"{m['exact_std']:.4f} | {population} |")
    return "\n".join(lines)


def parallel_lines(thetas: Sequence[float], method: Union[str, Method] = "gradient_penalty", *, iterations: int = 300,
                   batch_size: int = 64, eval_batches: int = 4, width: int = 64, seed: int = 0,
                   learning_rate: Optional[float] = 1e-3, jit_compile: bool = True) -> List[Dict]:
    """WGAN Example 1: for each theta, a critic's estimate of W(P_0, P_theta) next to |theta| and JS.

    JS(P_0, P_theta) = log 2 for theta != 0 and 0 at theta = 0: constant, so useless as a loss;
    W = |theta| is continuous in theta. Adam's learning rate defaults to 1e-3 here (converges in ~250 steps).
    """
    method = make_method(method) if isinstance(method, str) else method
    rows = []
    for theta in thetas:
        run = train_and_estimate(parallel_lines_pair(theta), method, iterations=iterations, batch_size=batch_size,
                                 seed=seed, eval_batches=eval_batches, critic="mlp", width=width,
                                 learning_rate=learning_rate, jit_compile=jit_compile)
        rows.append({"theta": float(theta), "estimate": run["estimate"], "exact_batch": run["exact"],
                     "wasserstein": abs(float(theta)), "js": math.log(2) if theta != 0 else 0.0})
    return rows
