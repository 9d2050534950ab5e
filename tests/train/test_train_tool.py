"""tools/train.py end to end: bad flags exit 2; a run killed with SIGKILL resumes and finishes."""
import errno
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import tensorflow as tf

from bwgan_tf import train
from bwgan_tf.io import files
from bwgan_tf.train import callbacks
from bwgan_tf.train import run_dir as run_dir_lib

TOY_FLAGS = ["--preset=toy_8gaussians", "--width=16", "--batch_size=32", "--n_critic=2", "--lr=1e-3",
             "--xla=false", "--sample_every=0", "--log_every=10"]


def train_tool(project_root, *args, **kwargs):
    return subprocess.run([sys.executable, str(project_root / "tools" / "train.py"), *args], capture_output=True,
                          text=True, timeout=kwargs.pop("timeout", 300), cwd=project_root, **kwargs)


@pytest.mark.parametrize("args,message", [
    (["--space=l3"], "--space: "),
    (["--dataset=imagenet"], "--dataset: .*known.*cifar10"),
    (["--n_critic=0"], "--n_critic: must be an integer >= 1"),
    (["--lam=big"], "--lam: must be a (non-negative )?number or 'auto'"),
    (["--strategy=tpu"], "flag --strategy=tpu"),
    (["--steps=ten"], "flag --steps=ten"),
])
def test_bad_flags_exit_2_naming_the_flag(project_root, tmp_path, args, message):
    result = train_tool(project_root, "--preset=toy_8gaussians", f"--output_dir={tmp_path / 'run'}", *args)
    assert result.returncode == 2, result.stderr[-2000:]
    assert re.search(message, result.stderr), result.stderr[-2000:]
    assert not (tmp_path / "run" / "checkpoints").exists()  # nothing started


def test_missing_output_dir_is_a_usage_error(project_root):
    result = train_tool(project_root, "--preset=toy_8gaussians")
    assert result.returncode == 2 and "output_dir" in result.stderr


