"""Sliced Wasserstein distance over a Laplacian pyramid (Karras et al. 2018, appendix D): TF-GAN's where it imports,
else the package's own (`formulas.sliced_wasserstein`); `compat.estimators_implementation()` chooses.

Both draw random 7x7 patches per image at every pyramid level, normalise each patch, and average |sorted projections|
over random directions; the result is a deterministic function of the images and `seed`, and the caller's
randomness is left alone. TF-GAN draws patches from numpy's global generator and directions from TensorFlow's: it
is run here in its own graph with a fixed graph seed, and numpy's global state is restored afterwards. The own one
draws everything from np.random.default_rng(seed). So for one seed the two give different draws of the same
statistic (same pyramid, patches, normalisation and distance, checked piece by piece in tests/metrics/test_formulas.py),
not equal values. Values are TF-GAN's scale (Karras et al. report them x 1e3).
"""
import numpy as np

from bwgan_tf import compat
from bwgan_tf.metrics import formulas

DEFAULT_SWD_SAMPLES = 8192  # TF-GAN: "use 8192 images to get numbers comparable to the ones in the original paper"
RESOLUTION_MIN = 16


def check_images(shape, what: str = "swd") -> None:
    """ValueError unless images are square, RGB and a power of two of at least 16 pixels on a side."""
    if len(shape) != 3 or shape[0] != shape[1] or shape[2] != 3 or shape[0] < RESOLUTION_MIN or \
            shape[0] & (shape[0] - 1):
        raise ValueError(f"{what}: the sliced Wasserstein distance needs square RGB images whose side is a power of "
                         f"two >= {RESOLUTION_MIN}, got {'x'.join(map(str, shape))}")


def check_reference(real_images, num: int) -> None:
    """ValueError unless the reference kept at least `num` real images (SWD compares equally many of each)."""
    kept = 0 if real_images is None else len(real_images)
    if kept < num:
        raise ValueError(f"--reference: swd compares {num} generated images with as many real ones, and the reference "
                         f"has {kept} (compute its statistics with keep_images >= {num}, or give --reference_num)")


def resolutions(size: int) -> list:
    """The pyramid's levels, highest first: size, size/2, ..., 16."""
    return [size >> i for i in range(int(np.log2(size)) - int(np.log2(RESOLUTION_MIN)) + 1)]


def sliced_wasserstein(real, fake, seed: int = 0) -> dict:
    """{resolution: (real vs real, real vs generated)} for images [N, H, W, 3] (any common scale, e.g. uint8).

    The real-vs-real value compares two patch draws of the real images: the floor set by sampling noise."""
    real, fake = np.asarray(real, np.float32), np.asarray(fake, np.float32)
    check_images(real.shape[1:], "swd reference")
    if fake.shape[1:] != real.shape[1:]:
        raise ValueError(f"swd: generated images {fake.shape[1:]} differ from the reference's {real.shape[1:]}")
    if len(fake) != len(real):
        raise ValueError(f"swd: compares as many generated images as real ones, got {len(fake)} and {len(real)}")
    if compat.estimators_implementation() == "own":
        values = formulas.sliced_wasserstein(real, fake, seed=seed, resolution_min=RESOLUTION_MIN)
    else:
        values = tfgan_sliced_wasserstein(real, fake, seed)
    return {size: (float(a), float(b)) for size, (a, b) in zip(resolutions(real.shape[1]), values)}


def tfgan_sliced_wasserstein(real, fake, seed: int) -> list:
    """TF-GAN's [(real vs real, real vs generated)] per level, run in a graph seeded by `seed`, numpy's state kept."""
    import tensorflow as tf
    import tensorflow_gan as tfgan
    numpy_state = np.random.get_state()
    np.random.seed(seed)
    try:
        with tf.Graph().as_default() as graph:
            tf.compat.v1.set_random_seed(seed)
            # placeholders, not constants: graph construction and grappler would run the patch draws on constants
            inputs = [tf.compat.v1.placeholder(tf.float32, x.shape) for x in (real, fake)]
            scores = tfgan.eval.sliced_wasserstein_distance(*inputs, resolution_min=RESOLUTION_MIN)
            draws = [op for op in graph.get_operations() if op.type.startswith("PyFunc")]  # the patch draws
            for previous, op in zip(draws, draws[1:]):  # run them in creation order: they share numpy's generator
                op._add_control_input(previous)  # graph mode has no public API for this
            with tf.compat.v1.Session(graph=graph) as session:
                return session.run(scores, feed_dict=dict(zip(inputs, (real, fake))))
    finally:
        np.random.set_state(numpy_state)
