"""Proofs of the Banach-space math in bwgan_tf.spaces against numpy references and definitions."""
import dataclasses
import math

import numpy as np
import pytest
import scipy.optimize
import tensorflow as tf

from bwgan_tf import parameters, spaces
from bwgan_tf.spaces import Lp, Product, Sobolev, Weighted

EXPONENTS = [1.0, 1.1, 1.5, 2.0, 3.0, 10.0, math.inf]
SOBOLEV_CASES = [(-1.5, 2.0), (1.0, 2.0), (0.5, 3.0), (-1.0, 1.5), (2.0, 10.0), (-0.5, 1.1)]


# ------------------------------------------------------------------------------------------------
# Independent float64 numpy references
# ------------------------------------------------------------------------------------------------
def np_lp(x, p):
    flat = np.abs(np.asarray(x, np.float64).reshape(len(x), -1))
    if math.isinf(p):
        return flat.max(axis=1)
    return (flat ** p).sum(axis=1) ** (1.0 / p)


def np_symbol(n, m, s, c):
    """(1 + c|xi|^2)^(s/2) with xi = 2 * |fftfreq|, which is 1 at Nyquist (even sizes only)."""
    assert n % 2 == 0 and m % 2 == 0
    fy, fx = 2 * np.abs(np.fft.fftfreq(n)), 2 * np.abs(np.fft.fftfreq(m))
    return (1 + c * (fy[:, None] ** 2 + fx[None, :] ** 2)) ** (s / 2)


def np_filter(x, s, c=5.0):
    x = np.asarray(x, np.float64)
    symbol = np_symbol(x.shape[1], x.shape[2], s, c)[None, :, :, None]
    return np.real(np.fft.ifft2(np.fft.fft2(x, axes=(1, 2)) * symbol, axes=(1, 2)))


def np_sobolev(x, s, p, c=5.0):
    return np_lp(np_filter(x, s, c), p)


def holder_extremal(h, q):
    """An x with <h, x> = ||h||_q ||x||_p (Hoelder's equality case), per sample."""
    if math.isinf(q):  # p = 1: all mass on the largest entry
        flat = h.reshape(len(h), -1)
        x = np.zeros_like(flat)
        idx = np.abs(flat).argmax(axis=1)
        x[np.arange(len(h)), idx] = np.sign(flat[np.arange(len(h)), idx])
        return x.reshape(h.shape)
    if q == 1:  # p = inf
        return np.sign(h)
    return np.sign(h) * np.abs(h) ** (q - 1)


def pairing(g, x):
    return (np.asarray(g, np.float64) * np.asarray(x, np.float64)).reshape(len(g), -1).sum(axis=1)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# ------------------------------------------------------------------------------------------------
# Norms against references
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", EXPONENTS)
def test_lp_matches_numpy_on_images_and_vectors(rng, p):
    images = rng.normal(size=(5, 6, 4, 3)).astype(np.float32)
    vectors = rng.normal(size=(7, 2)).astype(np.float32)
    np.testing.assert_allclose(Lp(p).norm(images).numpy(), np_lp(images, p), rtol=2e-5)
    np.testing.assert_allclose(Lp(p).norm(vectors).numpy(), np_lp(vectors, p), rtol=2e-5)
    assert Lp(p).norm(images).shape == (5,)


@pytest.mark.parametrize("p", [1.1, 2.0, 10.0, 11.0, math.inf])
@pytest.mark.parametrize("magnitude", [1e-4, 1.0, 1e4])
def test_lp_is_stable_in_float32_for_extreme_exponents_and_magnitudes(rng, p, magnitude):
    x = (rng.normal(size=(4, 8, 8, 3)) * magnitude).astype(np.float32)
    got = Lp(p).norm(x).numpy()
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, np_lp(x, p), rtol=1e-5)


@pytest.mark.parametrize("s,p", SOBOLEV_CASES)
def test_sobolev_matches_numpy_fft_reference(rng, s, p):
    x = rng.normal(size=(3, 8, 6, 2)).astype(np.float32)  # not square, two channels
    np.testing.assert_allclose(Sobolev(s, p).norm(x).numpy(), np_sobolev(x, s, p), rtol=1e-4)


