"""Keeping the critic Lipschitz: one strategy per class, registered by name in STRATEGIES.

A strategy tells the training step three things (see gan.WassersteinGAN):
  * ``scores(critic, real, fake)``: the critic's values (D(real), D(fake)), float32 [N] each;
  * ``penalty(critic, real, fake, rng)``: (the scalar term added to the critic loss, mean ||dD||_{B*});
  * ``after_critic_update(critic)``: a projection after each critic update (weight clipping).
``gamma`` scales the critic as in eq. 8 of Adler & Lunz 2018 (1 for the other methods).

Each class declares its traits, which the rest of the package reads instead of comparing names:
  uses_lambda_gamma  it takes the penalty weight lambda and the scale gamma (else they are 0 and 1)
  allows_batch_norm  batch norm in the critic is sound (a per-sample penalty assumes independent scores)
  optimizer          "adam" (the penalty papers) or "rmsprop" (WGAN, Algorithm 1)
  constant_rate      its paper optimizer keeps a constant learning rate (no decay plan applies)
  default_lr         its papers' learning rate
and ``from_settings`` builds it from the training settings, taking the ones it uses.
"""
from typing import Dict, Tuple, Type, Union

import tensorflow as tf

from bwgan_tf import checks, replicas, spaces

ZERO = 0.0


def _positive(value, name: str) -> float:
    if isinstance(value, str):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return checks.number(value, name, positive=True)


def _non_negative(value, name: str) -> float:
    if isinstance(value, str):
        raise ValueError(f"{name} must be a non-negative finite number, got {value!r}")
    return checks.number(value, name, non_negative=True)


def _scores(critic, x) -> tf.Tensor:
    """Critic values as float32 [N] (mixed precision safe)."""
    return tf.reshape(tf.cast(critic(x, training=True), tf.float32), [-1])


def _flat(x) -> tf.Tensor:
    """Samples [N, ...] as float32."""
    return tf.cast(x, tf.float32)


class LipschitzStrategy:
    """Base: plain critic scores, no penalty, no projection, gamma = 1."""

    name = "none"
    gamma = 1.0
    lam = 0.0
    uses_lambda_gamma = False
    allows_batch_norm = False
    optimizer = "adam"
    constant_rate = False
    default_lr = 2e-4

    @classmethod
    def from_settings(cls, *, space, lam, gamma, clip, one_sided) -> "LipschitzStrategy":
        """The strategy from the training settings (each class takes those it uses)."""
        del space, lam, gamma, clip, one_sided
        return cls()

    def scores(self, critic, real, fake) -> Tuple[tf.Tensor, tf.Tensor]:
        return _scores(critic, real), _scores(critic, fake)

    def penalty(self, critic, real, fake, rng) -> Tuple[tf.Tensor, tf.Tensor]:
        """(penalty term, mean ||dD||); ``rng`` has ``uniform(shape, dtype)`` (tf.random.Generator or
        replicas.StatelessDraws)."""
        del critic, real, fake, rng
        return tf.constant(ZERO), tf.constant(ZERO)

    def after_critic_update(self, critic) -> None:
        del critic



STRATEGIES: Dict[str, Type[LipschitzStrategy]] = {}


def register(cls: Type[LipschitzStrategy]) -> Type[LipschitzStrategy]:
    """Class decorator adding a strategy to STRATEGIES under its ``name``."""
    STRATEGIES[cls.name] = cls
    return cls


@register
class GradientPenalty(LipschitzStrategy):
    """Banach gradient penalty (Adler & Lunz 2018, eq. 8): lam * E(||dD(x_hat)||_{B*} / gamma - 1)^2.

    x_hat is uniform on the lines between paired real and fake samples (Gulrajani et al. 2017). With space l2,
    lam 10 and gamma 1 this is exactly WGAN-GP. ``one_sided`` penalises only norms above gamma.
    """

    name = "gradient_penalty"
    uses_lambda_gamma = True

    @classmethod
    def from_settings(cls, *, space, lam, gamma, clip, one_sided):
        return cls(space, lam, gamma, one_sided)

    def __init__(self, space: Union[str, spaces.Space] = "l2", lam: float = 10.0, gamma: float = 1.0,
                 one_sided: bool = False):
        self.space = spaces.parse(space)
        self.dual = self.space.dual
        self.lam = _non_negative(lam, "lam")
        self.gamma = _positive(gamma, "gamma")
        self.one_sided = bool(one_sided)

    def penalty(self, critic, real, fake, rng):
        real, fake = _flat(real), _flat(fake)
        shape = [tf.shape(real)[0]] + [1] * (real.shape.rank - 1)
        u = rng.uniform(shape, dtype=tf.float32)
        x_hat = real + u * (fake - real)
        with tf.GradientTape() as tape:
            tape.watch(x_hat)
            values = tf.reduce_sum(_scores(critic, x_hat))
        grad_norm = self.dual.norm(tape.gradient(values, x_hat))
        excess = grad_norm / self.gamma - 1.0
        if self.one_sided:
            excess = tf.nn.relu(excess)
        return self.lam * tf.reduce_mean(tf.square(excess)), tf.reduce_mean(grad_norm)


