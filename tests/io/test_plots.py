"""Matplotlib pictures: training curves and the toy picture's orientation."""
import numpy as np
import tensorflow as tf

from bwgan_tf.io import plots
from bwgan_tf.train import toy_plots


def test_toy_picture_puts_high_critic_values_where_the_critic_is_high():
    """A critic equal to x2: red (high) at the top of the plot, blue (low) at the bottom, as critic_field lays out
    its rows (row 0 at y = +extent)."""
    critic = lambda points, training=False: tf.constant(points[:, 1], tf.bfloat16)  # noqa: E731  (as under bf16)
    field = toy_plots.critic_field(critic, extent=2.0, resolution=40)
    assert field[0, 0] == 2.0 and field[-1, 0] == -2.0
    picture = plots.toy_picture(np.zeros((1, 2)), np.zeros((1, 2)) + 5.0, field, extent=2.0)
    height, width, _ = picture.shape
    top, bottom = picture[int(0.2 * height), int(0.3 * width)].astype(int), \
        picture[int(0.75 * height), int(0.3 * width)].astype(int)
    assert top[0] > top[2] + 40 and bottom[2] > bottom[0] + 40, (top, bottom)


def test_curves_writes_a_png(tmp_path):
    path = plots.curves({"a": [(1, 3.0), (2, 2.0)], "b": [(1, 4.0), (2, 1.0)]}, str(tmp_path / "c.png"),
                        title="FID", ylabel="FID")
    import pathlib
    assert pathlib.Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
