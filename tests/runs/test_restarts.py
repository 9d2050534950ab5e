"""The SGDR phase of Table 4 (Adler & Lunz 2018): eq. 5 of Loshchilov & Hutter, snapshots, resume, the ensemble."""
import hashlib
import math
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from bwgan_tf import compat, models, schedules, train
from bwgan_tf.runs import generators, restarts
from bwgan_tf.train import build
from bwgan_tf.train import run_dir as run_dir_lib

TOY = dict(dataset="toy:8gaussians", architecture="toy_mlp", width=16, latent_dim=2, space="l2", lam=10.0,
           gamma=1.0, batch_size=16, n_critic=2, lr=1e-3, steps=4, log_every=1, checkpoint_every=2,
           keep_checkpoints=50, sample_every=0, xla=False)
LR, START, K, N = 1e-3, 4, 4, 3


def quiet(*args, **kwargs):
    pass


def eq5(t):
    """Loshchilov & Hutter 2017, eq. 5 with eta_min 0, T_i = K, T_cur = (t - START) mod K."""
    return 0.5 * LR * (1 + math.cos(math.pi * ((t - START) % K) / K))


def test_warm_restarts_follow_eq5_for_the_generator_and_per_critic_update():
    generator_rate, critic_rate = (schedules.WarmRestarts(LR, START, K, per) for per in (1, 5))
    steps = np.arange(START, START + N * K)
    assert np.allclose([generator_rate(s) for s in steps], [eq5(t) for t in steps], rtol=1e-6)
    # The critic's 5 updates of generator step t read t + j / 5.
    assert np.allclose([critic_rate(5 * s + 2) for s in steps], [eq5(t + 0.4) for t in steps], rtol=1e-6)
    assert float(generator_rate(START + K)) == pytest.approx(LR)  # a warm restart: back to eta_max
    assert float(generator_rate(START + K - 1)) == pytest.approx(LR * (1 - math.cos(math.pi / K)) / 2)
    optimizers = schedules.paper_optimizers(lr=LR, n_critic=5, decay_steps=schedules.sgdr_plan(START, K, N))
    assert [o._learning_rate.get_config() for o in optimizers] == [  # the Keras optimizer keeps its schedule there
        dict(lr=LR, start=START, restart_steps=K, per_generator_step=per, lr_min=0.0) for per in (1, 5)]


def digests(folder) -> dict:
    return {name: hashlib.sha256(open(os.path.join(folder, name), "rb").read()).hexdigest()
            for name in sorted(os.listdir(folder))}


@pytest.fixture(scope="module")
def phase(tmp_path_factory):
    """A finished 4-step toy run and its SGDR phase of 3 restarts of 4 steps."""
    root = tmp_path_factory.mktemp("sgdr")
    run_dir = train.train(train.make_config(output_dir=str(root / "run"), **TOY), print_fn=quiet)
    before = digests(run_dir_lib.checkpoint_dir(run_dir))
    phase_dir = restarts.run(run_dir, restarts=N, restart_steps=K, print_fn=quiet)
    return run_dir, phase_dir, before


def test_phase_leaves_the_run_alone_and_logs_the_sgdr_rate(phase):
    run_dir, phase_dir, before = phase
    assert phase_dir == os.path.join(run_dir, "sgdr")
    assert digests(run_dir_lib.checkpoint_dir(run_dir)) == before
    records = run_dir_lib.read_metrics(phase_dir)
    assert [r["step"] for r in records] == list(range(START + 1, START + N * K + 1))
    # The logged rate is that of the step's last critic update (n_critic 2): generator step record - 1/2.
    assert np.allclose([r["lr"] for r in records], [eq5(r["step"] - 0.5) for r in records], rtol=1e-5)


def test_snapshots_are_the_ema_generator_at_the_end_of_each_restart(phase):
    _, phase_dir, _ = phase
    assert sorted(os.listdir(os.path.join(phase_dir, "snapshots"))) == [f"restart_{r}" for r in range(1, N + 1)]
    z = tf.random.stateless_normal([6, 2], seed=[1, 2])
    for r, step in enumerate(schedules.snapshot_steps(schedules.sgdr_plan(START, K, N)), 1):
        assert step == START + r * K
        model, config = build.load_model(phase_dir, os.path.join(phase_dir, "checkpoints", f"ckpt-{step}"))
        member = build.build_generator(config)
        compat.read_weights(member, run_dir_lib.snapshot_weights(phase_dir, r)).assert_existing_objects_matched()
        np.testing.assert_array_equal(member(z), model.ema_generator(z))


