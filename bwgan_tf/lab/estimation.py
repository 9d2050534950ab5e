"""How well does a critic estimate the Wasserstein distance? (Mallasto, Montufar & Gerolin, Table 1).

Protocol: a critic alone is trained for ``iterations`` steps on fresh mini-batches of ``batch_size`` from two
distributions P and Q, to maximise E_P D - E_Q D under one Lipschitz method; then, on fresh batch pairs, its
estimate is compared with the exact batch distance W_1 (bwgan_tf.lab.ot, cost ||x - y||_B), error =
|estimate - exact|; repeated ``repeats`` times, reported as mean +- std. Methods:

  weight_clipping          WGAN (Arjovsky et al. 2017, Alg. 1): RMSProp 5e-5, |w| <= c; estimate
                           E_P D - E_Q D, compared with W_1 in l2 (clipping bounds no particular norm).
  gradient_penalty         WGAN-GP (Gulrajani et al. 2017): penalty in l2, Adam; compared with W_1 in l2.
  banach_gradient_penalty  BWGAN (Adler & Lunz 2018, eq. 8): penalty in the dual norm of ``space``;
                           estimate (E_P D - E_Q D) / gamma, compared with W_1 in ``space``.
  c_transform              Mallasto et al. objective (6): phi on the P batch, phi^c(y_j) = min_i c(x_i, y_j)
                           - phi(x_i) on the Q batch, estimate mean phi(x) + mean phi^c(y) <= exact W_1.

Mallasto et al.'s Table 1, CIFAR-10 row (error mean +- std over 20 critics, 500 iterations, batch 64): weight
clipping 27.26 +- 0.61, gradient penalty 27.14 +- 0.87, c-transform 1.53 +- 0.29.

Also WGAN's Example 1 (parallel lines): W(P_0, P_theta) = |theta| while JS = log 2 for theta != 0.
The scores, penalties and clipping are bwgan_tf.lipschitz's, the pairs of distributions bwgan_tf.lab.pairs';
this module adds the critics and the loop.
"""
import dataclasses
import math
import time
from collections.abc import Sequence
from typing import Callable, Optional, Tuple, Union

import numpy as np
import tensorflow as tf

from bwgan_tf import checks, compat, lipschitz, spaces
from bwgan_tf.lab import ot, pairs
from bwgan_tf.lab.pairs import Pair


# --------------------------------------------------------------------------------------------------
# Critics: name -> trunk(inputs, sample_shape, width, init) -> features before the final Dense(1)
# --------------------------------------------------------------------------------------------------
def _mlp_trunk(h, sample_shape, width, init):
    h = tf.keras.layers.Flatten()(h)
    for k in range(3):
        h = tf.keras.layers.Dense(width, activation="relu", kernel_initializer=init(k))(h)
    return h


def _conv_trunk(h, sample_shape, width, init):
    if len(sample_shape) != 3:
        raise ValueError(f"critic 'conv' needs image samples [H, W, C], got sample shape {tuple(sample_shape)}")
    for k, mult in enumerate((1, 2, 4)):
        h = tf.keras.layers.Conv2D(width * mult, 3, strides=2, padding="same", kernel_initializer=init(k))(h)
        h = tf.keras.layers.LeakyReLU(0.2)(h)
    return tf.keras.layers.Flatten()(h)


CRITICS = {"mlp": _mlp_trunk, "conv": _conv_trunk}


def build_critic(sample_shape: Sequence[int], kind: str = "mlp", width: int = 128, seed: int = 0,
                 output_scale: float = 1.0) -> tf.keras.Model:
    """A small critic [N, *sample_shape] -> [N], its output multiplied by output_scale.

    mlp: flatten, 3 x Dense(width) ReLU, Dense(1). conv (images): Conv 3x3 stride 2 with width, 2 width,
    4 width channels, LeakyReLU(0.2) after each, flatten, Dense(1). No normalisation (Gulrajani et al.).
    """
    trunk = CRITICS[checks.one_of(kind, "critic", CRITICS)]
    width = checks.positive_int(width, "width")
    init = lambda k: tf.keras.initializers.GlorotUniform(seed=seed * 10 + k)  # noqa: E731
    inputs = tf.keras.Input(tuple(sample_shape))
    out = tf.keras.layers.Dense(1, kernel_initializer=init(9))(trunk(inputs, sample_shape, width, init))
    if output_scale != 1.0:
        out = tf.keras.layers.Rescaling(float(output_scale))(out)
    return tf.keras.Model(inputs, tf.keras.layers.Reshape(())(out), name=f"{kind}_critic")