def test_sobolev_odd_sizes_use_the_official_nyquist_scaling(rng):
    x = rng.normal(size=(2, 5, 7, 1)).astype(np.float32)
    ky, kx = np.arange(5), np.arange(7)
    xi_y, xi_x = np.minimum(ky, 5 - ky) / 2, np.minimum(kx, 7 - kx) / 3  # min(k, N-k) / floor(N/2)
    symbol = (1 + 5.0 * (xi_y[:, None] ** 2 + xi_x[None, :] ** 2)) ** (-1.0 / 2)
    ref = np.real(np.fft.ifft2(np.fft.fft2(x[..., 0]) * symbol))
    np.testing.assert_allclose(Sobolev(-1.0, 2.0).norm(x).numpy(), np_lp(ref, 2.0), rtol=1e-4)


def test_sobolev_s2_norm_obeys_parseval(rng):
    """||x||_{W^{s,2}}^2 = (1 / HW) sum_xi (1 + c|xi|^2)^s |F x(xi)|^2 for the unnormalised DFT."""
    x = rng.normal(size=(4, 8, 8, 3))
    s, c = 1.5, 5.0
    weight = np_symbol(8, 8, 2 * s, c)[None, :, :, None]
    expected = np.sqrt((weight * np.abs(np.fft.fft2(x, axes=(1, 2))) ** 2).sum(axis=(1, 2, 3)) / 64)
    np.testing.assert_allclose(Sobolev(s, 2.0, c).norm(x.astype(np.float32)).numpy(), expected, rtol=1e-5)


@pytest.mark.parametrize("p", [1.5, 2.0, 10.0])
def test_sobolev_with_s_zero_is_lp(rng, p):
    x = rng.normal(size=(3, 8, 8, 3)).astype(np.float32)
    np.testing.assert_allclose(Sobolev(0.0, p).norm(x).numpy(), Lp(p).norm(x).numpy(), rtol=1e-5)


def test_sobolev_filter_with_s_then_minus_s_is_identity(rng):
    x = rng.normal(size=(2, 8, 6, 3)).astype(np.float32)
    back = spaces.sobolev_filter(spaces.sobolev_filter(x, 1.5, 5.0), -1.5, 5.0)
    np.testing.assert_allclose(back.numpy(), x, atol=1e-5)


def test_weighted_and_product_match_their_definitions(rng):
    x = rng.normal(size=(4, 6, 6, 3)).astype(np.float32)
    w = np.array([0.5, 2.0, 3.0])
    np.testing.assert_allclose(Weighted(Lp(3), tuple(w)).norm(x).numpy(), np_lp(x * w, 3), rtol=1e-5)
    product = Product((Lp(2), Sobolev(-1.0, 3.0)), (1, 2), p=4)
    factors = np.stack([np_lp(x[..., :1], 2), np_sobolev(x[..., 1:], -1.0, 3.0)], axis=1)
    np.testing.assert_allclose(product.norm(x).numpy(), np_lp(factors, 4), rtol=1e-4)


# ------------------------------------------------------------------------------------------------
# The dual norm is the supremum sup_x <g, x> / ||x||_B
# ------------------------------------------------------------------------------------------------
def assert_dual_is_supremum(space, g, extremal, rng, n_random=200):
    dual_norm = space.dual.norm(g.astype(np.float32)).numpy().astype(np.float64)
    # Attained by the extremal element ...
    ratio = pairing(g, extremal) / space.norm(extremal.astype(np.float32)).numpy()
    np.testing.assert_allclose(ratio, dual_norm, rtol=2e-4)
    # ... and never exceeded (Hoelder): random directions and perturbations of the extremal element.
    for x in (rng.normal(size=(n_random,) + g.shape[1:]),
              extremal[:1] + 0.05 * rng.normal(size=(n_random,) + g.shape[1:])):
        gs = np.broadcast_to(g[:1], x.shape)
        ratios = pairing(gs, x) / space.norm(x.astype(np.float32)).numpy()
        assert np.all(ratios <= dual_norm[0] * (1 + 1e-4))


@pytest.mark.parametrize("p", EXPONENTS)
def test_lp_dual_norm_is_the_supremum(rng, p):
    g = rng.normal(size=(3, 4, 4, 2))
    q = spaces.conjugate_exponent(p)
    assert_dual_is_supremum(Lp(p), g, holder_extremal(g, q), rng)