def test_ensemble_of_the_phase_samples_each_z_from_its_snapshot(phase):
    _, phase_dir, _ = phase
    generator, _ = generators.load_generator(phase_dir)
    members = restarts.load_ensemble(phase_dir)[0].get_layer("by_member").members
    z = tf.random.stateless_normal([64, 2], seed=[3, 0])
    from bwgan_tf.runs import ensemble
    index = ensemble.member_index(z, N).numpy()
    assert set(index) == set(range(N))
    expected = np.stack([members[m](z[i:i + 1])[0] for i, m in enumerate(index)])
    np.testing.assert_allclose(generator(z), expected, atol=1e-6)


def test_interrupted_phase_resumes_to_the_same_snapshots(phase, tmp_path):
    run_dir, phase_dir, _ = phase
    copy = str(tmp_path / "sgdr")
    shutil.copytree(phase_dir, copy)
    config = run_dir_lib.read_config(copy)
    run_dir_lib.write_config(copy, dict(config, output_dir=copy))
    for name in os.listdir(os.path.join(copy, "checkpoints")):  # as if killed at step 10, in restart 2
        if name.startswith("ckpt-") and int(name.split("-")[1].split(".")[0]) > 10:
            os.remove(os.path.join(copy, "checkpoints", name))
    for r in (2, 3):
        shutil.rmtree(run_dir_lib.snapshot_path(copy, r))
    lines = []
    restarts.run(run_dir, restarts=N, restart_steps=K, output_dir=copy, print_fn=lambda *a, **k: lines.append(a[0]))
    assert any(line.startswith("resumed from") and line.endswith("ckpt-10") for line in lines)
    for r in range(1, N + 1):
        a = tf.train.load_checkpoint(run_dir_lib.snapshot_weights(copy, r))
        b = tf.train.load_checkpoint(run_dir_lib.snapshot_weights(phase_dir, r))
        for key in b.get_variable_to_shape_map():
            np.testing.assert_array_equal(a.get_tensor(key), b.get_tensor(key))


def test_phase_refuses_an_unfinished_run_other_values_and_an_incomplete_ensemble(tmp_path, phase):
    run_dir, phase_dir, _ = phase
    unfinished = str(tmp_path / "unfinished")
    train.train(train.make_config(output_dir=unfinished, **TOY), print_fn=quiet)
    config = run_dir_lib.read_config(unfinished)
    run_dir_lib.write_config(unfinished, dict(config, steps=8))
    with pytest.raises(ValueError, match=r"^run_dir: .* generator step 4 of 8; finish it first"):
        restarts.run(unfinished, restarts=N, restart_steps=K, print_fn=quiet)
    with pytest.raises(ValueError, match=r"^restarts: .* 3 restarts of 4 steps, not 5 of 4"):
        restarts.run(run_dir, restarts=5, restart_steps=K, print_fn=quiet)
    with pytest.raises(ValueError, match=r"^run_dir: .* is an SGDR phase itself"):
        restarts.run(phase_dir, print_fn=quiet)
    with pytest.raises(ValueError, match=r"^steps: an SGDR phase runs its restarts x restart_steps"):
        train.train(build.read_config(phase_dir).replace(steps=20), print_fn=quiet)
    with pytest.raises(ValueError, match=r"^restart_steps"):
        restarts.run(run_dir, restarts=N, restart_steps=0, print_fn=quiet)


def test_snapshot_weights_round_trip_and_the_classic_stacks_save_weights_files_still_load(tmp_path):
    """Snapshots are TF checkpoints with the generator as root (compat.write_weights): what Keras 2's save_weights
    wrote, so phases written before keep loading on the classic stack; Keras 3's save_weights writes only
    .weights.h5."""
    z = tf.random.stateless_normal([3, 8], seed=[5, 6])
    source = models.build_generator("dcgan", image_shape=(16, 16, 3), latent_dim=8, width=4, seed=1)
    target = models.build_generator("dcgan", image_shape=(16, 16, 3), latent_dim=8, width=4, seed=2)
    assert not np.array_equal(source(z), target(z))
    compat.write_weights(source, str(tmp_path / "new" / "generator"))
    compat.read_weights(target, str(tmp_path / "new" / "generator")).assert_existing_objects_matched()
    np.testing.assert_array_equal(source(z), target(z))
    legacy = str(tmp_path / "legacy" / "generator")
    if compat.KERAS3:
        with pytest.raises(ValueError, match=r"\.weights\.h5"):
            source.save_weights(legacy)
    else:
        other = models.build_generator("dcgan", image_shape=(16, 16, 3), latent_dim=8, width=4, seed=3)
        source.save_weights(legacy)  # how snapshots were written before
        compat.read_weights(other, legacy).assert_existing_objects_matched()
        np.testing.assert_array_equal(source(z), other(z))
