"""The Lipschitz strategies against closed forms and numpy references."""
import numpy as np
import pytest
import tensorflow as tf

from bwgan_tf import lipschitz, parameters, spaces


def linear_critic(shape, seed=0):
    """D(x) = <w, x> + b: its Frechet derivative is w everywhere."""
    inputs = tf.keras.Input(shape)
    outputs = tf.keras.layers.Dense(1, kernel_initializer=tf.keras.initializers.RandomNormal(stddev=0.3, seed=seed),
                                    bias_initializer="ones")(tf.keras.layers.Flatten()(inputs))
    return tf.keras.Model(inputs, outputs)


def penalty_and_kernel_gradient(strategy, critic, real, fake):
    with tf.GradientTape() as tape:
        value, grad_norm = strategy.penalty(critic, real, fake, tf.random.Generator.from_seed(1))
    return value, grad_norm, tape.gradient(value, critic.trainable_variables[0])


@pytest.mark.parametrize("lam,gamma", [(10.0, 1.0), (3.0, 2.5)])
def test_linear_critic_penalty_and_its_weight_gradient_match_the_closed_form_in_l2(lam, gamma):
    """dD = w, so P = lam (||w|| / gamma - 1)^2 and dP/dw = 2 lam (||w|| / gamma - 1) w / (gamma ||w||)."""
    shape = (4, 4, 3)
    critic = linear_critic(shape)
    rng = np.random.default_rng(0)
    real, fake = (rng.normal(size=(6,) + shape).astype(np.float32) for _ in range(2))
    penalty = lipschitz.GradientPenalty("l2", lam, gamma)
    value, grad_norm, grad_w = penalty_and_kernel_gradient(penalty, critic, real, fake)
    w = critic.trainable_variables[0].numpy().astype(np.float64)
    norm = np.linalg.norm(w)
    assert float(value) == pytest.approx(lam * (norm / gamma - 1) ** 2, rel=1e-5)
    assert float(grad_norm) == pytest.approx(norm, rel=1e-5)
    np.testing.assert_allclose(grad_w.numpy(), 2 * lam * (norm / gamma - 1) * w / (gamma * norm), rtol=1e-4, atol=1e-7)


def test_linear_critic_penalty_in_a_sobolev_space_matches_the_closed_form():
    """P = lam (||w||_{W^{-s,q}} / gamma - 1)^2; its gradient w.r.t. w via the numpy reference and finite
    differences."""
    shape = (4, 6, 2)
    space, lam, gamma = spaces.Sobolev(1.0, 3.0), 5.0, 0.7
    critic = linear_critic(shape, seed=3)
    rng = np.random.default_rng(1)
    real, fake = (rng.normal(size=(5,) + shape).astype(np.float32) for _ in range(2))
    value, _, grad_w = penalty_and_kernel_gradient(lipschitz.GradientPenalty(space, lam, gamma), critic, real, fake)
    w = critic.trainable_variables[0].numpy().astype(np.float64)

    def closed_form(weights):
        """Independent float64 numpy: ||M_{-s} w||_q with M the Fourier multiplier of eq. 7 (even sizes)."""
        image = weights.reshape((1,) + shape)
        fy, fx = 2 * np.abs(np.fft.fftfreq(shape[0])), 2 * np.abs(np.fft.fftfreq(shape[1]))
        symbol = (1 + 5.0 * (fy[:, None] ** 2 + fx[None, :] ** 2)) ** (-1.0 / 2)
        filtered = np.real(np.fft.ifft2(np.fft.fft2(image, axes=(1, 2)) * symbol[None, :, :, None], axes=(1, 2)))
        q = 1.5
        return lam * ((np.abs(filtered) ** q).sum() ** (1 / q) / gamma - 1) ** 2

    assert float(value) == pytest.approx(closed_form(w), rel=1e-4)
    eps = 1e-6
    fd = np.array([(closed_form(w + eps * e) - closed_form(w - eps * e)) / (2 * eps)
                   for e in np.eye(w.size).reshape((w.size,) + w.shape)]).reshape(w.shape)
    np.testing.assert_allclose(grad_w.numpy(), fd, rtol=2e-3, atol=1e-5 * np.abs(fd).max())


