"""End-to-end runs of tools/evaluate.py, tools/train_classifier.py and tools/plot_sweep.py (subprocesses)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from bwgan_tf import compat
from bwgan_tf.runs import export

pytestmark = pytest.mark.slow  # every test here starts tools as subprocesses


def run_tool(project_root, tool, *args, env=None):
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, str(project_root / "tools" / tool), *args], capture_output=True, text=True,
                          timeout=180, env=full_env)


def last_json(stdout):
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A SavedModel with the export contract's `generate` signature {z [N, 6]} -> {images [N, 32, 32, 3]} (the size
    of the CIFAR-10 reference: sets of other sizes are refused)."""
    path = tmp_path_factory.mktemp("export") / "generator"
    gen = tf.keras.Sequential([tf.keras.Input((6,)), tf.keras.layers.Dense(8 * 8 * 3, activation="tanh"),
                               tf.keras.layers.Reshape((8, 8, 3)), tf.keras.layers.UpSampling2D(4)])
    export.export_generator(gen, str(path), latent_dim=6)
    return path


@pytest.fixture(scope="module")
def classifier(tmp_path_factory, cifar_subset_path, project_root):
    path = tmp_path_factory.mktemp("clf") / "tiny_cifar.keras"
    result = run_tool(project_root, "train_classifier.py", f"--data={cifar_subset_path}", f"--output={path}",
                      "--epochs=1", "--max_train=256", "--max_test=128", "--width=4", "--feature_dim=8",
                      "--batch_size=64")
    assert result.returncode == 0, result.stderr[-2000:]
    report = last_json(result.stdout)
    assert 0.0 <= report["test_accuracy"] <= 1.0 and report["name"] == "tiny_cifar"
    assert path.is_file() and os.listdir(path.parent) == ["tiny_cifar.keras"]
    return path


@pytest.mark.parametrize("tool,args,message", [
    ("evaluate.py", ["--metrics=is,fidd"], "--metrics"),
    ("evaluate.py", ["--num_samples=1", "--saved_model=x"], "--num_samples"),
    ("evaluate.py", ["--metrics=is"], "exactly one of --samples, --run_dir and --saved_model"),
    ("evaluate.py", ["--saved_model=/no/such/dir", "--metrics=is"], "--saved_model"),
    ("train_classifier.py", ["--epochs=0"], "--epochs"),
    ("plot_sweep.py", ["--x=q", "--run_dirs=a"], "--x"),
    ("plot_sweep.py", [], "--run_dirs"),
])
def test_bad_flags_exit_2(project_root, tool, args, message):
    result = run_tool(project_root, tool, *args)
    assert result.returncode == 2, (result.stdout, result.stderr[-2000:])
    assert message in result.stderr


def test_evaluate_saved_model_with_a_classifier(project_root, exported, classifier, cifar_subset_path, tmp_path):
    args = [f"--saved_model={exported}", f"--classifier={classifier}", "--num_samples=60", "--batch_size=25",
            "--splits=3", f"--cache_dir={tmp_path / 'cache'}", f"--output={tmp_path / 'out.json'}"]
    have_data = os.path.isfile(project_root / "bwgan_tf" / "data" / "__init__.py")
    if have_data:
        args += ["--metrics=is,fid,kid", f"--reference=npz:{cifar_subset_path}", "--kid_samples=60"]
    else:
        args += ["--metrics=is"]
    result = run_tool(project_root, "evaluate.py", *args)
    assert result.returncode == 0, result.stderr[-3000:]
    report = last_json(result.stdout)
    assert report == json.loads((tmp_path / "out.json").read_text())
    assert report["extractor"] == "tiny_cifar" and report["num_samples"] == 60
    assert report["estimators"] == compat.estimators_implementation()  # the tool's JSON names the implementation
    assert 1.0 <= report["cs60_3splits_tiny_cifar"] <= 10.0 and report["cs60_3splits_tiny_cifar_std"] >= 0.0
    assert not any(k.startswith(("is", "fid", "kid")) for k in report)  # a stand-in's results are never IS/FID/KID
    if have_data:
        assert report["fd60_tiny_cifar"] > 0 and report["reference_count"] == 60
        assert len(os.listdir(tmp_path / "cache")) == 1


def test_evaluate_names_the_flag_of_an_empty_npz_and_of_a_generator_given_as_classifier(project_root, exported,
                                                                                        classifier, tmp_path):
    (tmp_path / "empty.npz").write_bytes(b"")
    result = run_tool(project_root, "evaluate.py", f"--samples=npz:{tmp_path / 'empty.npz'}",
                      f"--reference=npz:{tmp_path / 'empty.npz'}", f"--classifier={classifier}", "--cache_dir=")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-2] == (f"--samples: npz spec: '{tmp_path / 'empty.npz'}' is empty (0 bytes); "
                                              "it must be a NumPy .npz archive (np.savez)")
    result = run_tool(project_root, "evaluate.py", f"--saved_model={exported}", f"--classifier={exported}",
                      "--metrics=fid", f"--reference=npz:{tmp_path / 'empty.npz'}")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-2].startswith(f"--classifier: '{exported}' is a generator exported by "
                                                     "tools/export.py, not a classifier")


def test_evaluate_without_inception_explains_where_to_get_it(project_root, exported, tmp_path):
    result = run_tool(project_root, "evaluate.py", f"--saved_model={exported}", "--metrics=is", "--num_samples=20",
                      env={"TFHUB_CACHE_DIR": str(tmp_path / "empty")})
    assert result.returncode == 2
    assert "--inception" in result.stderr and "tfgan/eval/inception/1" in result.stderr