@pytest.mark.parametrize("s,p", SOBOLEV_CASES)
def test_sobolev_dual_norm_is_the_supremum(rng, s, p):
    """With M_s the self-adjoint multiplier, x* = M_{-s} y* where y* is Hoelder-extremal for h = M_{-s} g."""
    g = rng.normal(size=(3, 4, 6, 2))
    q = spaces.conjugate_exponent(p)
    h = np_filter(g, -s)
    extremal = np_filter(holder_extremal(h, q), -s)
    assert_dual_is_supremum(Sobolev(s, p), g, extremal, rng)


@pytest.mark.parametrize("space", [
    Weighted(Lp(3), (0.5, 2.0)),
    Product((Lp(1.5), Lp(math.inf)), (1, 1), p=3),
    Product((Lp(2), Weighted(Lp(4), (3.0,))), (1, 1), p=1),
], ids=str)
def test_compound_dual_norm_is_the_supremum_found_by_an_optimiser(rng, space):
    """sup_x <g, x> / ||x|| by numerical maximisation over a 6-dimensional space equals space.dual.norm(g)."""
    g = rng.normal(size=(1, 1, 3, 2))
    dual_norm = float(space.dual.norm(g.astype(np.float32))[0])

    def neg_ratio(flat):
        x = flat.reshape(1, 1, 3, 2)
        return -float(pairing(g, x)[0] / space.norm(x.astype(np.float32))[0])

    # A dense random search over directions, then Nelder-Mead from the best few.
    candidates = rng.normal(size=(50_000, 1, 3, 2))
    norms = space.norm(candidates.astype(np.float32)).numpy()
    ratios = pairing(np.broadcast_to(g, candidates.shape), candidates) / norms
    starts = candidates[np.argsort(ratios)[-3:]]
    best = max(-scipy.optimize.minimize(neg_ratio, start.ravel(), method="Nelder-Mead",
                                        options={"maxiter": 1500, "xatol": 1e-8, "fatol": 1e-10}).fun
               for start in starts)
    assert best <= dual_norm * (1 + 1e-4)
    assert best >= dual_norm * (1 - 2e-3)


# ------------------------------------------------------------------------------------------------
# Norm axioms, duality structure, spec strings
# ------------------------------------------------------------------------------------------------
ALL_SPACES = [Lp(p) for p in EXPONENTS] + [Sobolev(s, p) for s, p in SOBOLEV_CASES] + [
    Weighted(Sobolev(-1.0, 2.0), (1.0, 0.5, 2.0)), Product((Lp(2), Sobolev(1.0, 3.0)), (2, 1), p=10)]


@pytest.mark.parametrize("space", ALL_SPACES, ids=str)
def test_holder_homogeneity_and_triangle_inequality(rng, space):
    x = rng.normal(size=(64, 4, 4, 3)).astype(np.float32) * rng.uniform(0.1, 10, size=(64, 1, 1, 1)).astype(np.float32)
    y = rng.normal(size=(64, 4, 4, 3)).astype(np.float32)
    nx, ny = space.norm(x).numpy(), space.norm(y).numpy()
    assert np.all(np.abs(pairing(x, y)) <= nx * space.dual.norm(y).numpy() * (1 + 1e-5) + 1e-6)
    np.testing.assert_allclose(space.norm(-3.5 * x).numpy(), 3.5 * nx, rtol=1e-5)
    assert np.all(space.norm(x + y).numpy() <= (nx + ny) * (1 + 1e-5))
    assert np.all(nx > 0)


@pytest.mark.parametrize("space", ALL_SPACES, ids=str)
def test_spec_round_trip_and_dual_of_dual(space):
    assert spaces.parse(str(space)) == space
    assert space.dual.dual == space
    assert spaces.parse(str(space.dual)) == space.dual


def test_duals_follow_the_paper():
    assert Lp(2).dual == Lp(2)
    assert Lp(1).dual == Lp(math.inf) and Lp(math.inf).dual == Lp(1)
    assert Lp(1.1).dual == Lp(11)
    assert Lp(10).dual.p == pytest.approx(10 / 9)
    assert Sobolev(-1.5, 2, 5).dual == Sobolev(1.5, 2, 5)
    assert Sobolev(1.0, 4.0, 2.0).dual == Sobolev(-1.0, 4.0 / 3.0, 2.0)