# --------------------------------------------------------------------------------------------------
# Methods: the loss to minimise, the batch estimate, and what follows an update
# --------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Method:
    """One Lipschitz method as used by the protocol.

    ``lipschitz`` is the bwgan_tf.lipschitz strategy (scores, penalty, after_critic_update); ``space`` the
    cost of the exact distance the estimate is compared with. The raw estimate is divided by the
    strategy's gamma (a gamma-Lipschitz critic estimates gamma W_1, Adler & Lunz 2018, eq. 8). scale_output:
    the critic network's output is multiplied by gamma, so the network is the normalised critic D / gamma and the
    whole objective, in its weights, is the same for every gamma (Adam, invariant to the gradients' scale, then
    takes the same steps).
    """

    name: str
    lipschitz: lipschitz.LipschitzStrategy
    space: spaces.Space
    scale_output: bool = False

    @property
    def scale(self) -> float:
        return float(self.lipschitz.gamma)

    def make_optimizer(self, learning_rate: Optional[float] = None) -> tf.keras.optimizers.Optimizer:
        """The strategy's optimizer kind: RMSProp(5e-5) (weight clipping, WGAN Alg. 1), else Adam(1e-4, beta1 0,
        beta2 0.9) (WGAN-GP)."""
        if self.lipschitz.optimizer == "rmsprop":
            return tf.keras.optimizers.RMSprop(learning_rate or 5e-5)
        return tf.keras.optimizers.Adam(learning_rate or 1e-4, beta_1=0.0, beta_2=0.9)


# name -> the lipschitz strategy, from make_method's settings; its cost space is the strategy's (l2 for clipping)
METHODS: dict[str, Callable[[dict], lipschitz.LipschitzStrategy]] = {
    "weight_clipping": lambda o: lipschitz.WeightClipping(o["clip"]),
    "gradient_penalty": lambda o: lipschitz.GradientPenalty(spaces.Lp(2), o["lam"], 1.0),
    "banach_gradient_penalty": lambda o: lipschitz.GradientPenalty(o["space"], o["lam"], o["gamma"]),
    "c_transform": lambda o: lipschitz.CTransform(o["c_transform_space"], potential_on="real"),
}


def make_method(name: str, space: Union[str, spaces.Space] = "l1", lam: float = 10.0, gamma: float = 1.0,
                clip: float = 0.01, c_transform_space: Union[str, spaces.Space] = "l2",
                scale_output: bool = False) -> Method:
    """The Method named ``name`` (one of METHODS); ``space`` is the Banach space of banach_gradient_penalty."""
    build = METHODS[checks.one_of(name, "method", METHODS)]
    strategy = build(dict(space=space, lam=lam, gamma=gamma, clip=clip, c_transform_space=c_transform_space))
    return Method(name, strategy, getattr(strategy, "space", None) or spaces.Lp(2), bool(scale_output))


def _estimate(method: Method, critic: tf.keras.Model, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
    """The raw batch estimate E_x D - E_y D with the strategy's scores (for c_transform: E phi + E phi^c)."""
    real, fake = method.lipschitz.scores(critic, x, y)
    return tf.reduce_mean(real) - tf.reduce_mean(fake)


def critic_loss(method: Method, critic: tf.keras.Model, x: tf.Tensor, y: tf.Tensor, rng) -> Tuple[tf.Tensor, tf.Tensor]:
    """(loss, raw estimate): the critic's objective of eq. 8 (Adler & Lunz 2018) without the drift term,
    penalty - (E_x D - E_y D) / gamma, minimised. Dividing by gamma makes it invariant under D = gamma f (the
    penalty measures ||dD|| / gamma), so the section 3.2 gamma does not weaken the penalty by 1/gamma."""
    estimate = _estimate(method, critic, x, y)
    penalty, _ = method.lipschitz.penalty(critic, x, y, rng)
    return penalty - estimate / method.scale, estimate


# --------------------------------------------------------------------------------------------------
# The protocol
# --------------------------------------------------------------------------------------------------
class _Trainer:
    """One critic, its optimizer and compiled steps for a (pair, method); ``run(seed)`` re-initialises them.

    Re-initialising instead of rebuilding lets repeats share one XLA compilation.
    """

    def __init__(self, pair: Pair, method: Method, *, batch_size: int, critic: str, width: int,
                 learning_rate: Optional[float], jit_compile: bool):
        self.pair, self.method, self.critic, self.width = pair, method, critic, checks.positive_int(width, "width")
        batch_size = checks.positive_int(batch_size, "batch_size")
        self.output_scale = method.scale if method.scale_output else 1.0
        self.model = model = build_critic(pair.sample_shape, critic, width, 0, self.output_scale)
        self.optimizer = optimizer = method.make_optimizer(learning_rate)
        optimizer.build(model.trainable_variables)
        self.rng = rng = tf.random.Generator.from_seed(0)

        @tf.function(jit_compile=jit_compile)
        def train_step(step_seed):
            x, y = pair.sample(batch_size, step_seed)
            with tf.GradientTape() as tape:
                loss, estimate = critic_loss(method, model, x, y, rng)
            optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
            return loss, estimate

        @tf.function(jit_compile=jit_compile)
        def estimate_step(step_seed):
            x, y = pair.sample(batch_size, step_seed)
            return _estimate(method, model, x, y) / method.scale, x, y

        self.train_step, self.estimate_step = train_step, estimate_step

    def run(self, seed: int, iterations: int, eval_batches: int) -> dict:
        iterations = checks.positive_int(iterations, "iterations")
        eval_batches = checks.positive_int(eval_batches, "eval_batches")
        self.model.set_weights(build_critic(self.pair.sample_shape, self.critic, self.width, seed,
                                            self.output_scale).get_weights())
        compat.reset_optimizer(self.optimizer)
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
                "population": pairs.population_distance(self.pair, self.method.space),
                "train_seconds": train_seconds, "eval_seconds": time.perf_counter() - start}


