"""A run never loses work: SIGINT/SIGTERM save and resume bit for bit, the lock, damaged checkpoints, resume
semantics (refused and allowed changes, the learning-rate plan), provenance and log.txt, no per-step host sync."""
import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from bwgan_tf import compat, data, schedules, train
from bwgan_tf.runs import generators
from bwgan_tf.train import build, callbacks
from bwgan_tf.train import run_dir as run_dir_lib

TOY = dict(dataset="toy:8gaussians", architecture="toy_mlp", width=16, latent_dim=2, space="l2", lam=10.0,
           gamma=1.0, batch_size=32, n_critic=2, lr=1e-3, lr_decay=True, log_every=2, checkpoint_every=5,
           sample_every=0, xla=False)


def quiet(*args, **kwargs):
    pass


def signalling_at(step: int, signum: int, lines: list):
    """A print_fn that records the lines and sends `signum` to this process when step `step` is logged."""

    def print_fn(*args, **kwargs):
        text = " ".join(map(str, args))
        lines.append(text)
        if text.startswith(f"step {step}/"):
            os.kill(os.getpid(), signum)

    return print_fn


def checkpoint_tensors(run_dir) -> dict:
    reader = tf.train.load_checkpoint(os.path.join(run_dir, "checkpoints"))
    # The object graph names each variable too (Keras 3: "adam_5/iteration", a per-process counter): not compared.
    return {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()
            if "save_counter" not in k and k != "_CHECKPOINTABLE_OBJECT_GRAPH"}


def saved_step(run_dir) -> int:
    return int(tf.train.latest_checkpoint(os.path.join(run_dir, "checkpoints")).rsplit("-", 1)[1])


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_saves_the_step_reached_flushes_its_metrics_and_says_how_to_resume(tmp_path, signum):
    handler = signal.getsignal(signum)
    lines = []
    config = train.make_config(steps=12, output_dir=str(tmp_path / "cut"), **TOY)
    with pytest.raises(train.TrainingInterrupted) as stopped:
        train.train(config, print_fn=signalling_at(6, signum, lines))
    assert stopped.value.exit_code == 128 + signum and stopped.value.signum == signum
    # the signal came while step 6 was being logged: the run stopped at the end of step 6 or 7, and saved there
    assert stopped.value.step in (6, 7) and saved_step(tmp_path / "cut") == stopped.value.step
    assert lines[-1] == str(stopped.value) and "--resume" in lines[-1] and signal.Signals(signum).name in lines[-1]
    assert run_dir_lib.read_metrics(tmp_path / "cut")[-1]["step"] == stopped.value.step  # flushed
    assert signal.getsignal(signum) == handler  # the trainer's handler is gone
    train.train(config, print_fn=quiet)
    steps = [r["step"] for r in run_dir_lib.read_metrics(tmp_path / "cut")]
    assert steps == sorted(set(steps)) and steps[-1] == 12 and saved_step(tmp_path / "cut") == 12


BIT_FOR_BIT = textwrap.dedent("""
    import json, signal, sys
    import numpy as np, tensorflow as tf
    # Multi-threaded CPU kernels are not bitwise reproducible from run to run under load (BUILD_NOTES.md).
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    sys.path.insert(0, sys.argv[2])
    from test_resume import TOY, checkpoint_tensors, quiet, signalling_at
    from bwgan_tf import train
    whole = checkpoint_tensors(train.train(train.make_config(steps=12, output_dir=sys.argv[1] + "/whole", **TOY),
                                           print_fn=quiet))
    result = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        config = train.make_config(steps=12, output_dir=f"{sys.argv[1]}/cut{signum}", **TOY)
        try:
            train.train(config, print_fn=signalling_at(6, signum, []))
        except train.TrainingInterrupted as stopped:
            result[f"stopped{signum}"] = stopped.step
        resumed = checkpoint_tensors(train.train(config, print_fn=quiet))
        result[f"differ{signum}"] = [k for k in whole if not np.array_equal(whole[k], resumed[k])]
        result[f"compared{signum}"] = len(set(whole) & set(resumed)) if set(whole) == set(resumed) else -1
    print(json.dumps(result))
""")


@pytest.mark.slow
def test_a_run_interrupted_by_a_signal_and_resumed_equals_an_uninterrupted_one_bit_for_bit(tmp_path, project_root):
    out = subprocess.run([sys.executable, "-c", BIT_FOR_BIT, str(tmp_path), os.path.dirname(__file__)],
                         capture_output=True, text=True, timeout=300, cwd=project_root)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    for signum in (signal.SIGINT, signal.SIGTERM):
        assert result[f"stopped{signum}"] in (6, 7)
        assert result[f"compared{signum}"] > 20 and result[f"differ{signum}"] == []  # weights, EMA, Adam moments


