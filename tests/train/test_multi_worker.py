"""Multi-worker training on loopback CPU workers: N workers compute what one device computes, only the chief writes
the run directory, a SIGTERM to one worker checkpoints all at one step, a dead worker stops the others."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import tensorflow as tf

from bwgan_tf import data, train
from bwgan_tf.train import cluster
from bwgan_tf.train import run_dir as run_dir_lib

TOY = dict(dataset="toy:8gaussians", architecture="toy_mlp", width=16, latent_dim=2, space="l2", lam=10.0,
           gamma=1.0, batch_size=32, n_critic=2, lr=1e-3, lr_decay=False, sample_every=0, xla=False)
CONV = dict(architecture="dcgan", width=4, latent_dim=8, space="l2", lam=10.0, gamma=1.0, batch_size=8, n_critic=2,
            generator_batch_norm=False, flip=True, dequantize=True, xla=False)  # batch norm: statistics per replica
TOLERANCE = dict(rtol=1e-5, atol=1e-6)
PROJECT_TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "tools")


def sgd_weights(config, worker=None) -> list:
    """Generator and critic weights after config.steps generator steps with SGD(0.01), on one device or over the
    workers of a cluster.Worker (as the mirrored test: Adam turns summation-order noise into full steps)."""
    strategy = worker.strategy if worker else tf.distribute.get_strategy()
    with strategy.scope():
        model = train.build_model(config)
        model.compile(tf.keras.optimizers.SGD(0.01), tf.keras.optimizers.SGD(0.01), jit_compile=False)

    def load(shard=(0, 1)):
        return data.load(config.dataset, batch_size=config.batch_size * config.n_critic, seed=3, flip=config.flip,
                         dequantize=config.dequantize, image_size=config.image_size, shard=shard)

    model.fit(worker.distribute(load, config.batch_size) if worker else load(),
              steps_per_epoch=config.steps, epochs=1, verbose=0)
    return [w.numpy() for w in model.generator.weights + model.critic.weights]


WORKER_SCRIPT = textwrap.dedent("""
    import json, sys
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(1)  # bitwise-stable CPU kernels (BUILD_NOTES.md)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from bwgan_tf.train import cluster
    worker = cluster.Worker(collective_timeout=120)  # before any other op
    sys.path.insert(0, sys.argv[1])
    from test_multi_worker import sgd_weights
    from bwgan_tf import train
    settings = json.loads(sys.argv[2])
    result = {name: [w.tolist() for w in sgd_weights(train.make_config(**s), worker)] for name, s in settings.items()}
    result["replicas"] = worker.strategy.num_replicas_in_sync
    if worker.is_chief:  # the same steps on one device, in this single-threaded process
        result.update({"single-" + name: [w.tolist() for w in sgd_weights(train.make_config(**s))]
                       for name, s in settings.items()})
        print("RESULT " + json.dumps(result))