def test_plot_sweep_writes_png_csv_json(project_root, tmp_path):
    runs = []
    for i, (s, fid) in enumerate(((-2.0, 30.0), (-1.0, 20.0), (-1.0, 24.0), (0.0, 25.0), (1.0, 40.0))):
        run = tmp_path / f"run{i}"
        run.mkdir()
        (run / "config.json").write_text(json.dumps({"space": f"sobolev:s={s},p=2,c=5"}))
        record = {"step": 10, "is50k": 7.0 + s, "is50k_std": 0.1, "fid50k": fid, "pr10k_k3_precision": 0.6 + s / 10,
                  "fd50k_clf": 3.0}  # a stand-in's distance is not plotted beside FID
        (run / "metrics.jsonl").write_text(json.dumps(record) + "\n")
        runs.append(str(run))
    result = run_tool(project_root, "plot_sweep.py", "--run_dirs=" + ",".join(runs), f"--output={tmp_path / 'fig'}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert last_json(result.stdout)["x"] == "s"  # the exponent that varies
    image = np.asarray(Image.open(tmp_path / "fig.png").convert("RGB")).astype(int)
    line = np.abs(image - [31, 119, 180]).sum(axis=-1) < 60  # matplotlib's first colour
    assert image.shape[0] > 300 and line.sum() > 200  # the curves are drawn
    saved = json.loads((tmp_path / "fig.json").read_text())
    assert [(r["s"], r["fid50k"]) for r in saved["rows"]] == [(-2.0, 30.0), (-1.0, 20.0), (-1.0, 24.0), (0.0, 25.0),
                                                            (1.0, 40.0)]
    # two seeds at s = -1: one point, their mean with their standard deviation; one run: its own IS std
    assert sorted(saved["points"]) == ["fid50k", "is50k", "pr10k_k3_precision"]  # one panel per metric
    assert saved["points"]["fid50k"][1] == pytest.approx([-1.0, 22.0, 8 ** 0.5])
    assert saved["points"]["is50k"][0] == pytest.approx([-2.0, 5.0, 0.1]) and saved["points"]["fid50k"][0][2] is None
    assert saved["points"]["pr10k_k3_precision"][2] == pytest.approx([0.0, 0.6, None])
    assert (tmp_path / "fig.csv").read_text().splitlines()[0].startswith("run_dir,space,s,p,step")


def test_plot_sweep_names_runs_without_an_evaluation_and_stops_when_none_has_one(project_root, tmp_path):
    for name, records in (("evaluated", [{"step": 10, "fid2k": 50.0}]), ("trained", [{"step": 10, "wasserstein": 1}]),
                          ("spaceless", [{"step": 10, "fid2k": 40.0}])):
        (tmp_path / name).mkdir()
        config = {} if name == "spaceless" else {"space": "sobolev:s=-1,p=2,c=5"}
        (tmp_path / name / "config.json").write_text(json.dumps(config))
        (tmp_path / name / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    result = run_tool(project_root, "plot_sweep.py", f"--run_dirs={tmp_path / 'evaluated'},{tmp_path / 'trained'}",
                      "--x=s", f"--output={tmp_path / 'fig'}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"warning: {tmp_path / 'trained'}: metrics.jsonl holds no evaluation (plot_sweep reads the evaluations " \
           "made during training with --eval_every" in result.stderr
    assert last_json(result.stdout)["warnings"] and (tmp_path / "fig.png").exists()
    result = run_tool(project_root, "plot_sweep.py", f"--run_dirs={tmp_path / 'trained'},{tmp_path / 'spaceless'}",
                      "--x=s",
                      f"--output={tmp_path / 'none'}")
    assert result.returncode == 2 and "run_dirs: nothing to plot against s" in result.stderr, result.stderr
    assert "spaceless: no s (space None)" in result.stderr and not (tmp_path / "none.png").exists()


def test_plot_curves_draws_each_quantity_for_each_run(project_root, tmp_path):
    runs = []
    for name, slope in (("l2", 1.0), ("sobolev", 2.0)):
        run = tmp_path / name
        run.mkdir()
        (run / "config.json").write_text(json.dumps({"space": "l2"}))
        records = [{"step": s, "wasserstein": slope * s, "critic_loss": -s} for s in (1, 5, 10)]
        records.append({"event": "evaluation", "step": 10, "fid2k_train": 100.0 / slope, "fid2k_train_std": 1.0})
        (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
        runs.append(str(run))
    result = run_tool(project_root, "plot_curves.py", "--run_dirs=" + ",".join(runs), f"--output={tmp_path / 'c'}")
    assert result.returncode == 0, result.stderr[-2000:]
    written = last_json(result.stdout)
    assert sorted(written) == ["critic_loss", "fid2k_train", "wasserstein"]  # no std, no quantity that is absent
    image = np.asarray(Image.open(written["wasserstein"]).convert("RGB")).astype(int)
    for colour in ([31, 119, 180], [255, 127, 14]):  # one line per run in matplotlib's first two colours
        assert (np.abs(image - colour).sum(axis=-1) < 60).sum() > 100
    missing = run_tool(project_root, "plot_curves.py", f"--run_dirs={tmp_path / 'nothing'}")
    assert missing.returncode == 2
    expected = f"--run_dirs: '{tmp_path / 'nothing'}' is not a run directory (no config.json)"
    assert missing.stderr.splitlines()[-2] == expected