def test_a_second_trainer_on_the_same_run_directory_is_refused(tmp_path):
    run_dir = str(tmp_path / "busy")
    config = train.make_config(steps=2, output_dir=run_dir, **TOY)
    run_dir_lib.create(run_dir)
    with run_dir_lib.locked(run_dir), pytest.raises(train.RunDirectoryBusy, match=f"output_dir: .* pid {os.getpid()}"):
        train.train(config, print_fn=quiet)
    train.train(config, print_fn=quiet)  # released
    assert saved_step(run_dir) == 2


@pytest.mark.slow
def test_a_crashed_trainer_leaves_no_stuck_lock(tmp_path, project_root):
    run_dir = tmp_path / "crashed"
    run_dir.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from bwgan_tf.train import run_dir
        with run_dir.locked({str(run_dir)!r}):
            print("locked", flush=True)
            time.sleep(120)
    """)], stdout=subprocess.PIPE, text=True, cwd=project_root)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(train.RunDirectoryBusy, match=f"pid {holder.pid}"), run_dir_lib.locked(str(run_dir)):
            pass
    finally:
        holder.kill()
        holder.wait()
    with run_dir_lib.locked(str(run_dir)):  # the kernel released the dead holder's lock
        assert (run_dir / ".lock").read_text() == f"pid {os.getpid()} on {os.uname().nodename}"


@pytest.mark.parametrize("damage", ["truncated", "missing"])
def test_a_damaged_latest_checkpoint_falls_back_to_the_one_before(tmp_path, damage):
    run_dir = str(tmp_path / "damaged")
    config = train.make_config(steps=10, output_dir=run_dir, **TOY)
    train.train(config, print_fn=quiet)
    data_file = os.path.join(run_dir, "checkpoints", "ckpt-10.data-00000-of-00001")
    if damage == "missing":
        os.remove(data_file)
    else:
        with open(data_file, "r+b") as f:
            f.truncate(os.path.getsize(data_file) // 2)
    lines = []
    train.train(config.replace(steps=12), print_fn=lambda *a, **k: lines.append(" ".join(map(str, a))))
    assert any("ckpt-10 is damaged" in line for line in lines)
    assert any(line.startswith("resumed from") and line.endswith("ckpt-5") for line in lines)
    assert saved_step(run_dir) == 12
    reader = tf.train.load_checkpoint(data_file.split(".data-")[0])  # step 10 trained again and saved intact
    assert all(reader.get_tensor(k) is not None for k in reader.get_variable_to_shape_map())
    for name in os.listdir(os.path.join(run_dir, "checkpoints")):  # now every checkpoint is damaged
        if name.startswith("ckpt-") and ".data-" in name:
            os.remove(os.path.join(run_dir, "checkpoints", name))
    with pytest.raises(RuntimeError, match="every checkpoint .* is damaged"):
        train.train(config.replace(steps=14), print_fn=quiet)


def test_resuming_refuses_a_changed_setting_and_applies_and_records_a_resumable_one(tmp_path):
    run_dir = str(tmp_path / "r")
    config = train.make_config(steps=4, output_dir=run_dir, **TOY)
    train.train(config, print_fn=quiet)
    refused = r"output_dir: .*\(batch_size: 32 there, 16 now; lam: 10\.0 there, 5\.0 now\).*--resume"
    with pytest.raises(ValueError, match=refused):
        train.train(config.replace(lam=5.0, batch_size=16), print_fn=quiet)
    with pytest.raises(ValueError, match="space: 'lp:p=2' there, 'lp:p=10' now"):  # the preset's name is no excuse
        train.train(train.make_config("cifar10_l10", output_dir=run_dir), print_fn=quiet)
    lines = []
    train.train(config.replace(lam="auto", log_every=3), print_fn=lambda *a, **k: lines.append(a[0]))
    assert "resume: log_every 2 -> 3" in lines
    saved = run_dir_lib.read_config(run_dir)
    assert saved["log_every"] == 3 and saved["lam"] == 10.0
    assert run_dir_lib.read_provenance(run_dir)[-1]["changes"] == {"log_every": [2, 3]}


def test_more_steps_on_resume_continue_the_learning_rate_without_a_jump(tmp_path):
    run_dir = str(tmp_path / "lr")
    config = train.make_config(steps=20, output_dir=run_dir, **TOY)
    with pytest.raises(train.TrainingInterrupted) as stopped:
        train.train(config, print_fn=signalling_at(6, signal.SIGTERM, []))
    start = stopped.value.step
    lines = []
    train.train(config.replace(steps=40), print_fn=lambda *a, **k: lines.append(a[0]))
    plan = run_dir_lib.read_config(run_dir)["lr_plan"]
    assert plan == [[0, 1.0], [start, pytest.approx(1 - start / 20)], [40, 0.0]]
    assert any(line.startswith(f"resume: the learning rate continues from {1e-3 * (1 - start / 20):.3g} at "
                               f"generator step {start} linearly to 0 at step 40") for line in lines)
    for record in run_dir_lib.read_metrics(run_dir):  # the rate of the step's last critic update (n_critic 2)
        s = record["step"] - 0.5
        expected = 1e-3 * (1 - s / 20 if s <= start else (1 - start / 20) * (40 - s) / (40 - start))
        assert record["lr"] == pytest.approx(expected, rel=1e-5), s
    # a run whose rate has decayed to 0 is not extended at rate 0
    with pytest.raises(ValueError, match="steps: the learning rate of this run has decayed to 0 by generator step 40"):
        train.train(config.replace(steps=50), print_fn=quiet)


def test_provenance_and_log_record_every_start(tmp_path, project_root):
    run_dir = str(tmp_path / "p")
    config = train.make_config(steps=2, output_dir=run_dir, **dict(TOY, lr_decay=False))
    train.train(config, print_fn=quiet)
    train.train(config.replace(steps=4), print_fn=quiet)
    first, second = run_dir_lib.read_provenance(run_dir)
    assert (first["event"], first["step"], second["event"], second["step"]) == ("start", 0, "resume", 2)
    assert second["changes"] == {"steps": [2, 4]}
    assert first["tensorflow"] == tf.__version__ and first["numpy"] == np.__version__
    assert first["stack"] == second["stack"] == compat.stack()  # name, tensorflow, keras, estimator implementation
    assert first["stack"]["keras"] == compat.keras_version() and first["stack"]["estimators"] in ("own", "tfgan")
    assert first["tensorflow_gan"] == compat.version_of("tensorflow-gan")  # None where it is not installed
    assert run_dir_lib.read_config(run_dir)["stack"] == first["stack"]  # the stack that created the run
    assert first["command"].startswith(sys.executable) and first["host"] == os.uname().nodename
    head = subprocess.run(["git", "-C", str(project_root), "rev-parse", "HEAD"], capture_output=True, text=True)
    assert first["git"]["commit"] == head.stdout.strip() and isinstance(first["git"]["dirty"], bool)
    log = (tmp_path / "p" / "log.txt").read_text()
    assert log.count("training 2 generator steps") == 2 and "run complete" not in log
    assert "resume: steps 2 -> 4" in log and json.loads(log.splitlines()[0][len("config: "):])["steps"] == 2


OTHER_STACK = {"classic": {"name": "current", "tensorflow": "2.21.0", "keras": "3.15.1", "estimators": "own"},
               "current": {"name": "classic", "tensorflow": "2.15.1", "keras": "2.15.0", "estimators": "tfgan"}}


def test_a_run_of_the_other_stack_is_refused_in_one_line_and_one_without_a_stack_record_is_classic(tmp_path):
    run_dir = str(tmp_path / "s")
    config = train.make_config(steps=2, output_dir=run_dir, **dict(TOY, lr_decay=False))
    train.train(config, print_fn=quiet)
    saved = run_dir_lib.read_config(run_dir)
    here = compat.stack_name()
    other = OTHER_STACK[here]
    run_dir_lib.write_config(run_dir, dict(saved, stack=other))  # as the other stack writes it
    for attempt in (lambda: train.train(config.replace(steps=4), print_fn=quiet),
                    lambda: generators.open_run(run_dir)):
        with pytest.raises(ValueError) as refused:
            attempt()
        message = str(refused.value)
        assert "\n" not in message and f"was written by the {other['name']} stack (TensorFlow " \
            f"{other['tensorflow']}, Keras {other['keras']})" in message and f"this is the {here} stack" in message
    assert saved_step(run_dir) == 2
    run_dir_lib.write_config(run_dir, {k: v for k, v in saved.items() if k != "stack"})  # written before the record
    if here == "classic":
        train.train(config.replace(steps=4), print_fn=quiet)
        assert saved_step(run_dir) == 4 and run_dir_lib.read_config(run_dir)["stack"] == {"name": "classic"}
    else:
        with pytest.raises(ValueError, match=r"was written by the classic stack; continue it there: this is the "
                                             r"current stack \(TensorFlow "):
            train.train(config.replace(steps=4), print_fn=quiet)


def test_a_run_refused_while_building_leaves_no_config_and_the_corrected_command_starts(tmp_path):
    path = tmp_path / "odd.npz"
    np.savez(path, x_train=np.zeros((16, 33, 33, 3), np.uint8))
    bad = train.make_config(dataset=f"npz:{path}", architecture="resnet", width=8, latent_dim=4, batch_size=4,
                            n_critic=1, steps=1, lam=10.0, gamma=1.0, output_dir=str(tmp_path / "run"), xla=False,
                            sample_every=0, mixed_precision=False)
    with pytest.raises(ValueError, match="power-of-two size"):
        train.train(bad, print_fn=quiet)
    assert not run_dir_lib.exists(str(tmp_path / "run"))
    train.train(bad.replace(architecture="mlp"), print_fn=quiet)  # the corrected command, same directory
    assert run_dir_lib.read_config(str(tmp_path / "run"))["architecture"] == "mlp"


def test_relative_data_paths_are_stored_absolute_and_older_relative_ones_resolve(tmp_path, monkeypatch):
    (tmp_path / "work").mkdir()
    np.savez(tmp_path / "work" / "tiny.npz", x_train=np.zeros((16, 8, 8, 3), np.uint8))
    monkeypatch.chdir(tmp_path / "work")
    config = train.make_config(dataset="npz:tiny.npz", architecture="mlp", width=8, latent_dim=4, batch_size=4,
                               n_critic=1, steps=1, lam=10.0, gamma=1.0, output_dir=str(tmp_path / "run"),
                               xla=False, sample_every=0, mixed_precision=False, lr_decay=False)
    assert config.dataset == f"npz:{tmp_path / 'work' / 'tiny.npz'}"
    run_dir = train.train(config, print_fn=quiet)
    monkeypatch.chdir(tmp_path)  # elsewhere: the run resumes with the path it stored
    train.train(train.read_config(run_dir).replace(steps=2), print_fn=quiet)
    assert saved_step(run_dir) == 2
    # a run directory of an older version stored the path as typed: it is resolved against its first start's cwd
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    (tmp_path / "run" / "config.json").write_text(json.dumps(dict(saved, dataset="npz:tiny.npz")))
    assert run_dir_lib.read_config(run_dir)["dataset"] == f"npz:{tmp_path / 'work' / 'tiny.npz'}"


def test_images_the_sample_grid_cannot_draw_are_refused_before_the_first_step(tmp_path):
    np.savez(tmp_path / "five.npz", x_train=np.zeros((40, 8, 8, 5), np.uint8))
    config = train.make_config(dataset=f"npz:{tmp_path / 'five.npz'}", architecture="dcgan", width=4, latent_dim=4,
                               lam=10.0, gamma=1.0, batch_size=4, n_critic=1, steps=3,
                               output_dir=str(tmp_path / "r"), xla=False)
    with pytest.raises(ValueError, match=r"dataset: samples of shape \(8, 8, 5\) cannot be drawn"):
        train.train(config, print_fn=quiet)
    assert not (tmp_path / "r").exists()


def test_a_dataset_smaller_than_one_step_is_trained_with_a_warning(tmp_path, monkeypatch):
    images = np.random.default_rng(0).integers(0, 256, (10, 32, 32, 3), np.uint8)
    np.savez(tmp_path / "ten.npz", x_train=images[:6], x_test=images[6:])
    lines, loads = [], []
    real_load = data.load

    def spy(*args, **kwargs):
        loads.append((args, kwargs))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(data, "load", spy)
    config = train.make_config(dataset=f"npz:{tmp_path / 'ten.npz'}", width=4, latent_dim=4, lam=10.0, gamma=1.0,
                               batch_size=4, n_critic=3, steps=1, output_dir=str(tmp_path / "r"), xla=False,
                               train_split="all", flip=True, dequantize=True)
    train.train(config, print_fn=lambda *a, **k: lines.append(a[0]))
    assert any(line.startswith("warning: dataset npz:") and "10 images" in line and "= 12)" in line for line in lines)
    assert saved_step(tmp_path / "r") == 1
    (args, kwargs), = loads  # the training stream: every image, flipped and dequantised
    assert args[1] == "all" and kwargs["flip"] is True and kwargs["dequantize"] is True


def test_keras_hands_the_callbacks_tensors_and_the_guard_counts_steps_without_the_model(tmp_path):
    seen = []

    class Spy(callbacks.StepCallback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append((self.step(), type(logs["generator_loss"])))

    config = train.make_config(steps=3, output_dir=str(tmp_path / "s"), **TOY)
    model = train.build_model(config)
    guard = callbacks.Guard(start_step=0)
    spy = Spy()
    spy.guard = guard
    model.fit(tf.data.Dataset.from_tensors(tf.zeros([64, 2])).repeat(), steps_per_epoch=3, epochs=1, verbose=0,
              callbacks=[guard, callbacks.CheckpointSaver(build.checkpoint_manager(model, str(tmp_path)), 100), spy])
    assert [s for s, _ in seen] == [1, 2, 3] == list(range(1, int(model.generator_steps.numpy()) + 1))
    if not compat.KERAS3:  # Keras 2 hands callbacks tensors: no conversion to numpy on every step
        assert all(issubclass(kind, tf.Tensor) for _, kind in seen)
    else:  # Keras 3 converts them itself; the callbacks read both kinds with float()
        assert all(issubclass(kind, (float, np.ndarray, np.floating)) for _, kind in seen), seen


def test_plan_value_and_replan_are_piecewise_linear():
    plan = [[0, 1.0], [100, 0.0]]
    assert schedules.plan_value(plan, 25) == 0.75 and schedules.plan_value(plan, 150) == 0.0
    replanned = schedules.replan(plan, 50, 150)
    assert replanned == [[0, 1.0], [50, 0.5], [150, 0.0]]
    assert schedules.plan_value(replanned, 100) == 0.25
    schedule = schedules.PiecewiseLinear(2e-4, [(s * 5, f) for s, f in replanned])  # the critic counts 5 steps per step
    steps = np.arange(0, 900, 7)
    np.testing.assert_allclose([float(schedule(s)) for s in steps],
                               2e-4 * np.interp(steps / 5, *zip(*replanned)), rtol=1e-5, atol=1e-12)
    with pytest.raises(ValueError, match="increasing steps"):
        schedules.PiecewiseLinear(1.0, [(0, 1.0), (0, 0.0)])


@pytest.mark.parametrize("flags,native", [("fpu avx512f avx512_bf16 avx512_vnni", True), ("fpu avx2 amx_bf16", True),
                                          ("fpu avx512f avx512_vnni", False)])
def test_native_bfloat16_reads_the_cpu_flags(tmp_path, flags, native):
    (tmp_path / "cpuinfo").write_text(f"processor\t: 0\nflags\t\t: {flags}\n\nprocessor\t: 1\nflags\t\t: {flags}\n")
    assert build.native_bfloat16(str(tmp_path / "cpuinfo")) is native
    (tmp_path / "arm").write_text(f"processor\t: 0\nFeatures\t: fp asimd {'bf16' if native else 'sve'}\n")
    assert build.native_bfloat16(str(tmp_path / "arm")) is native
    assert build.native_bfloat16(str(tmp_path / "missing")) is False


@pytest.mark.parametrize("native", [True, False])
def test_mixed_precision_auto_is_bfloat16_for_conv_models_on_native_bfloat16_cpus_and_saved_resolved(
        tmp_path, monkeypatch, native):
    monkeypatch.setattr(build, "native_bfloat16", lambda: native)
    for architecture, expected in (("resnet", native), ("dcgan", native), ("toy_mlp", False), ("mlp/dcgan", native)):
        config = train.make_config(architecture=architecture)
        assert config.mixed_precision == "auto" and build.resolve_mixed_precision(config) is expected, architecture
        assert build.resolve_mixed_precision(config.replace(mixed_precision=False)) is False
    run_dir, toy = str(tmp_path / "auto"), dict(TOY, lr_decay=False)
    train.train(train.make_config(steps=1, output_dir=run_dir, **toy), print_fn=quiet)
    assert run_dir_lib.read_config(run_dir)["mixed_precision"] is False  # resolved, not "auto"
    train.train(train.make_config(steps=2, output_dir=run_dir, **toy), print_fn=quiet)  # "auto" matches on resume
    with pytest.raises(ValueError, match="mixed_precision: False there, True now"):
        train.train(train.make_config(steps=3, output_dir=run_dir, mixed_precision=True, **toy), print_fn=quiet)
