"""Every learning-rate plan of a run, how config.json stores it, and the optimizers that follow it.

A run's plan is saved in config.json as ``lr_plan``:
  * None: a constant rate;
  * a list of (generator step, fraction of lr) knots, linear between them (the last fraction holds after the last
    knot): [[0, 1], [T, 0]] is the papers' linear decay to 0 over T generator steps (Adler & Lunz 2018: 100k).
    Resuming with another --steps re-plans it (`replan`): the rate continues from its value at the resume step
    linearly to 0 at the new last step, so it never jumps;
  * {"schedule": "sgdr", "start", "restart_steps", "restarts"}: SGDR, the Table 4 phase (below).

SGDR (Loshchilov & Hutter 2017, eq. 5) with a constant period K: within restart r (generator steps start + r K ...
start + (r + 1) K - 1)

    eta_t = eta_min + (eta_max - eta_min) (1 + cos(pi T_cur / K)) / 2,     T_cur = (t - start) mod K,

so each restart begins at eta_max and anneals towards eta_min (0 here) by its last step.

Optimizers count their own updates; the critic makes n_critic per generator step, so its schedule reads the
generator step as iterations / n_critic.
"""
import math
from typing import List, Optional, Tuple, Union

import numpy as np
import tensorflow as tf

from bwgan_tf import checks
from bwgan_tf import lipschitz as lipschitz_lib

PAPER_DECAY_STEPS = 100_000
SGDR = "sgdr"  # the "schedule" of an SGDR plan


# ------------------------------------------------------------------------------------------ plans (config.json)
def linear_plan(steps: int) -> List[list]:
    """The papers' linear decay from lr to 0 over `steps` generator steps."""
    return [[0, 1.0], [int(steps), 0.0]]


def plan_value(plan: List[list], step: int) -> float:
    """A knot plan's fraction of lr at a generator step (linear between knots, the last value after the last)."""
    steps, values = zip(*plan)
    return float(np.interp(step, steps, values))


def replan(plan: List[list], step: int, end: int) -> List[list]:
    """The knots before `step`, then from the plan's value at `step` linearly to 0 at `end`."""
    return [k for k in plan if k[0] < step] + [[step, plan_value(plan, step)], [end, 0.0]]


def sgdr_plan(start: int, restart_steps: int, restarts: int) -> dict:
    """The lr_plan of an SGDR phase: `restarts` restarts of `restart_steps` generator steps from step `start`."""
    return {"schedule": SGDR, "start": int(start), "restart_steps": int(restart_steps), "restarts": int(restarts)}


def is_sgdr(plan) -> bool:
    return isinstance(plan, dict) and plan.get("schedule") == SGDR


def snapshot_steps(plan: dict) -> list:
    """The generator steps at which each restart of an SGDR plan ends: start + r K for r = 1..N."""
    return [plan["start"] + r * plan["restart_steps"] for r in range(1, plan["restarts"] + 1)]


# ------------------------------------------------------------------------------------------ Keras schedules
def linear_decay(lr: float, steps: int) -> tf.keras.optimizers.schedules.LearningRateSchedule:
    """lr decayed linearly to 0 over ``steps`` optimizer steps."""
    return tf.keras.optimizers.schedules.PolynomialDecay(lr, steps, end_learning_rate=0.0, power=1.0)


class PiecewiseLinear(tf.keras.optimizers.schedules.LearningRateSchedule):
    """lr * the piecewise-linear interpolation of (step, fraction) knots (increasing steps; the last fraction holds
    after the last knot): a linear decay re-planned when a run is resumed with more or fewer steps."""

    def __init__(self, lr: float, knots):
        self.lr, self.knots = float(lr), [(float(step), float(fraction)) for step, fraction in knots]
        steps = [k[0] for k in self.knots]
        if len(steps) < 2 or any(b <= a for a, b in zip(steps, steps[1:])):
            raise ValueError(f"knots must be 2 or more (step, fraction) pairs with increasing steps, got {knots}")

    def __call__(self, step):
        steps = tf.constant([k[0] for k in self.knots], tf.float32)
        values = tf.constant([k[1] for k in self.knots], tf.float32)
        t = tf.cast(step, tf.float32)
        i = tf.clip_by_value(tf.searchsorted(steps, t[None], side="right")[0] - 1, 0, len(self.knots) - 2)
        w = tf.clip_by_value((t - steps[i]) / (steps[i + 1] - steps[i]), 0.0, 1.0)
        return self.lr * (values[i] + w * (values[i + 1] - values[i]))

    def get_config(self):
        return {"lr": self.lr, "knots": self.knots}


