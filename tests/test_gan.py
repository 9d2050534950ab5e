"""WassersteinGAN: the training step of eq. 8, EMA, determinism, and an end-to-end 2-D run."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from scipy.optimize import linear_sum_assignment

from bwgan_tf import gan, lipschitz, replicas, schedules


def mlp(inputs, outputs, width=32, depth=2, batch_norm=False, seed=0):
    init = tf.keras.initializers.GlorotUniform
    x = first = tf.keras.Input([inputs])
    for i in range(depth):
        x = tf.keras.layers.Dense(width, kernel_initializer=init(seed + i))(x)
        if batch_norm:
            x = tf.keras.layers.BatchNormalization()(x)
        x = tf.keras.layers.ReLU()(x)
    return tf.keras.Model(first, tf.keras.layers.Dense(outputs, kernel_initializer=init(seed + 99))(x))


def tiny_gan(strategy="gradient_penalty", n_critic=2, ema_decay=0.9, batch_norm=False, seed=0, **kwargs):
    model = gan.WassersteinGAN(mlp(3, 2, batch_norm=batch_norm, seed=seed), mlp(2, 1, seed=seed + 10), latent_dim=3,
                               lipschitz=strategy, n_critic=n_critic, ema_decay=ema_decay, seed=seed, **kwargs)
    model.compile(*schedules.paper_optimizers(model.lipschitz.name, lr=1e-3, decay_steps=None, n_critic=n_critic))
    return model


def real_batches(n_critic=2, batch=16, steps=3, seed=0):
    data = np.random.default_rng(seed).normal(size=(steps * n_critic * batch, 2)).astype(np.float32) + 2.0
    return tf.data.Dataset.from_tensor_slices(data).batch(n_critic * batch, drop_remainder=True)


def weights(variables):
    return [v.numpy().copy() for v in variables]


def assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_fit_logs_every_metric_of_the_issue_and_counts_generator_steps():
    model = tiny_gan()
    history = model.fit(real_batches(steps=3), epochs=1, verbose=0).history
    expected = {"critic_loss", "generator_loss", "wasserstein", "penalty", "grad_norm", "lam", "gamma", "lr"}
    assert expected <= set(history)
    assert int(model.generator_steps.numpy()) == 3
    assert int(model.critic_optimizer.iterations.numpy()) == 6  # n_critic updates per generator step
    assert int(model.generator_optimizer.iterations.numpy()) == 3
    assert history["lam"][-1] == pytest.approx(10.0) and history["lr"][-1] == pytest.approx(1e-3)
    assert all(np.isfinite(v[-1]) for v in history.values())


def test_critic_loss_is_eq_8():
    """Replaying the step's RNG draws:
    L_D = (E D(f) - E D(r)) / gamma + lam E(||dD(x_hat)||_q / gamma - 1)^2 + drift E D(r)^2."""
    lam, gamma, drift = 4.0, 2.0, 0.1
    model = tiny_gan(strategy=lipschitz.GradientPenalty("lp:p=3", lam=lam, gamma=gamma), drift=drift)
    model.compile(tf.keras.optimizers.SGD(0.0), tf.keras.optimizers.SGD(0.0))  # weights stay put
    real = tf.random.stateless_normal([8, 2], seed=[1, 2])
    step = int(model.critic_steps.numpy())
    logs = model.critic_step(real)
    draws = replicas.StatelessDraws([model.seed, 2 * step])  # critic draws are keyed by (seed, 2 * critic step)
    fake = model.generator(draws.normal([8, 3]), training=True)
    u = draws.uniform([8, 1])
    x_hat = real + u * (fake - real)
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        total = tf.reduce_sum(model.critic(x_hat))
    grad = tape.gradient(total, x_hat).numpy()
    dual_norm = (np.abs(grad) ** 1.5).sum(axis=1) ** (1 / 1.5)
    d_real, d_fake = model.critic(real).numpy()[:, 0], model.critic(fake).numpy()[:, 0]
    penalty = lam * np.mean((dual_norm / gamma - 1) ** 2)
    expected = (d_fake.mean() - d_real.mean()) / gamma + penalty + drift * np.mean(d_real ** 2)
    assert float(logs["critic_loss"]) == pytest.approx(expected, rel=1e-5)
    assert float(logs["penalty"]) == pytest.approx(penalty, rel=1e-5)
    assert float(logs["wasserstein"]) == pytest.approx((d_real.mean() - d_fake.mean()) / gamma, rel=1e-5)
    assert float(logs["grad_norm"]) == pytest.approx(dual_norm.mean(), rel=1e-5)


@pytest.mark.parametrize("factor", [1, 2])
def test_generator_loss_uses_factor_times_the_critic_batch_of_latents(factor):
    """L_G = -E D(G(z)) / gamma over generator_batch_factor x B latent vectors drawn with key (seed, 2 step + 1)."""
    model = tiny_gan(strategy=lipschitz.GradientPenalty("l2", lam=1.0, gamma=3.0), generator_batch_factor=factor)
    model.compile(tf.keras.optimizers.SGD(0.0), tf.keras.optimizers.SGD(0.0))
    real = tf.random.stateless_normal([8, 2], seed=[1, 2])
    logs = model.generator_step(real)
    latents = replicas.StatelessDraws([model.seed, 1]).normal([8 * factor, 3])
    expected = -model.critic(model.generator(latents, training=True)).numpy().mean() / 3.0
    assert float(logs["generator_loss"]) == pytest.approx(expected, rel=1e-5)


def test_critic_step_leaves_the_generator_and_generator_step_leaves_the_critic():
    model = tiny_gan(batch_norm=True)
    real = tf.random.normal([16, 2], seed=3)
    before_g = weights(model.generator.trainable_variables)
    before_c = weights(model.critic.trainable_variables)
    model.critic_step(real)
    assert_same(weights(model.generator.trainable_variables), before_g)
    assert any(not np.array_equal(a, b) for a, b in zip(weights(model.critic.trainable_variables), before_c))
    before_c = weights(model.critic.trainable_variables)
    model.generator_step(real)
    assert_same(weights(model.critic.trainable_variables), before_c)
    assert any(not np.array_equal(a, b) for a, b in zip(weights(model.generator.trainable_variables), before_g))


def test_ema_follows_the_recursion():
    decay = 0.7
    model = tiny_gan(ema_decay=decay)
    ema = weights(model.generator.trainable_variables)  # EMA starts at the initial weights
    real = tf.random.normal([16, 2], seed=4)
    for _ in range(3):
        model.generator_step(real)
        ema = [decay * e + (1 - decay) * w for e, w in zip(ema, weights(model.generator.trainable_variables))]
    for got, want in zip(model.ema_generator.trainable_weights or model.ema_generator.weights, ema):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-7)


def test_sample_is_the_ema_generator_on_stateless_latents():
    model = tiny_gan()
    model.fit(real_batches(steps=2), epochs=1, verbose=0)
    a, b = model.sample(5, seed=7).numpy(), model.sample(5, seed=7).numpy()
    np.testing.assert_array_equal(a, b)
    z = tf.random.stateless_normal([5, 3], seed=[7, 0])
    np.testing.assert_allclose(a, model.ema_generator(z, training=False).numpy(), rtol=1e-6)
    assert not np.allclose(a, model.sample(5, seed=8).numpy())


def test_weight_clipping_keeps_every_critic_weight_in_range_after_fit():
    model = tiny_gan(strategy=lipschitz.WeightClipping(0.02))
    model.fit(real_batches(steps=2), epochs=1, verbose=0)
    for weight in model.critic.trainable_variables:
        assert np.all(np.abs(weight.numpy()) <= 0.02 + 1e-7)


@pytest.mark.parametrize("strategy", sorted(lipschitz.STRATEGIES))  # every registered strategy
def test_every_strategy_trains_under_xla(strategy):
    model = tiny_gan(strategy=strategy)
    model.compile(*schedules.paper_optimizers(strategy, decay_steps=10, n_critic=2), jit_compile=True)
    history = model.fit(real_batches(steps=2), epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in history.values())


def test_paper_optimizers_follow_the_papers():
    g, c = schedules.paper_optimizers("gradient_penalty", n_critic=5)
    assert isinstance(g, tf.keras.optimizers.Adam)
    assert float(g.beta_1) == 0.0 and float(g.beta_2) == pytest.approx(0.9)
    g_schedule, c_schedule = g.get_config()["learning_rate"]["config"], c.get_config()["learning_rate"]["config"]
    assert g_schedule["initial_learning_rate"] == pytest.approx(2e-4) and g_schedule["decay_steps"] == 100_000
    assert c_schedule["decay_steps"] == 500_000  # 5 critic updates per generator step
    decay = schedules.linear_decay(2e-4, 100_000)
    assert [float(decay(s)) for s in (0, 50_000, 100_000)] == pytest.approx([2e-4, 1e-4, 0.0])
    g, c = schedules.paper_optimizers("weight_clipping")
    assert isinstance(c, tf.keras.optimizers.RMSprop) and float(c.learning_rate) == pytest.approx(5e-5)
    assert (c.rho, c.epsilon, g.rho) == (0.99, 1e-8, 0.99)  # PyTorch's RMSprop defaults (official main.py)


@pytest.mark.parametrize("kwargs,argument", [
    ({"n_critic": 0}, "n_critic"), ({"ema_decay": 1.0}, "ema_decay"), ({"drift": -1.0}, "drift"),
    ({"lipschitz": "spectral"}, "lipschitz"), ({"latent_dim": 0}, "latent_dim"),
])
def test_bad_arguments_raise_value_errors_naming_them(kwargs, argument):
    args = dict(latent_dim=3, lipschitz="gradient_penalty")
    args.update(kwargs)
    with pytest.raises(ValueError, match=argument):
        gan.WassersteinGAN(mlp(3, 2), mlp(2, 1), **args)


DETERMINISM_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np, tensorflow as tf
    # Multi-threaded CPU kernels are not bitwise reproducible from run to run under load (BUILD_NOTES.md), with
    # or without op determinism: one thread each.
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.keras.utils.set_random_seed(0)
    tf.config.experimental.enable_op_determinism()
    sys.path.insert(0, sys.argv[1])
    from test_gan import tiny_gan, real_batches
    model = tiny_gan(strategy="gradient_penalty")
    model.compile(*__import__("bwgan_tf.schedules", fromlist=["x"]).paper_optimizers("gradient_penalty", lr=1e-3,
                  decay_steps=None, n_critic=2), jit_compile=True)
    model.fit(real_batches(steps=4), epochs=1, verbose=0)
    print(json.dumps([w.numpy().tobytes().hex() for w in model.generator.weights + model.critic.weights]))
""")