def test_one_sided_penalty_is_zero_below_gamma_and_two_sided_is_not():
    critic = linear_critic((3,))
    critic.trainable_variables[0].assign(tf.constant([[0.1], [0.2], [0.1]]))  # ||w|| ~ 0.245 < gamma
    x = tf.random.normal([8, 3], seed=1)
    one, _, _ = penalty_and_kernel_gradient(lipschitz.GradientPenalty("l2", 10, 1, one_sided=True), critic, x, -x)
    two, _, _ = penalty_and_kernel_gradient(lipschitz.GradientPenalty("l2", 10, 1), critic, x, -x)
    assert float(one) == 0.0
    assert float(two) == pytest.approx(10 * (np.linalg.norm([0.1, 0.2, 0.1]) - 1) ** 2, rel=1e-5)


def test_interpolates_lie_on_the_segments_between_real_and_fake():
    """A critic that records its inputs: each x_hat = real + u (fake - real) with u in [0, 1]."""
    seen = []

    def critic(x, training=False):
        seen.append(x)
        return tf.reduce_sum(x, axis=1)

    real, fake = tf.constant([[0.0, 0.0], [1.0, 1.0]]), tf.constant([[2.0, 4.0], [1.0, 3.0]])
    lipschitz.GradientPenalty("l2").penalty(critic, real, fake, tf.random.Generator.from_seed(0))
    x_hat = seen[-1].numpy()
    u = (x_hat - real.numpy())[:, 1] / (fake - real).numpy()[:, 1]
    np.testing.assert_allclose((x_hat - real.numpy()), u[:, None] * (fake - real).numpy(), atol=1e-6)
    assert np.all((u >= 0) & (u <= 1))


def test_c_transform_matches_a_hand_computed_batch():
    """phi^c(y_i) = min_j ||x_j - y_i|| - phi(x_j); D(fake) = -phi^c."""
    phi_table = {0.0: 0.5, 3.0: -1.0}

    def critic(x, training=False):
        return tf.constant([phi_table[float(v)] for v in x[:, 0].numpy()])

    real = tf.constant([[0.0, 0.0], [3.0, 4.0]])
    fake = tf.constant([[0.0, 1.0], [3.0, 0.0], [6.0, 8.0]])
    d_real, d_fake = lipschitz.CTransform("l2", potential_on="real").scores(critic, real, fake)
    # costs: y0: |x0-y0|=1, |x1-y0|=sqrt(9+9)=4.243; y1: 3, 4; y2: 10, 5
    expected_phi_c = [min(1 - 0.5, np.sqrt(18) + 1.0), min(3 - 0.5, 4 + 1.0), min(10 - 0.5, 5 + 1.0)]
    np.testing.assert_allclose(d_real.numpy(), [0.5, -1.0])
    np.testing.assert_allclose(-d_fake.numpy(), expected_phi_c, rtol=1e-6)


def test_c_transform_for_gan_training_puts_the_potential_on_the_generated_batch():
    """Mallasto et al. eq. 5-6: phi on G(z), phi^c(x_i) = min_j ||y_j - x_i|| - phi(y_j) on the data."""
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=(4, 3)).astype(np.float32)
    w = rng.normal(size=(3,)).astype(np.float32)
    critic = lambda x, training=False: tf.reduce_sum(x * w, axis=1)  # noqa: E731
    d_real, d_fake = lipschitz.CTransform("l2").scores(critic, tf.constant(real), tf.constant(fake))
    phi = fake @ w
    costs = np.linalg.norm(fake[:, None] - real[None], axis=-1)  # [fake j, real i]
    np.testing.assert_allclose(d_fake.numpy(), -phi, rtol=1e-5)
    np.testing.assert_allclose(d_real.numpy(), (costs - phi[:, None]).min(axis=0), rtol=1e-5, atol=1e-6)
    # a valid batch estimate either way: E phi + E phi^c <= the exact batch W1 (uniform weights, equal sizes)
    from bwgan_tf.lab import ot
    for potential_on in ("fake", "real"):
        a, b = lipschitz.CTransform("l2", potential_on).scores(critic, tf.constant(real[:4]), tf.constant(fake))
        assert float(tf.reduce_mean(a) - tf.reduce_mean(b)) <= ot.wasserstein(real[:4], fake, "l2") + 1e-5
    with pytest.raises(ValueError, match="potential_on"):
        lipschitz.CTransform("l2", potential_on="both")


