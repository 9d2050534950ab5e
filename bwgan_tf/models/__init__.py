"""The papers' architectures, built by name.

  resnet   Adler & Lunz 2018 appendix B / WGAN-GP CIFAR ResNet (32x32: 3 blocks per side; 64x64: 4). Width 128.
  dcgan    DCGAN 64x64 of the WGAN paper. Width 64 (channels of the first critic / last generator layer).
  mlp      WGAN paper Fig. 8: 4 x 512 ReLU generator and critic for images.
  toy_mlp  WGAN-GP toy networks for 2-D data: 3 x 512 ReLU, linear generator output.

Generators map z [N, latent_dim] to samples [N, *image_shape]; critics map samples to scores [N].
"""
from typing import Optional, Sequence

import tensorflow as tf

from bwgan_tf.models import dcgan, mlp, resnet

ARCHITECTURES = ("resnet", "dcgan", "mlp", "toy_mlp")
DEFAULT_WIDTH = {"resnet": 128, "dcgan": 64, "mlp": 512, "toy_mlp": 512}
NORMALIZATIONS = (None, "layer", "batch")


def _check(architecture, image_shape, width, latent_dim=1):
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {', '.join(ARCHITECTURES)}, got {architecture!r}")
    try:
        image_shape = tuple(int(d) for d in image_shape)
    except (TypeError, ValueError):
        raise ValueError(f"image_shape must be a tuple of positive integers, got {image_shape!r}") from None
    expected_rank = 1 if architecture == "toy_mlp" else 3
    if len(image_shape) != expected_rank or min(image_shape) < 1:
        raise ValueError(f"image_shape for {architecture} must have {expected_rank} positive entries "
                         f"({'(D,)' if expected_rank == 1 else '(H, W, C)'}), got {image_shape!r}")
    width = DEFAULT_WIDTH[architecture] if width is None else width
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be a positive integer, got {width!r}")
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim < 1:
        raise ValueError(f"latent_dim must be a positive integer, got {latent_dim!r}")
    return image_shape, width


def build_generator(architecture: str, *, image_shape: Sequence[int] = (32, 32, 3), latent_dim: int = 128,
                    width: Optional[int] = None, batch_norm: bool = True, seed: int = 0) -> tf.keras.Model:
    """The generator called ``architecture``: z [N, latent_dim] -> [N, *image_shape] (tanh, or linear for toy_mlp)."""
    image_shape, width = _check(architecture, image_shape, width, latent_dim)
    if architecture == "resnet":
        return resnet.generator(image_shape, latent_dim, width, batch_norm, seed)
    if architecture == "dcgan":
        return dcgan.generator(image_shape, latent_dim, width, batch_norm, seed)
    if architecture == "mlp":
        return mlp.generator(image_shape, latent_dim, width, depth=4, seed=seed)
    return mlp.generator(image_shape, latent_dim, width, depth=3, output_activation="linear", seed=seed)


def build_critic(architecture: str, *, image_shape: Sequence[int] = (32, 32, 3), width: Optional[int] = None,
                 normalization: Optional[str] = None, seed: int = 0) -> tf.keras.Model:
    """The critic called ``architecture``: [N, *image_shape] -> scores [N]. normalization: None, 'layer' or 'batch'
    ('batch' only for weight clipping, as in the WGAN paper; penalties assume a critic without batch norm)."""
    image_shape, width = _check(architecture, image_shape, width)
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of None, 'layer', 'batch', got {normalization!r}")
    if architecture == "resnet":
        return resnet.critic(image_shape, width, normalization, seed)
    if architecture == "dcgan":
        return dcgan.critic(image_shape, width, normalization, seed)
    return mlp.critic(image_shape, width, depth=4 if architecture == "mlp" else 3, normalization=normalization,
                      seed=seed)
