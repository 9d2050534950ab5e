"""Mallasto et al.'s estimation protocol and WGAN's Example 1, run tiny."""
import json
import math
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from bwgan_tf.lab import estimation, ot, pairs


def test_gaussian_pair_is_the_shifted_pair_and_deterministic_per_seed():
    pair = pairs.gaussians_pair(1.0)
    x, y = pair.sample(4000, tf.constant([3, 4]))
    np.testing.assert_allclose(x.numpy().mean(0), [1, 1], atol=0.06)
    np.testing.assert_allclose(y.numpy().mean(0), [-1, -1], atol=0.06)
    np.testing.assert_allclose(x.numpy().std(0), [1, 1], atol=0.05)
    np.testing.assert_array_equal(x.numpy(), pair.sample(4000, tf.constant([3, 4]))[0].numpy())
    assert pair.population == pytest.approx(2 * math.sqrt(2))
    # The batch distance converges to the population one (O(n^-1/2) bias in 2-D at this size).
    assert ot.wasserstein(x[:800], y[:800]) == pytest.approx(2 * math.sqrt(2), abs=0.25)


def test_cifar_pairs(cifar_images):
    images = cifar_images[:200]
    x, y = pairs.cifar_pair(images, "half").sample(64, tf.constant([0, 1]))
    assert x.shape == y.shape == (64, 32, 32, 3)
    halves = {tuple(v.numpy().ravel()[:16]) for v in x} & {tuple(v.numpy().ravel()[:16]) for v in y}
    assert not halves  # disjoint halves
    x, y = pairs.cifar_pair(images, "noise:0.5").sample(512, tf.constant([0, 1]))
    assert float(tf.math.reduce_std(y)) > float(tf.math.reduce_std(x)) + 0.1
    for bad in ("quarter", "noise:-1", "noise:abc"):
        with pytest.raises(ValueError, match="second must be"):
            pairs.cifar_pair(images, bad)


def tiny(pair, method, **kwargs):
    settings = dict(iterations=40, batch_size=16, eval_batches=2, width=16, critic="mlp")
    settings.update(kwargs)
    return estimation.train_and_estimate(pair, estimation.make_method(method), **settings)


def test_c_transform_is_a_lower_bound_and_beats_the_gradient_penalty_on_real_images(cifar_images):
    pair = pairs.cifar_pair(cifar_images[:512], "half")
    ct, gp = tiny(pair, "c_transform"), tiny(pair, "gradient_penalty")
    assert ct["exact"] == pytest.approx(gp["exact"])  # the same evaluation batches
    assert ct["estimate"] <= ct["exact"] + 1e-3  # any (phi, phi^c) is dual-feasible: objective <= W_1
    assert ct["error"] < gp["error"] / 3


def test_weight_clipping_keeps_weights_clipped_and_underestimates():
    pair = pairs.gaussians_pair()
    method = estimation.make_method("weight_clipping", clip=0.01)
    run = estimation.train_and_estimate(pair, method, iterations=10, batch_size=16, width=8)
    assert 0 <= run["estimate"] < 0.01 * run["exact"]
    assert run["error"] == pytest.approx(run["exact"] - run["estimate"], rel=1e-6)


def test_protocol_summary_is_mean_and_std_of_its_repeats():
    pair = pairs.gaussians_pair()
    methods = [estimation.make_method("c_transform"), estimation.make_method("banach_gradient_penalty", space="l1")]
    results = estimation.run_protocol(pair, methods, repeats=2, iterations=5, batch_size=8, width=8)
    for summary in results["methods"].values():
        errors = [run["error"] for run in summary["runs"]]
        assert summary["error_mean"] == pytest.approx(np.mean(errors))
        assert summary["error_std"] == pytest.approx(np.std(errors))
    # The l1 population distance of the (2, 2) translation is 4, the l2 one 2 sqrt 2.
    assert results["methods"]["banach_gradient_penalty"]["population"] == pytest.approx(4.0)
    assert results["methods"]["c_transform"]["population"] == pytest.approx(2 * math.sqrt(2))
    json.dumps(results)
    assert "| c_transform | lp:p=2 |" in estimation.format_table(results)


def test_parallel_lines_estimates_track_abs_theta_while_js_is_constant():
    rows = estimation.parallel_lines([0.0, -0.5], "gradient_penalty", iterations=250, batch_size=64, width=32)
    by_theta = {row["theta"]: row for row in rows}
    assert by_theta[-0.5]["estimate"] == pytest.approx(0.5, abs=0.12)
    assert abs(by_theta[0.0]["estimate"]) < 0.12
    assert by_theta[-0.5]["wasserstein"] == 0.5
    assert by_theta[-0.5]["js"] == pytest.approx(math.log(2)) and by_theta[0.0]["js"] == 0.0


