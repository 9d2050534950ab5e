"""SGDR, stochastic gradient descent with warm restarts (Loshchilov & Hutter 2017), as the learning rate of the
Table 4 phase of Adler & Lunz 2018: after the 100k-step run, N restarts of K generator steps each.

Within restart r (generator steps start + r K ... start + (r + 1) K - 1) the rate follows eq. 5 of Loshchilov &
Hutter with a constant period T_i = K:

    eta_t = eta_min + (eta_max - eta_min) (1 + cos(pi T_cur / K)) / 2,     T_cur = (t - start) mod K,

so each restart begins at eta_max and anneals towards eta_min (0 here) by its last step.
"""
import math

import tensorflow as tf

PLAN = "sgdr"  # config.json's lr_plan of an SGDR phase: {"schedule": "sgdr", "start", "restart_steps", "restarts"}


def plan(start: int, restart_steps: int, restarts: int) -> dict:
    """The lr_plan saved in an SGDR phase's config.json."""
    return {"schedule": PLAN, "start": int(start), "restart_steps": int(restart_steps), "restarts": int(restarts)}


def is_plan(lr_plan) -> bool:
    return isinstance(lr_plan, dict) and lr_plan.get("schedule") == PLAN


def rate(step: float, start: int, restart_steps: int, lr: float, lr_min: float = 0.0) -> float:
    """eta_t of eq. 5 at generator step `step` (>= start), as a Python float (the closed form the tests check)."""
    t_cur = (step - start) % restart_steps
    return lr_min + 0.5 * (lr - lr_min) * (1.0 + math.cos(math.pi * t_cur / restart_steps))


def snapshot_steps(lr_plan: dict) -> list:
    """The generator steps at which each restart ends: start + r K for r = 1..N."""
    return [lr_plan["start"] + r * lr_plan["restart_steps"] for r in range(1, lr_plan["restarts"] + 1)]


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