class WarmRestarts(tf.keras.optimizers.schedules.LearningRateSchedule):
    """eq. 5 as a Keras schedule of the optimizer's iterations; an optimizer making `per_generator_step` updates
    per generator step (the critic's n_critic) reads t = iterations / per_generator_step."""

    def __init__(self, lr: float, start: int, restart_steps: int, per_generator_step: int = 1, lr_min: float = 0.0):
        if int(restart_steps) < 1:
            raise ValueError(f"restart_steps must be a positive integer, got {restart_steps!r}")
        self.lr, self.start, self.restart_steps = float(lr), int(start), int(restart_steps)
        self.per_generator_step, self.lr_min = int(per_generator_step), float(lr_min)

    def __call__(self, step):
        t = tf.cast(step, tf.float64) / self.per_generator_step - self.start
        t_cur = tf.math.floormod(tf.maximum(t, 0.0), float(self.restart_steps))
        cosine = 1.0 + tf.cos(math.pi * t_cur / self.restart_steps)
        return tf.cast(self.lr_min + 0.5 * (self.lr - self.lr_min) * cosine, tf.float32)

    def get_config(self):
        return {"lr": self.lr, "start": self.start, "restart_steps": self.restart_steps,
                "per_generator_step": self.per_generator_step, "lr_min": self.lr_min}


def learning_rate(lr: float, plan: Union[int, list, dict, None], per_generator_step: int = 1):
    """The rate of an optimizer making `per_generator_step` updates per generator step under `plan`: None keeps
    lr; an int T is the linear decay over T generator steps; knots and SGDR plans as stored in config.json."""
    if plan is None:
        return lr
    if is_sgdr(plan):
        return WarmRestarts(lr, plan["start"], plan["restart_steps"], per_generator_step)
    if not isinstance(plan, (list, tuple)):
        return linear_decay(lr, plan * per_generator_step)
    if len(plan) == 2 and tuple(map(tuple, plan)) == ((0, 1), (plan[1][0], 0)):
        return linear_decay(lr, plan[1][0] * per_generator_step)
    return PiecewiseLinear(lr, [(step * per_generator_step, f) for step, f in plan])


def paper_optimizers(lipschitz_name: str = "gradient_penalty", lr: Optional[float] = None,
                     decay_steps: Union[int, list, dict, None] = PAPER_DECAY_STEPS, n_critic: int = 5,
                     betas: Tuple[float, float] = (0.0, 0.9)) -> Tuple:
    """(generator_optimizer, critic_optimizer) of the papers for the strategy `lipschitz_name`.

    Adam strategies: Adam(lr, default 2e-4; ``betas``, the papers' (0, 0.9)) following the plan ``decay_steps``
    (see learning_rate; default the linear decay over 100k generator steps). RMSProp strategies (weight clipping):
    RMSProp(lr, default 5e-5; rho 0.99, epsilon 1e-8: PyTorch's defaults, as the official WGAN main.py used
    them) at a constant rate (Arjovsky et al. 2017, Algorithm 1), whatever the plan.
    """
    strategy = lipschitz_lib.STRATEGIES[checks.one_of(lipschitz_name, "lipschitz_name", lipschitz_lib.STRATEGIES)]
    rate = strategy.default_lr if lr is None else lr
    if isinstance(rate, str):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    checks.number(rate, "lr", positive=True)
    if strategy.optimizer == "rmsprop":
        return tuple(tf.keras.optimizers.RMSprop(rate, rho=0.99, epsilon=1e-8) for _ in range(2))
    beta_1, beta_2 = betas
    return (tf.keras.optimizers.Adam(learning_rate(rate, decay_steps, 1), beta_1=beta_1, beta_2=beta_2),
            tf.keras.optimizers.Adam(learning_rate(rate, decay_steps, n_critic), beta_1=beta_1, beta_2=beta_2))