@pytest.mark.parametrize("kwargs, match", [
    (dict(iterations=0), "iterations"), (dict(batch_size=-1), "batch_size"), (dict(eval_batches=0), "eval_batches"),
    (dict(critic="resnet"), "critic must be"), (dict(critic="conv"), "critic 'conv' needs image"),
])
def test_bad_arguments(kwargs, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        estimation.train_and_estimate(pairs.gaussians_pair(), estimation.make_method("c_transform"), **kwargs)
    with pytest.raises(ValueError, match="method must be"):
        estimation.make_method("spectral_norm")
    with pytest.raises(ValueError, match="lam must be"):
        estimation.make_method("gradient_penalty", lam=-1)
    with pytest.raises(ValueError, match="cifar_path"):
        pairs.load_cifar_images(tmp_path / "missing.npz")
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(ValueError, match=r"^cifar_path: .* is empty \(0 bytes\)"):
        pairs.load_cifar_images(tmp_path / "empty.npz")


def run_tool(project_root, *args):
    return subprocess.run([sys.executable, str(project_root / "tools" / "estimate_wasserstein.py"), *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_tool_writes_the_table_and_json(project_root, tmp_path, cifar_subset_path):
    out = tmp_path / "table.json"
    result = run_tool(project_root, "--datasets=gaussians,cifar10", "--methods=weight_clipping",
                      "--repeats=2", "--iterations=2", "--batch_size=8", "--width=4", "--cifar_critic=mlp",
                      "--second=noise:0.2", "--nojit_compile", f"--output={out}")
    assert result.returncode == 0, result.stderr
    assert "| weight_clipping |" in result.stdout and "cifar10:noise:0.2" in result.stdout
    tables = json.loads(out.read_text())["tables"]
    assert [t["pair"] for t in tables] == ["gaussians:shift=1", "cifar10:noise:0.2"]
    assert len(tables[1]["methods"]["weight_clipping"]["runs"]) == 2


@pytest.mark.slow
@pytest.mark.parametrize("args, message", [
    (["--datasets=mnist"], "--datasets: unknown mnist"),  # a ValueError from main
    (["--repeats=0"], "flag --repeats=0"),  # a flag-parsing error
])
def test_tool_bad_flags_exit_2(project_root, args, message):
    result = run_tool(project_root, *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr


@pytest.mark.slow
def test_tool_parallel_lines_table(project_root):
    result = run_tool(project_root, "--parallel_lines=0,1", "--methods=c_transform", "--iterations=2",
                      "--batch_size=8", "--width=4", "--nojit_compile")
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| c_transform |")]
    assert len(rows) == 2 and rows[1].split("|")[5].strip() == "1.0000" and rows[1].split("|")[6].strip() == "0.6931"


@pytest.mark.parametrize("space,gamma", [("l2", 7.0), ("sobolev:s=-1,p=2", 33.0), ("lp:p=10", 600.0)])
def test_the_critic_objective_is_invariant_under_scaling_the_critic_by_gamma(space, gamma):
    """Eq. 8: with D = gamma f, penalty(D; gamma) - estimate(D) / gamma equals penalty(f; 1) - estimate(f)."""
    pair = pairs.cifar_pair(np.random.default_rng(0).uniform(-1, 1, (64, 8, 8, 3)).astype(np.float32), "half")
    x, y = pair.sample(16, tf.constant([1, 2]))
    f = estimation.build_critic(pair.sample_shape, "mlp", 8, 0)
    scaled = tf.keras.Sequential([f, tf.keras.layers.Rescaling(gamma)])
    unit = estimation.make_method("banach_gradient_penalty", space=space, lam=10.0, gamma=1.0)
    method = estimation.make_method("banach_gradient_penalty", space=space, lam=10.0, gamma=gamma)
    loss_f, _ = estimation.critic_loss(unit, f, x, y, tf.random.Generator.from_seed(3))
    loss_d, estimate_d = estimation.critic_loss(method, scaled, x, y, tf.random.Generator.from_seed(3))
    penalty_d, _ = method.lipschitz.penalty(scaled, x, y, tf.random.Generator.from_seed(3))
    assert float(loss_d) == pytest.approx(float(loss_f), rel=1e-5)
    assert float(penalty_d) > 0.1 and abs(float(estimate_d)) > 1e-3 * gamma  # both terms take part


def test_with_the_output_scaled_by_gamma_training_does_not_depend_on_gamma():
    """The remedy for a large gamma: D = gamma f with f the network. The objective in f's weights is then the same
    for every gamma, and Adam (invariant to the gradients' scale) takes the same steps: gamma 1 and gamma 600 give
    the same estimates. Without it, the network must grow its output gamma-fold and the estimates differ."""
    pair = pairs.cifar_pair(np.random.default_rng(0).uniform(-1, 1, (256, 8, 8, 3)).astype(np.float32), "half")

    def run(gamma, scale_output):
        method = estimation.make_method("banach_gradient_penalty", space="lp:p=10", lam=1.5, gamma=gamma,
                                        scale_output=scale_output)
        return estimation.train_and_estimate(pair, method, iterations=40, batch_size=16, width=8, eval_batches=2,
                                             learning_rate=1e-3, jit_compile=False)

    scaled_1, scaled_600 = run(1.0, True), run(600.0, True)
    assert scaled_600["estimate"] == pytest.approx(scaled_1["estimate"], rel=1e-3, abs=1e-5)
    assert scaled_600["relative_error"] == pytest.approx(scaled_1["relative_error"], rel=1e-3)
    plain_600 = run(600.0, False)
    assert abs(plain_600["estimate"] - scaled_1["estimate"]) > 10 * abs(scaled_600["estimate"] - scaled_1["estimate"])