@register
class WeightClipping(LipschitzStrategy):
    """WGAN (Arjovsky et al. 2017, Algorithm 1): every critic weight clipped to [-c, c] after each update; RMSProp
    5e-5 at a constant rate; batch norm in the critic as in the paper."""

    name = "weight_clipping"
    allows_batch_norm = True
    optimizer = "rmsprop"
    constant_rate = True
    default_lr = 5e-5

    @classmethod
    def from_settings(cls, *, space, lam, gamma, clip, one_sided):
        return cls(clip)

    def __init__(self, clip: float = 0.01):
        self.clip = _positive(clip, "clip")

    def after_critic_update(self, critic):
        clip = self.clip
        replicas.assign((w, lambda v: tf.clip_by_value(v, -clip, clip)) for w in critic.trainable_variables)


def pairwise_costs(x, y, space: spaces.Space) -> tf.Tensor:
    """C[j, i] = ||x_j - y_i||_B for x [N, ...], y [M, ...] -> float32 [N, M]."""
    x, y = _flat(x), _flat(y)
    n, m = tf.shape(x)[0], tf.shape(y)[0]
    diff = tf.expand_dims(x, 1) - tf.expand_dims(y, 0)  # [N, M, ...]
    flat = tf.reshape(diff, tf.concat([[n * m], tf.shape(x)[1:]], axis=0))
    return tf.reshape(space.norm(tf.ensure_shape(flat, [None] + x.shape[1:].as_list())), [n, m])


@register
class CTransform(LipschitzStrategy):
    """Batch c-transform critic (Mallasto et al. 2019, eq. 5-6): the network is a potential phi on one batch and
    the other batch is scored by its c-transform phi^c(b_i) = min_j ||a_j - b_i||_B - phi(a_j); the estimate of W1 is
    E phi(a) + E phi^c(b), a lower bound for any phi.

    potential_on="fake" (the paper's GAN, default): phi on the generated batch and phi^c on the data, so
    D(real) = phi^c(real) and D(fake) = -phi(fake) in the form E D(real) - E D(fake). potential_on="real": phi on
    the data and D(fake) = -phi^c(fake) (the Wasserstein-estimation lab's P batch). Both give a valid batch
    estimate; they differ in the generator's training signal.
    """

    name = "c_transform"

    @classmethod
    def from_settings(cls, *, space, lam, gamma, clip, one_sided):
        return cls(space)

    def __init__(self, space: Union[str, spaces.Space] = "l2", potential_on: str = "fake"):
        self.space = spaces.parse(space)
        if potential_on not in ("fake", "real"):
            raise ValueError(f"potential_on must be fake or real, got {potential_on!r}")
        self.potential_on = potential_on

    def scores(self, critic, real, fake):
        a, b = (fake, real) if self.potential_on == "fake" else (real, fake)
        phi = _scores(critic, a)
        phi_c = tf.reduce_min(pairwise_costs(a, b, self.space) - tf.expand_dims(phi, 1), axis=0)  # over a
        return (phi_c, -phi) if self.potential_on == "fake" else (phi, -phi_c)


@register
class QuotientPenalty(LipschitzStrategy):
    """Lipschitz-quotient penalty (Adler & Lunz 2018, section 5, eq. 12) on paired real and fake samples:

    lam * E[(|D(X) - D(Y)| / (gamma ||X - Y||_B) - 1)_+^2].
    """

    name = "quotient_penalty"
    uses_lambda_gamma = True

    @classmethod
    def from_settings(cls, *, space, lam, gamma, clip, one_sided):
        return cls(space, lam, gamma)

    def __init__(self, space: Union[str, spaces.Space] = "l2", lam: float = 10.0, gamma: float = 1.0):
        self.space = spaces.parse(space)
        self.lam = _non_negative(lam, "lam")
        self.gamma = _positive(gamma, "gamma")

    def penalty(self, critic, real, fake, rng):
        del rng
        real, fake = _flat(real), _flat(fake)
        distance = self.space.norm(real - fake)
        quotient = tf.abs(_scores(critic, real) - _scores(critic, fake)) / tf.maximum(distance, 1e-12)
        excess = tf.nn.relu(quotient / self.gamma - 1.0)
        return self.lam * tf.reduce_mean(tf.square(excess)), tf.reduce_mean(quotient)


def build(name: str, *, space: Union[str, spaces.Space] = "l2", lam: float = 10.0, gamma: float = 1.0,
          clip: float = 0.01, one_sided: bool = False) -> LipschitzStrategy:
    """The strategy called ``name`` (a key of STRATEGIES) with the arguments it uses."""
    checks.one_of(name, "lipschitz", STRATEGIES)
    return STRATEGIES[name].from_settings(space=space, lam=lam, gamma=gamma, clip=clip, one_sided=one_sided)