def train_and_estimate(pair: Pair, method: Method, *, iterations: int = 500, batch_size: int = 64, seed: int = 0,
                       eval_batches: int = 1, critic: str = "mlp", width: int = 128,
                       learning_rate: Optional[float] = None, jit_compile: bool = True) -> dict:
    """Trains one critic alone and compares its batch estimates with exact batch distances (bwgan_tf.lab.ot).

    Returns:
      dict with ``estimate`` and ``exact`` (means over ``eval_batches`` fresh batch pairs), ``error``
      (mean over those pairs of |estimate - exact|), ``relative_error`` (of |estimate - exact| / exact),
      ``population`` (W_1 in the method's cost space where known), ``train_seconds``, ``eval_seconds``.
    """
    checks.positive_int(iterations, "iterations"), checks.positive_int(eval_batches, "eval_batches")
    trainer = _Trainer(pair, method, batch_size=batch_size, critic=critic, width=width,
                       learning_rate=learning_rate, jit_compile=jit_compile)
    return trainer.run(seed, iterations, eval_batches)


def run_protocol(pair: Pair, methods: Sequence[Method], *, repeats: int = 20, iterations: int = 500,
                 batch_size: int = 64, eval_batches: int = 1, critic: str = "mlp", width: int = 128,
                 learning_rate: Optional[float] = None, seed: int = 0, jit_compile: bool = True,
                 log: Optional[Callable[[str], None]] = None) -> dict:
    """Mallasto et al. Table 1 protocol: ``repeats`` critics per method; error mean +- std (ddof 0).

    Returns a JSON-serialisable dict: settings, and per method the error/estimate/exact mean and std,
    the population distance where known, and each repeat's record.
    """
    repeats = checks.positive_int(repeats, "repeats")
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


def format_table(results: dict) -> str:
    """A Markdown table of one protocol result."""
    lines = [(f"{results['pair']}: {results['repeats']} repeats x {results['iterations']} iterations, batch "
              f"{results['batch_size']}, {results['critic']} critic (width {results['width']}), "
              f"{results['eval_batches']} eval batch pair(s) per repeat"),
             "",
             ("| method | cost space | error mean +- std | relative error | estimate mean +- std | exact batch W1 | "
              "population W1 |"),
             "|---|---|---|---|---|---|---|"]
    for name, m in results["methods"].items():
        population = "-" if m["population"] is None else f"{m['population']:.4f}"
        lines.append(f"| {name} | {m['space']} | {m['error_mean']:.4f} +- {m['error_std']:.4f} | "
                     f"{m['relative_error_mean']:.4f} | {m['estimate_mean']:.4f} +- {m['estimate_std']:.4f} | "
                     f"{m['exact_mean']:.4f} +- "
                     f"{m['exact_std']:.4f} | {population} |")
    return "\n".join(lines)


def parallel_lines(thetas: Sequence[float], method: Union[str, Method] = "gradient_penalty", *, iterations: int = 300,
                   batch_size: int = 64, eval_batches: int = 4, width: int = 64, seed: int = 0,
                   learning_rate: Optional[float] = 1e-3, jit_compile: bool = True) -> list[dict]:
    """WGAN Example 1: for each theta, a critic's estimate of W(P_0, P_theta) next to |theta| and JS.

    JS(P_0, P_theta) = log 2 for theta != 0 and 0 at theta = 0: constant, so useless as a loss;
    W = |theta| is continuous in theta. Adam's learning rate defaults to 1e-3 here (converges in ~250 steps).
    """
    method = make_method(method) if isinstance(method, str) else method
    rows = []
    for theta in thetas:
        run = train_and_estimate(pairs.parallel_lines_pair(theta), method, iterations=iterations, batch_size=batch_size,
                                 seed=seed, eval_batches=eval_batches, critic="mlp", width=width,
                                 learning_rate=learning_rate, jit_compile=jit_compile)
        rows.append({"theta": float(theta), "estimate": run["estimate"], "exact_batch": run["exact"],
                     "wasserstein": abs(float(theta)), "js": math.log(2) if theta != 0 else 0.0})
    return rows