def test_parse_accepts_the_documented_specs():
    assert spaces.parse("l2") == Lp(2)
    assert spaces.parse("lp:p=10") == Lp(10)
    assert spaces.parse("LINF") == Lp(math.inf)
    assert spaces.parse("sobolev:s=-1.5,p=2,c=5") == Sobolev(-1.5, 2, 5)
    assert spaces.parse("sobolev:s=1") == Sobolev(1.0, 2.0, 5.0)
    assert spaces.parse("weighted:w=1/2:l2") == Weighted(Lp(2), (1.0, 2.0))
    assert spaces.parse("product:p=2,groups=1/2:l2;sobolev:s=1,p=3") == Product((Lp(2), Sobolev(1, 3)), (1, 2), 2)


@pytest.mark.parametrize("make,argument", [
    (lambda: Lp(0.5), "p"), (lambda: Lp("abc"), "p"), (lambda: Lp(float("nan")), "p"),
    (lambda: Sobolev(1.0, 2.0, c=0.0), "c"), (lambda: Sobolev(1.0, 2.0, c=-1), "c"),
    (lambda: Sobolev(float("inf"), 2.0), "s"), (lambda: Sobolev(float("nan"), 2.0), "s"),
    (lambda: Sobolev(1.0, 0.9), "p"), (lambda: Weighted(Lp(2), (1.0, -2.0)), "weights"),
    (lambda: Product((Lp(2),), (1, 2)), "groups"),
    (lambda: spaces.parse("banach"), "known"), (lambda: spaces.parse("lp:q=3"), "allowed"),
    (lambda: spaces.parse(""), "known"), (lambda: spaces.parse("sobolev:p=2"), "needs s"),
    (lambda: Lp(2).norm(np.zeros((2, 3, 3), np.float32)), "rank"),
    (lambda: Lp(2).norm(np.zeros((2, 3, 3, 1), np.uint8)), "floating"),
    (lambda: Sobolev(1.0).norm(np.zeros((2, 3), np.float32)), "rank"),
    (lambda: parameters.heuristic_lambda_gamma("l2", np.zeros((0, 2), np.float32)), "images"),
])
def test_bad_input_raises_value_error_naming_the_argument(make, argument):
    with pytest.raises(ValueError, match=argument):
        make()


