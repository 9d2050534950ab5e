"""The official WGAN critic schedule: 100 critic updates for the first 25 generator steps and every 500th."""
import numpy as np
import pytest
import tensorflow as tf

from bwgan_tf import critic_schedule as cs
from bwgan_tf import data, train
from bwgan_tf.train import build


def main_py_diters(gen_iterations, n_critic=5):
    """martinarjovsky/WassersteinGAN main.py, verbatim logic."""
    if gen_iterations < 25 or gen_iterations % 500 == 0:
        return 100
    return n_critic


def test_updates_and_the_closed_form_offset_follow_main_py():
    counts = [main_py_diters(k) for k in range(2_100)]
    assert [cs.updates(k, 5, "wgan") for k in range(2_100)] == counts
    assert [cs.batches_before(k, 5, "wgan") for k in range(2_101)] == [0, *np.cumsum(counts).tolist()]
    assert [cs.batches_before(k, 5) for k in range(50)] == [5 * k for k in range(50)]
    assert [int(cs.updates_tensor(tf.constant(k, tf.int64), 5, "wgan")) for k in (0, 24, 25, 499, 500, 501, 1000)] == [
        100, 100, 5, 5, 100, 5, 100]


def test_grouped_stream_gives_step_k_its_n_k_batches_from_any_start():
    plain = list(data.load("toy:8gaussians", batch_size=2, seed=3).take(cs.batches_before(503, 5, "wgan")))
    schedule = cs.Schedule("wgan", 5)
    for start, steps in ((0, 27), (23, 4), (499, 3)):
        first = schedule.first_element(start)
        grouped = schedule.group(data.load("toy:8gaussians", batch_size=2, seed=3, start_batch=first), start)
        for k, element in enumerate(grouped.take(steps), start):
            n, c = main_py_diters(k), cs.batches_before(k, 5, "wgan")
            assert element.shape == (2 * n, 2)
            groups = tf.reshape(element, [2, n, 2])  # as train_step reads it: critic batch j = groups[:, j]
            for j in range(n):
                np.testing.assert_array_equal(groups[:, j], plain[c + j])


def quiet(*args, **kwargs):
    pass


WGAN_TOY = dict(dataset="toy:8gaussians", architecture="toy_mlp", width=8, latent_dim=2, lipschitz="weight_clipping",
                batch_size=4, n_critic=2, critic_schedule="wgan", lr_decay=False, log_every=1, checkpoint_every=100,
                sample_every=0, xla=False)


def test_training_makes_n_k_critic_updates_per_step_and_resumes_exactly(tmp_path):
    straight = train.train(train.make_config(steps=27, output_dir=str(tmp_path / "a"), **WGAN_TOY), print_fn=quiet)
    model, _ = build.load_model(straight)
    assert int(model.critic_steps.numpy()) == cs.batches_before(27, 2, "wgan") == 25 * 100 + 2 * 2
    assert int(model.critic_optimizer.iterations.numpy()) == 2_504
    resumed = str(tmp_path / "b")
    train.train(train.make_config(steps=26, output_dir=resumed, **WGAN_TOY), print_fn=quiet)
    train.train(train.make_config(steps=27, output_dir=resumed, **WGAN_TOY), print_fn=quiet)
    other, _ = build.load_model(resumed)
    for a, b in zip(model.critic.weights + model.generator.weights, other.critic.weights + other.generator.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_wgan_schedule_is_refused_where_it_cannot_hold():
    with pytest.raises(ValueError, match="^critic_schedule: wgan varies .* use strategy default"):
        train.make_config(critic_schedule="wgan", lipschitz="weight_clipping", strategy="mirrored")
    with pytest.raises(ValueError, match="^critic_schedule: wgan needs a constant learning rate"):
        train.make_config(critic_schedule="wgan")
    with pytest.raises(ValueError, match="critic_schedule"):
        train.make_config(critic_schedule="often")
    assert train.make_config("lsun_wgan").critic_schedule == "wgan"