def test_c_transform_uses_the_banach_cost():
    critic = lambda x, training=False: tf.zeros([tf.shape(x)[0]])  # noqa: E731
    x, y = np.random.default_rng(0).normal(size=(2, 5, 4, 4, 1)).astype(np.float32)
    space = spaces.parse("sobolev:s=-1,p=3")
    _, d_fake = lipschitz.CTransform(space, potential_on="real").scores(critic, x, y)
    costs = np.array([[float(space.norm(x[j:j + 1] - y[i:i + 1])[0]) for i in range(5)] for j in range(5)])
    np.testing.assert_allclose(-d_fake.numpy(), costs.min(axis=0), rtol=1e-5)


def test_quotient_penalty_matches_numpy():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(2, 16, 3)).astype(np.float32)
    w = np.array([[2.0], [-1.0], [0.5]], np.float32)
    critic = lambda v, training=False: tf.matmul(v, w)  # noqa: E731
    value, quotient = lipschitz.QuotientPenalty("lp:p=4", lam=3.0, gamma=1.5).penalty(critic, x, y, None)
    q = np.abs((x - y) @ w[:, 0]) / (np.abs(x - y) ** 4).sum(axis=1) ** 0.25
    assert float(value) == pytest.approx(3.0 * np.mean(np.maximum(q / 1.5 - 1, 0) ** 2), rel=1e-5)
    assert float(quotient) == pytest.approx(q.mean(), rel=1e-5)


def test_weight_clipping_projects_every_weight():
    critic = linear_critic((5,))
    lipschitz.WeightClipping(0.01).after_critic_update(critic)
    for weight in critic.trainable_variables:
        assert np.all(np.abs(weight.numpy()) <= 0.01)
    assert np.any(np.abs(critic.trainable_variables[0].numpy()) == pytest.approx(0.01))


def test_resolve_lambda_gamma_auto_uses_the_section_3_2_heuristic(cifar_images):
    lam, gamma = parameters.resolve_lambda_gamma("lp:p=4", "auto", "auto", cifar_images[:2000])
    expected = parameters.heuristic_lambda_gamma("lp:p=4", cifar_images[:2000])
    assert (lam, gamma) == pytest.approx(expected)
    assert parameters.resolve_lambda_gamma("l2", 10, "1.5") == (10.0, 1.5)


@pytest.mark.parametrize("make,argument", [
    (lambda: lipschitz.build("spectral_norm"), "lipschitz must be one of"),
    (lambda: lipschitz.GradientPenalty("l2", lam=-1), "lam"),
    (lambda: lipschitz.GradientPenalty("l2", gamma=0), "gamma"),
    (lambda: lipschitz.WeightClipping(0), "clip"),
    (lambda: lipschitz.GradientPenalty("l3"), "space spec"),
    (lambda: parameters.resolve_lambda_gamma("l2", "auto", 1.0, np.zeros((10, 2))),
     r"^--lam=auto: .* at least 2000 .* has 10; give --lam as a number"),
    (lambda: parameters.resolve_lambda_gamma("l2", "auto", "auto", None), "give --lam and --gamma as numbers"),
    (lambda: parameters.resolve_lambda_gamma("l2", "big", 1.0), "lam must be"),
])
def test_bad_arguments_raise_value_errors_naming_them(make, argument):
    with pytest.raises(ValueError, match=argument):
        make()


@pytest.mark.parametrize("name", sorted(lipschitz.STRATEGIES))
def test_every_registered_strategy_declares_its_traits_and_is_built_from_settings(name):
    cls = lipschitz.STRATEGIES[name]
    strategy = lipschitz.build(name, space="lp:p=3", lam=2.0, gamma=4.0, clip=0.05, one_sided=False)
    assert type(strategy) is cls and strategy.name == name
    assert cls.optimizer in ("adam", "rmsprop") and cls.default_lr > 0
    assert isinstance(cls.uses_lambda_gamma, bool) and isinstance(cls.allows_batch_norm, bool)
    # a strategy that uses lambda and gamma keeps the given ones; the others are the neutral 0 and 1
    assert (strategy.lam, strategy.gamma) == ((2.0, 4.0) if cls.uses_lambda_gamma else (0.0, 1.0))
    from bwgan_tf import train
    settings = dict(dataset="toy:8gaussians", architecture="toy_mlp", lipschitz=name, critic_normalization="batch",
                    lam=1.0, gamma=1.0)
    if cls.allows_batch_norm:
        assert train.make_config(**settings).critic_normalization == "batch"
    else:
        with pytest.raises(ValueError, match="^critic_normalization: batch norm in the critic is only allowed"):
            train.make_config(**settings)