def test_spaces_are_immutable_and_hashable():
    space = Sobolev(-1.5, 2.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        space.s = 3.0
    assert len({space, Sobolev(-1.5, 2.0), Lp(2), spaces.parse("l2")}) == 2


# ------------------------------------------------------------------------------------------------
# Differentiability: the gradient penalty differentiates through the dual norm
# ------------------------------------------------------------------------------------------------
def autodiff_gradient(space, x):
    x = tf.constant(x, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(space.norm(x))
    return tape.gradient(total, x).numpy()


@pytest.mark.parametrize("space,reference", [
    (Lp(1.1), lambda x: np_lp(x, 1.1)), (Lp(3.0), lambda x: np_lp(x, 3.0)), (Lp(11.0), lambda x: np_lp(x, 11.0)),
    (Sobolev(-1.5, 2.0), lambda x: np_sobolev(x, -1.5, 2.0)), (Sobolev(1.0, 1.5), lambda x: np_sobolev(x, 1.0, 1.5)),
    (Sobolev(2.0, 10.0), lambda x: np_sobolev(x, 2.0, 10.0)),
], ids=lambda v: str(v) if isinstance(v, spaces.Space) else "")
def test_gradients_match_finite_differences_of_the_float64_reference(rng, space, reference):
    x = rng.normal(size=(2, 4, 4, 2))
    grad = autodiff_gradient(space, x)
    eps = 1e-6
    fd = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[idx] = eps
        fd[idx] = (reference(x + step)[idx[0]] - reference(x - step)[idx[0]]) / (2 * eps)
    np.testing.assert_allclose(grad, fd, rtol=2e-3, atol=2e-4 * np.abs(fd).max())


@pytest.mark.parametrize("space", ALL_SPACES, ids=str)
def test_gradient_is_finite_at_zero_and_at_extreme_magnitudes(space):
    for scale in (0.0, 1e-4, 1e4):
        x = np.full((2, 4, 4, 3), scale, np.float32)
        x[1] *= np.linspace(-1, 1, 48).reshape(4, 4, 3)
        grad = autodiff_gradient(space, x)
        assert np.all(np.isfinite(grad)), (str(space), scale)
        assert np.all(np.isfinite(space.norm(x).numpy()))


def test_norm_runs_inside_an_xla_compiled_function(rng):
    x = tf.constant(rng.normal(size=(2, 8, 8, 3)), tf.float32)
    space = Sobolev(-1.5, 2.0).dual
    compiled = tf.function(space.norm, jit_compile=True)
    np.testing.assert_allclose(compiled(x).numpy(), space.norm(x).numpy(), rtol=1e-5)


# ------------------------------------------------------------------------------------------------
# Section 3.2 parameter heuristic
# ------------------------------------------------------------------------------------------------
def test_heuristic_lambda_is_about_27_for_cifar10_in_l2(cifar_images):
    lam, gamma = parameters.heuristic_lambda_gamma("l2", cifar_images)
    assert 26.0 < lam < 28.5, lam  # Adler & Lunz 2018, section 3.2: lambda ~ 27
    assert gamma == pytest.approx(lam)  # l2 is self-dual


def test_heuristic_uses_the_dual_norm_for_gamma(cifar_images):
    images = cifar_images[:300]
    lam, gamma = parameters.heuristic_lambda_gamma("sobolev:s=-1.5,p=2", images, batch_size=128)
    assert lam == pytest.approx(np_sobolev(images, -1.5, 2.0).mean(), rel=1e-4)
    assert gamma == pytest.approx(np_sobolev(images, 1.5, 2.0).mean(), rel=1e-4)
    lam10, gamma10 = parameters.heuristic_lambda_gamma("lp:p=10", images)
    assert lam10 == pytest.approx(np_lp(images, 10).mean(), rel=1e-4)
    assert gamma10 == pytest.approx(np_lp(images, 10 / 9).mean(), rel=1e-4)


def test_the_official_gamma_rule_filters_with_plus_s(cifar_images):
    """adler-j/bwgan: gamma from the +s filter in L^q, so gamma = lambda for W^{s,2}; the paper's rule uses -s."""
    images = cifar_images[:300]
    lam, gamma = parameters.heuristic_lambda_gamma("sobolev:s=-1.5,p=2", images, gamma_rule="official")
    assert gamma == pytest.approx(lam, rel=1e-6) and lam == pytest.approx(np_sobolev(images, -1.5, 2.0).mean(),
                                                                          rel=1e-4)
    lam3, gamma3 = parameters.heuristic_lambda_gamma("sobolev:s=-1,p=3", images, gamma_rule="official")
    assert gamma3 == pytest.approx(np_sobolev(images, -1.0, 1.5).mean(), rel=1e-4)
    assert parameters.heuristic_lambda_gamma("lp:p=10", images, gamma_rule="official") == pytest.approx(
        parameters.heuristic_lambda_gamma("lp:p=10", images))  # only Sobolev spaces differ
    with pytest.raises(ValueError, match="gamma_rule must be one of paper, official"):
        parameters.heuristic_lambda_gamma("l2", images, gamma_rule="mine")


# ------------------------------------------------------------------------------------------------
# The derivative as a direction in B (TensorBoard pictures of dD)
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("space", [Lp(2), Lp(1.5), Lp(10), Lp(1), Lp(math.inf), Sobolev(-1.5, 2), Sobolev(1.0, 3.0)],
                         ids=str)
def test_dual_representation_attains_the_dual_norm(rng, space):
    g = rng.normal(size=(3, 4, 6, 2)).astype(np.float32)
    x = spaces.dual_representation(space, g).numpy()
    dual_norm = space.dual.norm(g).numpy()
    np.testing.assert_allclose(pairing(g, x), dual_norm ** 2, rtol=1e-4)
    np.testing.assert_allclose(space.norm(x).numpy(), dual_norm, rtol=1e-4)


def test_dual_representation_in_w_s2_is_the_riesz_representer(rng):
    g = rng.normal(size=(2, 8, 8, 3))
    x = spaces.dual_representation(Sobolev(1.0, 2.0), g.astype(np.float32)).numpy()
    np.testing.assert_allclose(x, np_filter(g, -2.0), rtol=1e-4, atol=1e-5)
