"""The papers' architectures, built by name.

  resnet   Adler & Lunz 2018 appendix B / WGAN-GP CIFAR ResNet (32x32: 3 blocks per side; 64x64: 4). Width 128.
  dcgan    DCGAN 64x64 of the WGAN paper. Width 64 (channels of the first critic / last generator layer).
  mlp      WGAN paper Fig. 8 (official mlp.py): 3 hidden ReLU layers of 512 and a linear output, generator and
           critic, for images.
  toy_mlp  WGAN-GP toy networks for 2-D data: 3 x 512 ReLU, linear generator output.

Generators map z [N, latent_dim] to samples [N, *image_shape]; critics map samples to scores [N].
"""
from typing import Optional, Sequence

import tensorflow as tf

from bwgan_tf import checks
from bwgan_tf.models import dcgan, mlp, resnet

# name -> (generator(image_shape, latent_dim, width, batch_norm, seed), critic(image_shape, width, normalization, seed))
ARCHITECTURES = {
    "resnet": (resnet.generator, resnet.critic),
    "dcgan": (dcgan.generator, dcgan.critic),
    "mlp": (lambda shape, latent, width, batch_norm, seed: mlp.generator(shape, latent, width, depth=3,
                                                                         output_activation="linear", seed=seed),
            lambda shape, width, norm, seed: mlp.critic(shape, width, depth=3, normalization=norm, seed=seed)),
    "toy_mlp": (lambda shape, latent, width, batch_norm, seed: mlp.generator(
                    shape, latent, width, depth=3, output_activation="linear", seed=seed),
                lambda shape, width, norm, seed: mlp.critic(shape, width, depth=3, normalization=norm, seed=seed)),
}
DEFAULT_WIDTH = {"resnet": 128, "dcgan": 64, "mlp": 512, "toy_mlp": 512}
NORMALIZATIONS = (None, "layer", "batch")


def _check(architecture, image_shape, width, latent_dim=1):
    checks.one_of(architecture, "architecture", ARCHITECTURES)
    try:
        image_shape = tuple(int(d) for d in image_shape)
    except (TypeError, ValueError):
        raise ValueError(f"image_shape must be a tuple of positive integers, got {image_shape!r}") from None
    expected_rank = 1 if architecture == "toy_mlp" else 3
    if len(image_shape) != expected_rank or min(image_shape) < 1:
        raise ValueError(f"image_shape for {architecture} must have {expected_rank} positive entries "
                         f"({'(D,)' if expected_rank == 1 else '(H, W, C)'}), got {image_shape!r}")
    width = checks.positive_int(DEFAULT_WIDTH[architecture] if width is None else width, "width")
    checks.positive_int(latent_dim, "latent_dim")
    return image_shape, width


def build_generator(architecture: str, *, image_shape: Sequence[int] = (32, 32, 3), latent_dim: int = 128,
                    width: Optional[int] = None, batch_norm: bool = True, seed: int = 0) -> tf.keras.Model:
    """The generator called ``architecture``: z [N, latent_dim] -> [N, *image_shape] (tanh, or linear for toy_mlp)."""
    image_shape, width = _check(architecture, image_shape, width, latent_dim)
    return ARCHITECTURES[architecture][0](image_shape, latent_dim, width, batch_norm, seed)


def build_critic(architecture: str, *, image_shape: Sequence[int] = (32, 32, 3), width: Optional[int] = None,
                 normalization: Optional[str] = None, seed: int = 0, output_scale: float = 1.0) -> tf.keras.Model:
    """The critic called ``architecture``: [N, *image_shape] -> scores [N]. normalization: None, 'layer' or 'batch'
    ('batch' only for weight clipping, as in the WGAN paper; penalties assume a critic without batch norm).
    output_scale: a constant the scores are multiplied by (gamma: the network is then the normalised critic
    D / gamma, so Adam need not grow its output gamma-fold)."""
    image_shape, width = _check(architecture, image_shape, width)
    checks.one_of(normalization, "normalization", NORMALIZATIONS)
    critic = ARCHITECTURES[architecture][1](image_shape, width, normalization, seed)
    if checks.number(output_scale, "output_scale", positive=True) == 1.0:
        return critic
    inputs = tf.keras.Input(image_shape)
    return tf.keras.Model(inputs, tf.keras.layers.Rescaling(float(output_scale))(critic(inputs)), name=critic.name)
