"""Studies: checkpoints evaluated once each, metric names that state the protocol, the table, plot, grids and
exports written for finished runs."""
import json
import os

import numpy as np
import pytest

from bwgan_tf import metrics, train
from bwgan_tf.runs import study
from bwgan_tf.train import run_dir as run_dir_lib

TINY = study.Study(
    base=lambda path: dict(dataset=f"npz:{path}", architecture="resnet", width=8, latent_dim=16, batch_size=4,
                           n_critic=1, steps=4, checkpoint_every=2, keep_checkpoints=10, sample_every=0,
                           log_every=1, xla=False, lam=10.0, gamma=1.0, space="l2"),
    runs={"a": dict(seed=0), "b": dict(seed=1)}, eval_every=2, eval_samples=40, final_samples=60,
    reference=lambda path: f"npz:{path}")


def test_metric_names_state_samples_and_reference_split():
    assert study.metric_name(2000, "train") == "fid2k_train" and study.metric_name(50_000, "test") == "fid50k_test"
    assert study.metric_name(300, "train", metrics.random_extractor()) == "fd300_random_train"


def test_a_tiny_study_evaluates_each_checkpoint_once_and_writes_its_results(tmp_path, cifar_subset_path):
    extractor = metrics.random_extractor()
    references = {split: metrics.reference_statistics(f"npz:{cifar_subset_path}", extractor, split=split, num=80,
                                                      kid_samples=0) for split in ("train", "test")}
    for name in TINY.runs:
        config = study.run_config(TINY, name, str(tmp_path), str(cifar_subset_path))
        train.train(config, print_fn=lambda *a, **k: None)
        quiet = lambda *a, **k: None  # noqa: E731
        records = study.evaluate_checkpoints(config.output_dir, TINY, extractor, references, print_fn=quiet)
        assert [r["step"] for r in records] == [2, 4]
        assert {"fd40_random_train", "fd60_random_train", "fd60_random_test"} <= set(records[-1])
        assert not any(k.startswith("fid") for k in records[-1])  # a stand-in's distance is never called FID
        assert all(np.isfinite(r["fd40_random_train"]) and r["generator"] == "ema" for r in records)
        again = study.evaluate_checkpoints(config.output_dir, TINY, extractor, references, print_fn=quiet)
        assert again == [] and len(run_dir_lib.evaluations(config.output_dir)) == 2  # nothing evaluated twice
    result = study.write_results(TINY, str(tmp_path), extractor)
    rows = json.loads((tmp_path / "table.json").read_text())
    assert [r["run"] for r in rows] == ["a", "b"] and rows == result["rows"]
    last = run_dir_lib.evaluations(str(tmp_path / "runs" / "a"))[-1]
    assert rows[0]["fd60_random_test"] == pytest.approx(last["fd60_random_test"], abs=0.01)
    assert (tmp_path / "table.md").read_text().startswith("| run | space |")
    for name in ("a", "b"):
        assert (tmp_path / "grids" / f"{name}.png").is_file()
        assert os.path.isfile(tmp_path / "exports" / name / "saved_model.pb")
    assert (tmp_path / "fid.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