""")


def launch(project_root, tmp_path, *command, workers=2, timeout=240):
    """tools/launch_local.py --workers=N -- command (this checkout's package; scratch directories under tmp_path)."""
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(project_root), TMPDIR=str(scratch))
    return subprocess.Popen([sys.executable, str(project_root / "tools" / "launch_local.py"), f"--workers={workers}",
                             "--", *command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            cwd=project_root)


def trainer(project_root, run_dir, steps, *extra):
    return [str(project_root / "tools" / "train.py"), "--strategy=multi_worker", f"--output_dir={run_dir}",
            f"--steps={steps}", *extra] + [f"--{k}={v}" for k, v in TOY.items()]


def finish(process, timeout=240) -> list:
    out, _ = process.communicate(timeout=timeout)
    return out.splitlines()


def read_until(process, prefix: str, lines: list, timeout=240) -> None:
    """Reads the launcher's lines into `lines` until one starts with prefix."""
    deadline = time.monotonic() + timeout
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith(prefix) or time.monotonic() > deadline:
            return
    raise AssertionError("\n".join(lines[-30:]))


@pytest.mark.slow
def test_two_workers_compute_what_one_device_computes_for_the_same_global_batch(tmp_path, project_root):
    images = np.random.default_rng(0).integers(0, 256, (40, 16, 16, 3), np.uint8)
    np.savez(tmp_path / "tiny.npz", x_train=images)
    settings = {"toy_mlp": dict(TOY, steps=3), "conv": dict(CONV, dataset=f"npz:{tmp_path / 'tiny.npz'}", steps=3)}
    process = launch(project_root, tmp_path, "-c", WORKER_SCRIPT, os.path.dirname(__file__), json.dumps(settings))
    lines = finish(process)
    assert process.returncode == 0, "\n".join(lines[-40:])
    prefix = "[worker 0] RESULT "
    result = json.loads(next(line for line in lines if line.startswith(prefix))[len(prefix):])
    assert result["replicas"] == 2
    for name, values in settings.items():
        model = train.build_model(train.make_config(**values))
        initial = [w.numpy() for w in model.generator.weights + model.critic.weights]
        single = [np.array(w) for w in result["single-" + name]]
        assert len(result[name]) == len(single) == len(initial) > 0
        # Summation order differs (one sum of 2 replica gradients vs one batch sum): float32 rounding only. A wrong
        # split of the batch or of the keyed draws moves the weights by the size of the updates.
        for a, b in zip(single, result[name]):
            np.testing.assert_allclose(np.array(b), a, **TOLERANCE, err_msg=name)
        updates = [np.abs(a - w).max() for a, w in zip(single, initial)]
        assert sum(u > 0 for u in updates) > len(updates) // 2 and max(updates) > 1000 * TOLERANCE["atol"], name


def workers_of(command, env) -> list:
    """The training command started as the 2 workers of a loopback cluster, without the launcher."""
    sys.path.insert(0, str(PROJECT_TOOLS))
    import launch_local
    return [subprocess.Popen([sys.executable, *command], env=dict(env, TF_CONFIG=config, PYTHONUNBUFFERED="1"),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for config in launch_local.tf_configs(launch_local.free_ports(2))]


def stop_step(line: str) -> int:
    return int(line.split("generator step ")[1].split(";")[0])


@pytest.mark.slow
def test_sigterm_stops_all_workers_at_one_saved_step_a_dead_worker_stops_the_others_and_relaunches_resume(
        tmp_path, project_root):
    run_dir = tmp_path / "run"
    # 1. SIGTERM to worker 1: every worker stops at the same step, and that step is saved.
    process = launch(project_root, tmp_path, *trainer(project_root, run_dir, 200, "--log_every=10",
                                                      "--checkpoint_every=1000"))
    lines = []
    read_until(process, "[worker 0] step 20/", lines)
    pid = int(next(line for line in lines if line.startswith("[launcher] worker 1:")).split("pid ")[1].split(",")[0])
    os.kill(pid, signal.SIGTERM)
    lines += finish(process)
    assert process.returncode == 143, "\n".join(lines[-40:])
    stops = {line.split("]")[0]: stop_step(line) for line in lines if "stopped by SIGTERM at generator step" in line}
    assert set(stops) == {"[worker 0", "[worker 1"} and len(set(stops.values())) == 1, lines[-20:]
    step = stops["[worker 0"]
    assert 20 <= step < 200 and sorted(os.listdir(run_dir / "checkpoints")) == [
        "checkpoint", f"ckpt-{step}.data-00000-of-00001", f"ckpt-{step}.index"]
    assert os.listdir(tmp_path / "tmp") == []  # the non-chief's scratch directory is gone
    # 2. Relaunched, the workers continue from that checkpoint; killing worker 1 stops worker 0 within the bound.
    env = dict(os.environ, PYTHONPATH=str(project_root), TMPDIR=str(tmp_path / "tmp"))
    workers = workers_of(trainer(project_root, run_dir, 200, "--resume", "--checkpoint_every=10",
                                 "--collective_timeout=60"), env)
    try:
        lines = []
        read_until(workers[0], f"step {(step // 10 + 2) * 10}/", lines)  # a logged step 10 or more later
        workers[1].kill()
        killed = time.monotonic()
        lines += finish(workers[0], timeout=120)
        stopped_after = time.monotonic() - killed
    finally:
        for worker in workers:
            worker.kill()
            worker.communicate()
    assert f"resumed from {run_dir}/checkpoints/ckpt-{step}" in lines
    # A dead peer is seen by TF's coordination-service heartbeat (about 10 s) or a reset connection, well inside
    # the watchdog's --collective_timeout (60 s here) that bounds a peer that hangs.
    assert workers[0].returncode == 4 and stopped_after < 60, (stopped_after, lines[-10:])
    assert "a peer worker died or became unreachable" in lines[-1] and "--resume" in lines[-1]
    saved = int(tf.train.latest_checkpoint(str(run_dir / "checkpoints")).rsplit("-", 1)[1])
    assert saved > step
    # 3. Relaunched again, they resume from the last checkpoint and reach the last step.
    relaunch = launch(project_root, tmp_path, *trainer(project_root, run_dir, 200, "--resume"))
    lines = finish(relaunch)
    assert relaunch.returncode == 0, "\n".join(lines[-40:])
    assert f"[worker 1] resumed from {run_dir}/checkpoints/ckpt-{saved}" in lines
    assert tf.train.latest_checkpoint(str(run_dir / "checkpoints")).endswith("ckpt-200")
    records = run_dir_lib.read_metrics(run_dir)
    steps = [r["step"] for r in records]
    assert steps == sorted(set(steps)) and steps[-1] == 200
    assert {(r["lam"], r["gamma"]) for r in records} == {(10.0, 1.0)}  # means over the replicas, not sums
    assert len(run_dir_lib.read_provenance(run_dir)) == 3  # one line per start, from the chief only
    assert "worker 1" not in (run_dir / "log.txt").read_text()
    # worker 1's SIGKILL left its scratch directory; the relaunched worker 1 deleted it and then its own at exit
    assert not [n for n in os.listdir(tmp_path / "tmp") if n.startswith(cluster.SCRATCH_PREFIX)]


WATCHDOG_SCRIPT = textwrap.dedent("""
    import time
    from bwgan_tf.train import cluster
    worker = cluster.Worker(collective_timeout=2)
    with worker.scratch() as scratch, worker.watchdog(lambda: "last step 7"):
        print(scratch, flush=True)
        time.sleep(60)  # as a step blocked in a collective on a peer that hangs
""")


@pytest.mark.slow
def test_the_watchdog_ends_a_worker_whose_steps_stop_with_exit_code_4(tmp_path, project_root):
    sys.path.insert(0, str(PROJECT_TOOLS))
    import launch_local
    env = dict(os.environ, PYTHONPATH=str(project_root), TF_CONFIG=launch_local.tf_configs([launch_local.free_ports(
        1)[0]])[0])
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-c", WATCHDOG_SCRIPT], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 4 and time.monotonic() - start < 50, result.stderr[-2000:]
    assert ("worker 0 of 1 (chief) stopped: no training step ended within --collective_timeout=2 s, so a peer worker "
            "hangs (or this one); last step 7;") in result.stderr
    assert not os.path.exists(result.stdout.strip())  # the scratch directory is removed


def test_stale_scratch_directories_of_dead_workers_are_deleted_and_nothing_else(tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    dead, alive = int(finished.stdout), os.getpid()
    names = [f"bwgan_tf_worker1_pid{dead}_abc", f"bwgan_tf_worker2_pid{alive}_abc", "bwgan_tf_worker1_abc",
             f"other_pid{dead}_abc"]
    for name in names:
        (tmp_path / name).mkdir()
        (tmp_path / name / "ckpt-1.index").write_bytes(b"x")
    (tmp_path / f"bwgan_tf_worker3_pid{dead}_file").write_bytes(b"not a directory")
    os.symlink(tmp_path / names[1], tmp_path / f"bwgan_tf_worker4_pid{dead}_link")
    assert cluster.remove_stale_scratch(str(tmp_path)) == [str(tmp_path / names[0])]
    assert sorted(os.listdir(tmp_path)) == sorted(names[1:] + [f"bwgan_tf_worker3_pid{dead}_file",
                                                               f"bwgan_tf_worker4_pid{dead}_link"])
    assert cluster.remove_stale_scratch(str(tmp_path / "missing")) == []


def test_the_launchers_exit_code_is_the_chiefs_own_unless_it_echoes_the_launchers_signal():
    sys.path.insert(0, str(PROJECT_TOOLS))
    import launch_local
    term, kill = signal.SIGTERM, signal.SIGKILL
    assert launch_local.chosen_code([4, 137], 137, {term}) == 4  # the chief reports the lost worker
    assert launch_local.chosen_code([143, 3], 3, {term}) == 3  # the chief stopped because the launcher said so
    assert launch_local.chosen_code([137, 137], 137, {term, kill}) == 137
    assert launch_local.chosen_code([143, 143], 0, set()) == 143  # a SIGTERM the user sent to all
    assert launch_local.chosen_code([0, 0], 0) == 0 and launch_local.chosen_code([0, 5], 0) == 5


def test_tf_config_errors_name_tf_config():
    with pytest.raises(ValueError, match="strategy: multi_worker needs TF_CONFIG"):
        cluster.cluster_spec({})
    with pytest.raises(ValueError, match="TF_CONFIG: expected"):
        cluster.cluster_spec({"TF_CONFIG": "{}"})
    with pytest.raises(ValueError, match="TF_CONFIG: the cluster must list only \"worker\" tasks"):
        cluster.cluster_spec({"TF_CONFIG": json.dumps({"cluster": {"worker": ["a:1"]},
                                                       "task": {"type": "worker", "index": 1}})})
    assert cluster.cluster_spec({"TF_CONFIG": json.dumps({"cluster": {"worker": ["a:1", "b:2"]},
                                                          "task": {"type": "worker", "index": 1}})}) == (1, 2)


@pytest.mark.slow
def test_the_launcher_prefixes_output_and_stops_the_others_when_one_worker_fails(tmp_path, project_root):
    script = textwrap.dedent(f"""
        import json, os, sys, time
        index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
        print("hello from", index, flush=True)
        open(os.path.join({str(tmp_path)!r}, f"said_{{index}}"), "w").close()
        if index == 1:  # fails once every worker has spoken (a loaded machine may start them seconds apart)
            while len([n for n in os.listdir({str(tmp_path)!r}) if n.startswith("said_")]) < 3:
                time.sleep(0.05)
            sys.exit(3)
        time.sleep(120)
    """)
    start = time.monotonic()
    process = launch(project_root, tmp_path, "-c", script, workers=3)
    lines = finish(process, timeout=60)
    assert process.returncode == 3 and time.monotonic() - start < 30, lines
    assert {f"[worker {i}] hello from {i}" for i in range(3)} <= set(lines)
    assert "[launcher] worker 1 exited with code 3; stopping the others" in lines


@pytest.mark.slow
def test_the_chiefs_own_exit_code_reaches_the_user_when_a_worker_is_killed(tmp_path, project_root):
    script = textwrap.dedent(f"""
        import json, os, signal, sys, time
        index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
        if index == 1:  # killed once the chief is listening
            while not os.path.exists(os.path.join({str(tmp_path)!r}, "ready")):
                time.sleep(0.05)
            os.kill(os.getpid(), signal.SIGKILL)
        signal.signal(signal.SIGTERM, lambda *_: None)  # the chief notices the lost peer by itself, slowly
        open(os.path.join({str(tmp_path)!r}, "ready"), "w").close()
        time.sleep(2)
        print("error: a peer worker died", flush=True)
        sys.exit(4)
    """)
    process = launch(project_root, tmp_path, "-c", script, workers=2)
    lines = finish(process, timeout=60)
    assert process.returncode == 4, lines
    assert "[launcher] worker 1 exited with code 137; stopping the others" in lines
    assert "[worker 0] error: a peer worker died" in lines
