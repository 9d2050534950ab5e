"""The critic's parameters from the data (Adler & Lunz 2018, section 3.2): lambda = E||X||_B, gamma = E||X||_B*.

The penalty weight lambda and the critic scale gamma of eq. 8 are set from the mean norms of real images in the
space and its dual, so that the loss keeps its scale when the norm changes.
"""
from typing import Tuple, Union

import numpy as np
import tensorflow as tf

from bwgan_tf import checks, spaces

GAMMA_RULES = ("paper", "official")


def gamma_space(space: spaces.Space, rule: str = "paper") -> spaces.Space:
    """The space whose mean norm over real images is gamma: B* (the paper, section 3.2), or for W^{s,p} under the
    official code's convention (adler-j/bwgan filters with +s for gamma too) W^{s,q}, so gamma = lambda for p = 2."""
    if rule not in GAMMA_RULES:
        raise ValueError(f"gamma_rule must be one of {', '.join(GAMMA_RULES)}, got {rule!r}")
    if rule == "official" and isinstance(space, spaces.Sobolev):
        return spaces.Sobolev(space.s, spaces.conjugate_exponent(space.p), space.c)
    return space.dual


def heuristic_lambda_gamma(space: Union[str, spaces.Space], images, batch_size: int = 500,
                           gamma_rule: str = "paper") -> Tuple[float, float]:
    """(lambda, gamma) = (E ||X||_B, E ||X||_{B*}) over real images (Adler & Lunz 2018, section 3.2).

    Args:
      space: a Space or spec.
      images: array or tensor [N, H, W, C] (or [N, D]) of real samples scaled to [-1, 1].
      batch_size: samples per norm evaluation, to bound memory.
      gamma_rule: "paper", or "official" for the official code's Sobolev gamma (see gamma_space).
    Returns:
      (lambda, gamma) as Python floats.
    """
    space = spaces.parse(space)
    dual = gamma_space(space, gamma_rule)
    images = np.asarray(images) if not isinstance(images, tf.Tensor) else images
    n = int(images.shape[0])
    if n == 0:
        raise ValueError("images must hold at least one sample")
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    total_primal, total_dual = 0.0, 0.0
    for start in range(0, n, batch_size):
        chunk = images[start:start + batch_size]
        total_primal += float(tf.reduce_sum(tf.cast(space.norm(chunk), tf.float64)))
        total_dual += float(tf.reduce_sum(tf.cast(dual.norm(chunk), tf.float64)))
    return total_primal / n, total_dual / n


MIN_HEURISTIC_IMAGES = 2000


def resolve_lambda_gamma(space, lam, gamma, images=None, gamma_rule: str = "paper") -> Tuple[float, float]:
    """lam and gamma as numbers; "auto" takes the section 3.2 heuristic (E||X||_B, E||X||_B*) on real images
    (gamma_rule "official": the official code's Sobolev gamma, gamma_space)."""
    auto = [name for name, value in (("lam", lam), ("gamma", gamma)) if value == "auto"]
    values = {"lam": lam, "gamma": gamma}
    if auto:
        if images is None or len(images) < MIN_HEURISTIC_IMAGES:
            got = 0 if images is None else len(images)
            flags, kind = [f"--{name}" for name in auto], "numbers" if len(auto) > 1 else "a number"
            raise ValueError(f"{'/'.join(flags)}=auto: the section 3.2 heuristic needs at least "
                             f"{MIN_HEURISTIC_IMAGES} real images to estimate E||X||_B, the data has {got}; give "
                             f"{' and '.join(flags)} as {kind} (e.g. --lam=10 --gamma=1, WGAN-GP's values for l2)")
        heuristic = dict(zip(("lam", "gamma"), heuristic_lambda_gamma(space, images, gamma_rule=gamma_rule)))
        values.update({name: heuristic[name] for name in auto})
    return (checks.number_or_auto(values["lam"], "lam"), checks.number_or_auto(values["gamma"], "gamma", positive=True))
