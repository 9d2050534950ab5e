"""The Table 4 protocol end to end at a tiny scale: main run -> SGDR ensemble -> scores of the ensemble."""
import json
import os

import numpy as np
import pytest

from bwgan_tf import train
from bwgan_tf.runs import ensemble, generators, table4


def quiet(*args, **kwargs):
    pass


def test_without_inception_only_fid_is_computed_and_is_is_named_as_left_out():
    assert table4.choose_metrics(None, None, None) == (("fid",), ["is"])
    assert table4.choose_metrics(None, "/data/inception", None) == (("is", "fid"), [])
    assert table4.choose_metrics(None, None, "tiny.keras") == (("is", "fid"), [])
    assert list(table4.choose_metrics("fid,kid", None, None)[0]) == ["fid", "kid"]
    with pytest.raises(ValueError, match="fidd"):
        table4.choose_metrics("fidd", None, None)


def test_bad_protocol_arguments_are_refused_before_training(tmp_path):
    config = train.make_config(dataset="toy:8gaussians", output_dir=str(tmp_path / "run"))
    for name, value in (("restarts", 0), ("restart_steps", -1), ("num_samples", 1)):
        with pytest.raises(ValueError, match=f"^{name}"):
            table4.run(config, **{name: value}, print_fn=quiet)
    assert not os.path.exists(tmp_path / "run")


@pytest.mark.slow
def test_table4_protocol_runs_end_to_end_and_names_what_it_computed(tmp_path, cifar_subset_path):
    from bwgan_tf import metrics
    classifier = metrics.save_classifier(metrics.build_classifier(width=4, feature_dim=8), str(tmp_path / "tiny.keras"))
    config = train.make_config(dataset=f"npz:{cifar_subset_path}", architecture="resnet", width=8, latent_dim=16,
                               lam=10.0, gamma=1.0, batch_size=4, n_critic=1, steps=2, sample_every=0, log_every=1,
                               checkpoint_every=1, output_dir=str(tmp_path / "run"), xla=False)
    lines = []
    record = table4.run(config, restarts=2, restart_steps=2, num_samples=20, classifier=classifier,
                        print_fn=lambda *a, **k: lines.append(a[0]))
    phase = os.path.join(tmp_path, "run", "sgdr")
    assert record["sgdr_dir"] == phase and (record["restarts"], record["restart_steps"]) == (2, 2)
    assert sorted(os.listdir(os.path.join(phase, "snapshots"))) == ["restart_1", "restart_2"]
    assert record["metrics"] == ["is", "fid"] and record["not_computed"] == []
    assert np.isfinite(record["cs20_tiny"]) and np.isfinite(record["fd20_tiny"])
    assert not any(k.startswith("fid") for k in record)  # a stand-in's distance is never called FID
    assert record["num_samples"] == 20
    with open(os.path.join(phase, "table4.json")) as f:
        assert json.load(f) == record
    generator, _ = generators.load_generator(phase)
    assert isinstance(generator.get_layer("by_member"), ensemble._ByMember)  # the ensemble was scored
    assert any(line.startswith("scoring the ensemble of 2 snapshots: is, fid of 20 samples") for line in lines)
    # Again: every stage is complete, nothing is trained, the same scores come back.
    again = table4.run(config, restarts=2, restart_steps=2, num_samples=20, classifier=classifier, print_fn=quiet)
    assert {k: again[k] for k in ("cs20_tiny", "fd20_tiny")} == {k: record[k] for k in ("cs20_tiny", "fd20_tiny")}


@pytest.mark.slow
def test_tools_refuse_bad_input_with_one_line_naming_the_flag(tmp_path, project_root):
    import subprocess
    import sys
    env = dict(os.environ, PYTHONPATH=str(project_root))  # this checkout's package, not an installed one

    def tool(name, *args):
        return subprocess.run([sys.executable, str(project_root / "tools" / name), *args], capture_output=True,
                              text=True, timeout=180, env=env)

    bad = tool("table4.py", f"--output_dir={tmp_path / 'run'}", "--restarts=0")
    assert bad.returncode == 2 and "--restarts must be a positive integer, got 0" in bad.stderr.splitlines(), bad.stderr
    assert not os.path.exists(tmp_path / "run")
    missing = tool("ensemble.py", f"--run_dir={tmp_path / 'none'}")
    assert missing.returncode == 2 and any(line.startswith("--run_dir: ") for line in missing.stderr.splitlines())