def test_a_run_killed_with_sigkill_resumes_from_its_checkpoint_and_finishes(project_root, tmp_path):
    run_dir = tmp_path / "killed"
    every, total = 40, 400
    process = subprocess.Popen([sys.executable, str(project_root / "tools" / "train.py"), *TOY_FLAGS,
                                f"--steps={total}", f"--checkpoint_every={every}", f"--output_dir={run_dir}"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=project_root)
    killed_at = None
    deadline = time.time() + 240
    for line in process.stdout:
        match = re.match(r"step (\d+)/", line)
        if match and int(match.group(1)) >= 130:
            process.send_signal(signal.SIGKILL)
            killed_at = int(match.group(1))
            break
        assert time.time() < deadline, "training too slow to reach step 130"
    process.wait(timeout=60)
    assert killed_at is not None and process.returncode == -signal.SIGKILL
    latest = tf.train.latest_checkpoint(str(run_dir / "checkpoints"))
    saved_step = int(latest.rsplit("-", 1)[1])
    assert saved_step % every == 0 and 0 <= killed_at - saved_step <= every + 10  # lost at most checkpoint_every

    resumed = train_tool(project_root, f"--output_dir={run_dir}", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resumed from {latest}" in resumed.stdout
    first_step = int(re.search(r"step (\d+)/", resumed.stdout).group(1))
    assert first_step == saved_step + 1
    model, config = train.load_model(str(run_dir))
    assert int(model.generator_steps.numpy()) == total and config.width == 16
    steps = [r["step"] for r in run_dir_lib.read_metrics(str(run_dir))]
    assert steps == sorted(set(steps)) and steps[-1] == total  # no duplicated lines after the resume


DISK_FULL_AFTER = """
import runpy, sys
import tensorflow as tf
save = tf.train.CheckpointManager.save
def full(self, checkpoint_number=None, **kwargs):  # the disk fills up after the first checkpoint
    if checkpoint_number > 20:
        import os
        os.makedirs(os.path.join(self.directory, f"ckpt-{checkpoint_number}_temp"))  # as SaveV2 leaves it
        raise tf.errors.ResourceExhaustedError(None, None, "ckpt_temp/part-00000; No space left on device")
    return save(self, checkpoint_number=checkpoint_number, **kwargs)
tf.train.CheckpointManager.save = full
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_a_full_disk_while_checkpointing_is_one_line_naming_the_path_exit_2_and_the_run_resumes(project_root,
                                                                                                 tmp_path):
    run_dir = tmp_path / "run"
    flags = [*TOY_FLAGS, "--steps=60", "--checkpoint_every=20", f"--output_dir={run_dir}"]
    result = subprocess.run([sys.executable, "-c", DISK_FULL_AFTER, str(project_root / "tools" / "train.py"),
                             *flags], capture_output=True, text=True, timeout=300, cwd=project_root)
    assert result.returncode == 2, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert "Traceback" not in result.stderr, result.stderr
    assert last == (f"error: cannot write {run_dir}/checkpoints/ckpt-40: No space left on device; training stopped "
                    f"at generator step 40, the last checkpoint is {run_dir}/checkpoints/ckpt-20; make room, then "
                    f"continue with: python tools/train.py --output_dir={run_dir} --resume"), result.stderr
    assert sorted(os.listdir(run_dir / "checkpoints")) == ["checkpoint", "ckpt-20.data-00000-of-00001",
                                                           "ckpt-20.index"]  # the half-written one is gone
    resumed = train_tool(project_root, f"--output_dir={run_dir}", "--resume")
    assert resumed.returncode == 0 and f"resumed from {run_dir}/checkpoints/ckpt-20" in resumed.stdout


def test_an_unwritable_output_is_an_oserror_naming_the_checkpoint(tmp_path):
    class Full:
        directory = str(tmp_path)

        def save(self, checkpoint_number):
            (tmp_path / f"ckpt-{checkpoint_number}_temp").mkdir()
            raise tf.errors.ResourceExhaustedError(None, None, "No space left on device")

    saver = callbacks.CheckpointSaver(Full(), every=10)
    saver.step = lambda: 30
    with pytest.raises(OSError) as raised:
        saver.save()
    assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(tmp_path / "ckpt-30")
    assert files.unwritable(raised.value) and os.listdir(tmp_path) == [] and saver.saved == 0
    assert not files.unwritable(OSError(errno.ENOENT, "missing")) and not files.unwritable(ValueError())


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_saves_the_step_reached_exits_128_plus_its_number_and_resume_refuses_other_settings(
        project_root, tmp_path, signum):
    run_dir = tmp_path / "stopped"
    process = subprocess.Popen([sys.executable, str(project_root / "tools" / "train.py"), *TOY_FLAGS,
                                "--steps=100000", "--checkpoint_every=100000", f"--output_dir={run_dir}"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=project_root)
    for line in process.stdout:
        match = re.match(r"step (\d+)/", line)
        if match and int(match.group(1)) >= 30:
            signalled_at = int(match.group(1))
            process.send_signal(signum)
            break
    rest = process.stdout.read()
    assert process.wait(timeout=120) == 128 + signum
    stopped = re.search(rf"stopped by {signal.Signals(signum).name} at generator step (\d+); saved (\S+); continue "
                        rf"with: python tools/train.py --output_dir={run_dir} --resume", rest)
    assert stopped, rest[-2000:]
    step = int(stopped.group(1))
    # checkpoint_every is 100000: the only checkpoint is the one the signal saved, at the last step trained
    assert step >= signalled_at and stopped.group(2) == tf.train.latest_checkpoint(str(run_dir / "checkpoints"))
    assert stopped.group(2).endswith(f"ckpt-{step}") and run_dir_lib.read_metrics(str(run_dir))[-1]["step"] == step
    if signum == signal.SIGTERM:
        changed = train_tool(project_root, f"--output_dir={run_dir}", "--resume", "--lam=5")
        assert changed.returncode == 2 and "--output_dir: " in changed.stderr and "lam: 0.1 there, 5.0 now" in \
            changed.stderr, changed.stderr[-2000:]
        preset = train_tool(project_root, f"--output_dir={run_dir}", "--resume", "--preset=toy_swissroll")
        assert preset.returncode == 2 and "dataset: 'toy:8gaussians' there, 'toy:swissroll' now" in preset.stderr
        resumed = train_tool(project_root, f"--output_dir={run_dir}", "--resume", f"--steps={step + 5}")
        assert resumed.returncode == 0 and f"resumed from {stopped.group(2)}" in resumed.stdout, resumed.stderr[-2000:]
        assert f"resume: steps 100000 -> {step + 5}" in resumed.stdout
        # the original command repeated with --resume (the habit of other trainers): its preset and flags equal the
        # saved settings, so it continues
        again = train_tool(project_root, *TOY_FLAGS, "--steps=100000", "--checkpoint_every=100000",
                           f"--output_dir={run_dir}", "--resume", f"--steps={step + 8}")
        assert again.returncode == 0 and f"resume: steps {step + 5} -> {step + 8}" in again.stdout, \
            again.stderr[-2000:]


def flagfile_values(path) -> dict:
    """The --name=value lines of an absl flagfile."""
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return dict(line[2:].split("=", 1) for line in lines)


@pytest.mark.parametrize("preset", sorted(train.PRESETS))
def test_each_preset_has_a_flagfile_with_its_settings(project_root, preset):
    values = flagfile_values(project_root / "configs" / f"{preset}.flags")
    assert values.pop("preset") == preset and values.pop("output_dir") == f"runs/{preset}"
    assert train.make_config(None, **values) == train.make_config(preset).replace(preset=None)


def test_a_dry_run_that_cannot_read_the_data_prints_the_settings_and_says_what_stays_auto(project_root, tmp_path):
    result = train_tool(project_root, f"--flagfile={project_root / 'configs' / 'cifar10_l10.flags'}",
                        f"--output_dir={tmp_path / 'dry'}", f"--data_dir={tmp_path / 'no_tfds'}", "--dry_run")
    assert result.returncode == 0, result.stderr[-2000:]
    printed = json.loads(result.stdout)
    assert (printed["lam"], printed["gamma"], printed["space"]) == ("auto", "auto", "lp:p=10")
    assert "dry run: lam and gamma stay 'auto'" in result.stderr and "cifar10" in result.stderr
    assert not (tmp_path / "dry").exists()


def test_dry_run_prints_the_resolved_configuration_and_writes_nothing(project_root, tmp_path):
    result = train_tool(project_root, f"--flagfile={project_root / 'configs' / 'toy_8gaussians.flags'}",
                        f"--output_dir={tmp_path / 'dry'}", "--steps=7", "--dry_run")
    assert result.returncode == 0, result.stderr[-2000:]
    printed = json.loads(result.stdout)
    expected = train.make_config("toy_8gaussians", steps=7, output_dir=str(tmp_path / "dry")).to_dict()
    assert printed == dict(expected, mixed_precision=False)  # auto resolved: float32 for the MLPs
    assert not (tmp_path / "dry").exists()


def test_resume_without_a_run_and_a_damaged_config_name_what_the_user_gave(project_root, tmp_path):
    result = train_tool(project_root, f"--output_dir={tmp_path / 'none'}", "--resume")
    assert result.returncode == 2 and result.stderr.splitlines()[-2] == (
        f"--output_dir: '{tmp_path / 'none'}' holds no run to resume (no config.json); start a run there without "
        "--resume, or give the folder of an existing run"), result.stderr[-2000:]
    run = tmp_path / "run"
    run_dir_lib.create(str(run))
    run_dir_lib.write_config(str(run), train.make_config("toy_8gaussians", output_dir=str(run)).to_dict())
    text = (run / "config.json").read_text()
    (run / "config.json").write_text(text[:len(text) // 2])
    for args in (["--resume"], ["--preset=toy_8gaussians"]):
        result = train_tool(project_root, f"--output_dir={run}", *args)
        assert result.returncode == 2, result.stderr[-2000:]
        assert result.stderr.splitlines()[-2].startswith(f"{run / 'config.json'}: not valid JSON (")
