"""Pictures of a 2-D toy run: generated points over real points and the critic's contours."""
import numpy as np

from bwgan_tf.io import plots


def critic_field(critic, extent=2.0, resolution=120) -> np.ndarray:
    """Critic values on a [resolution, resolution] grid over [-extent, extent]^2 (row 0 at y = +extent)."""
    axis = np.linspace(-extent, extent, resolution, dtype=np.float32)
    xx, yy = np.meshgrid(axis, axis[::-1])
    points = np.stack([xx.ravel(), yy.ravel()], axis=1)
    return np.asarray(critic(points, training=False), np.float32).reshape(resolution, resolution)  # bf16 too


def toy_picture(model, real_points, num=1000, seed=0, extent=None) -> np.ndarray:
    """Generated points (orange) over real points (blue) and the critic's contours (plots.toy_picture)."""
    fake = np.asarray(model.sample(num, seed), np.float32)
    extent = extent or float(max(2.0, np.abs(real_points).max() * 1.2))
    return plots.toy_picture(np.asarray(real_points), fake, critic_field(model.critic, extent), extent)