def test_two_seeded_runs_give_bit_identical_weights():
    here = os.path.dirname(os.path.abspath(__file__))
    runs = [subprocess.run([sys.executable, "-c", DETERMINISM_SCRIPT, here], capture_output=True, text=True,
                           timeout=180) for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr[-2000:]
    first, second = (json.loads(run.stdout.strip().splitlines()[-1]) for run in runs)
    assert first == second


def exact_w1(x, y):
    costs = np.linalg.norm(x[:, None] - y[None], axis=-1)
    rows, cols = linear_sum_assignment(costs)
    return costs[rows, cols].mean()


def test_wgan_gp_on_8_gaussians_lowers_the_exact_wasserstein_distance():
    rng = np.random.default_rng(0)
    angles = np.arange(8) * np.pi / 4
    centres = np.stack([np.cos(angles), np.sin(angles)], axis=1) * 2 / 1.414

    def sample(n):
        return (centres[rng.integers(0, 8, n)] + 0.02 * rng.normal(size=(n, 2))).astype(np.float32)

    tf.keras.utils.set_random_seed(0)
    model = gan.WassersteinGAN(mlp(2, 2, width=128, depth=3, seed=1), mlp(2, 1, width=128, depth=3, seed=2),
                               latent_dim=2, lipschitz=lipschitz.GradientPenalty("l2", 10.0, 1.0), n_critic=5,
                               ema_decay=0.0, seed=0)
    # Paper Adam betas (0, 0.9); a faster critic (1e-3) than generator (2e-4): with equal rates 1e-4..1e-3 the
    # 2-D game oscillates over the first thousand steps (measured), with this split W1 falls steadily.
    adam = lambda lr: tf.keras.optimizers.Adam(lr, beta_1=0.0, beta_2=0.9)  # noqa: E731
    model.compile(adam(2e-4), adam(1e-3), jit_compile=True)
    steps, batch = 800, 64
    data = tf.data.Dataset.from_tensor_slices(sample(steps * 5 * batch)).batch(5 * batch, drop_remainder=True)
    real = sample(300)
    before = exact_w1(model.sample(300, seed=1).numpy(), real)
    model.fit(data, epochs=1, verbose=0)
    after = exact_w1(model.sample(300, seed=1).numpy(), real)
    assert after < 0.5 * before, (before, after)


@pytest.mark.parametrize("mode", ["paper", "normalized"])
def test_the_drift_term_at_a_large_gamma_holds_a_linear_critic_as_its_closed_form_says(mode):
    """Real x ~ N(0, I_2), fake x + s, linear critic D(x) = <v, x> + b with a = |v| / gamma. The critic loss is
    -a|s| + lam (a - 1)^2 + w a^2 + w b^2 / gamma^2 (E x x^T = I), minimised at a = (|s| + 2 lam) / (2 lam + 2 w)
    with w = drift gamma^2 (paper) or drift (normalized). At gamma 1000 the paper's 1e-5 is w = 10: the critic's
    W / gamma = a |s| is held at 0.36 instead of 4."""
    gamma, lam, shift = 1000.0, 1.0, np.array([np.sqrt(2.0)] * 2, np.float32)  # |s| = 2
    z = tf.keras.Input([2])
    generator = tf.keras.Model(z, tf.keras.layers.Dense(2, kernel_initializer="identity",
                                                        bias_initializer=tf.keras.initializers.Constant(shift))(z))
    x = tf.keras.Input([2])
    start = tf.keras.initializers.Constant(-0.5 * gamma / np.sqrt(2.0))  # along -s at half the unit scale
    critic = tf.keras.Model(x, tf.keras.layers.Dense(1, kernel_initializer=start)(x))
    model = gan.WassersteinGAN(generator, critic, latent_dim=2, lipschitz=lipschitz.GradientPenalty("l2", lam, gamma),
                               n_critic=1, drift=1e-5, drift_mode=mode)
    steps = 200  # Adam moves each weight by about lr per step: lr 20 decayed to 0 reaches a scale of gamma
    model.compile(*schedules.paper_optimizers("gradient_penalty", lr=20.0, decay_steps=steps, n_critic=1))
    step = tf.function(model.critic_step)
    real = np.random.default_rng(0).normal(size=(steps, 1024, 2)).astype(np.float32)
    for batch in real:
        logs = step(batch)
    w = 1e-5 * (gamma ** 2 if mode == "paper" else 1.0)
    expected = (2.0 + 2 * lam) / (2 * lam + 2 * w)
    v = critic.layers[-1].kernel.numpy().ravel()
    assert np.linalg.norm(v) / gamma == pytest.approx(expected, rel=0.02)
    assert float(logs["drift"]) == pytest.approx(w * (np.linalg.norm(v) / gamma) ** 2, rel=0.2, abs=1e-3)
    estimate = 2.0 * np.linalg.norm(v) / gamma  # W / gamma of the trained critic, exactly (a linear critic)
    assert estimate < 0.4 if mode == "paper" else estimate > 3.9


def test_drift_mode_is_validated():
    with pytest.raises(ValueError, match="drift_mode must be one of paper, normalized"):
        tiny_gan(drift_mode="gamma")


@pytest.mark.parametrize("drift_mode, same", [("normalized", True), ("paper", False)])
def test_a_critic_output_scaled_by_gamma_makes_training_independent_of_gamma_unless_the_paper_drift(drift_mode, same):
    """D = gamma f: eq. 8 in f's weights is then the same function for every gamma, drift on D / gamma included, so
    gamma 1 and gamma 1000 train identically; the paper's drift, 1e-5 gamma^2 E f^2 in f, still depends on gamma."""
    from bwgan_tf import train
    from bwgan_tf.train import build

    def trained(gamma):
        config = train.make_config(dataset="toy:8gaussians", architecture="toy_mlp", width=16, latent_dim=2,
                                   space="l2", lam=10.0, gamma=gamma, scale_critic_output=True, drift=1e-2,
                                   drift_mode=drift_mode, n_critic=2, batch_size=16, lr=1e-3, xla=False,
                                   mixed_precision=False, output_dir="unused")
        model = build.build_model(config)
        step = tf.function(model.train_step)
        for real in real_batches(n_critic=2, batch=16, steps=4).take(4):
            logs = step(real)
        return model, logs

    (small, small_logs), (large, large_logs) = trained(1.0), trained(1000.0)
    assert float(large.critic(tf.ones([1, 2]))[0]) == pytest.approx(1000.0 * float(large.critic.layers[1](
        tf.ones([1, 2]))[0]), rel=1e-5)  # the output layer multiplies the network by gamma
    for a, b in zip(small.generator.get_weights(), large.generator.get_weights()):
        assert np.allclose(a, b, rtol=1e-4, atol=1e-6) == same
    assert (float(small_logs["wasserstein"]) == pytest.approx(float(large_logs["wasserstein"]), rel=1e-3)) == same


def test_loss_scaled_updates_equal_plain_ones_and_log_the_rate_of_the_last_update():
    """mixed_float16 wraps the optimizers in a LossScaleOptimizer (train/build.py): the loss is scaled up and the
    gradients down by a power of two (compat.scaled_loss / unscaled_gradients; Keras 3 unscales inside
    apply_gradients), so in float32 the steps equal unscaled ones; the logged lr is the last update's on both."""
    runs = []
    for scaled in (False, True):
        model = gan.WassersteinGAN(mlp(3, 2, seed=0), mlp(2, 1, seed=10), latent_dim=3, n_critic=2, seed=0)
        schedule = tf.keras.optimizers.schedules.PolynomialDecay(1e-3, 40, end_learning_rate=0.0)
        optimizers = [tf.keras.optimizers.SGD(schedule) for _ in range(2)]  # SGD: a scale error shows in full
        if scaled:
            optimizers = [tf.keras.mixed_precision.LossScaleOptimizer(o) for o in optimizers]
        model.compile(*optimizers, jit_compile=False)
        model.fit(real_batches(steps=2), epochs=1, verbose=0)
        logs = model.train_step(next(iter(real_batches(steps=1))))
        runs.append((weights(model.critic.weights + model.generator.weights), float(logs["lr"])))
    for x, y in zip(runs[0][0], runs[1][0]):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)
    assert runs[0][1] == runs[1][1] == pytest.approx(1e-3 * (1 - 5 / 40))  # 6 critic updates: the last is number 5
