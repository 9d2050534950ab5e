"""Studies: checkpoints evaluated once each, metric names that state the protocol, the table, plot, grids and
exports written for finished runs."""
import dataclasses
import json
import os
import shutil

import numpy as np
import pytest
import scipy.stats

from bwgan_tf import compat, metrics, train
from bwgan_tf.runs import export, generators, study
from bwgan_tf.train import run_dir as run_dir_lib

TINY = study.Study(
    base=lambda path: dict(dataset=f"npz:{path}", architecture="resnet", width=8, latent_dim=16, batch_size=4,
                           n_critic=1, steps=4, checkpoint_every=2, keep_checkpoints=10, sample_every=0,
                           log_every=1, xla=False, lam=10.0, gamma=1.0, space="l2"),
    runs={"a_s0": dict(seed=0), "a_s1": dict(seed=1)}, eval_every=2, eval_samples=40, final_samples=60,
    reference=lambda path: f"npz:{path}")


def test_metric_names_state_samples_and_reference_split():
    assert study.metric_name(2000, "train") == "fid2k_train" and study.metric_name(50_000, "test") == "fid50k_test"
    assert study.metric_name(300, "train", metrics.random_extractor()) == "fd300_random_train"


def test_a_tiny_study_evaluates_each_checkpoint_once_and_writes_its_results(tmp_path, cifar_subset_path):
    extractor = metrics.random_extractor()
    references = {split: metrics.reference_statistics(f"npz:{cifar_subset_path}", extractor, split=split, num=80)
                  for split in ("train", "test")}
    for name in TINY.runs:
        config = study.run_config(TINY, name, str(tmp_path), str(cifar_subset_path))
        train.train(config, print_fn=lambda *a, **k: None)
        quiet = lambda *a, **k: None  # noqa: E731
        records = study.evaluate_checkpoints(config.output_dir, TINY, extractor, references, print_fn=quiet)
        assert [r["step"] for r in records] == [2, 4]
        assert {"fd40_random_train", "fd60_random_train", "fd60_random_test", "pr60_k3_random_precision_train",
                "pr60_k3_random_recall_test"} <= set(records[-1])
        assert not any(k.startswith("fid") for k in records[-1])  # a stand-in's distance is never called FID
        assert all(np.isfinite(r["fd40_random_train"]) and r["generator"] == "ema" for r in records)
        again = study.evaluate_checkpoints(config.output_dir, TINY, extractor, references, print_fn=quiet)
        assert again == [] and len(run_dir_lib.evaluations(config.output_dir)) == 2  # nothing evaluated twice
    result = study.write_results(TINY, str(tmp_path), extractor)
    rows = json.loads((tmp_path / "table.json").read_text())
    assert [r["run"] for r in rows] == ["a_s0", "a_s1"] and rows == result["rows"]
    last = run_dir_lib.evaluations(str(tmp_path / "runs" / "a_s0"))[-1]
    assert last["estimators"] == compat.estimators_implementation()  # each study record names the implementation
    assert rows[0]["fd60_random_test"] == pytest.approx(last["fd60_random_test"], abs=0.01)
    assert rows[0]["fd40_random_train@2"] == pytest.approx(run_dir_lib.evaluations(str(tmp_path / "runs" / "a_s0"))[0][
        "fd40_random_train"], abs=0.01)
    assert (tmp_path / "table.md").read_text().startswith("| run | space |")
    # statistics over the seeds: mean, std (ddof 1) and the 95% Student-t interval of the mean
    values = [r["fd60_random_test"] for r in rows]
    (entry,) = result["summary"]
    assert entry["configuration"] == "a" and entry["seeds"] == [0, 1]
    half = scipy.stats.t.ppf(0.975, 1) * np.std(values, ddof=1) / np.sqrt(2)
    assert entry["fd60_random_test"] == pytest.approx(dict(n=2, mean=np.mean(values), std=np.std(values, ddof=1),
                                                           low=np.mean(values) - half, high=np.mean(values) + half))
    assert "| a | 0,1 |" in (tmp_path / "summary.md").read_text()
    for name in ("a_s0", "a_s1"):
        assert (tmp_path / "grids" / f"{name}.png").is_file()
        assert os.path.isfile(tmp_path / "exports" / name / "saved_model.pb")
    assert (tmp_path / "fid.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_imported_run_takes_its_curve_from_the_earlier_study_and_recomputes_its_final_metrics(tmp_path,
                                                                                              cifar_subset_path):
    extractor = metrics.random_extractor()
    references = {split: metrics.reference_statistics(f"npz:{cifar_subset_path}", extractor, split=split, num=80)
                  for split in ("train", "test")}
    config = study.run_config(TINY, "a_s0", str(tmp_path / "new"), str(cifar_subset_path))
    train.train(config, print_fn=lambda *a, **k: None)
    study.evaluate_checkpoints(config.output_dir, TINY, extractor, references, print_fn=lambda *a, **k: None)
    earlier = tmp_path / "earlier"  # an earlier study's results folder holding the same run as "old"
    generator, _ = generators.load_generator(config.output_dir)
    export.export_generator(generator, str(earlier / "exports" / "old"), latent_dim=16)
    (earlier / "table.json").write_text(json.dumps([{"run": "old", "space": "lp:p=2", "seed": 7, "steps": 4,
                                                     "of_steps": 4, "fd60_random_train": 1.0}]))
    (earlier / "curves.json").write_text(json.dumps({"old": {"2": 300.0, "4": 250.0}}))
    with_import = dataclasses.replace(TINY, imported={"a_s7": "old"}, imported_from=str(earlier))
    row = study.import_run(with_import, "a_s7", str(tmp_path / "new"), extractor, references,
                           print_fn=lambda *a, **k: None)
    final = run_dir_lib.evaluations(config.output_dir)[-1]  # the same generator and latents: the same numbers
    for key in ("fd60_random_train", "fd60_random_test", "pr60_k3_random_precision_train"):
        assert row[key] == pytest.approx(final[key], abs=1e-3), key
    assert row["curve"] == {2: 300.0, 4: 250.0} and row["seed"] == 7
    result = study.write_results(with_import, str(tmp_path / "new"), extractor)
    assert [r["run"] for r in result["rows"]] == ["a_s0", "a_s7"] and result["rows"][1]["fd40_random_train@4"] == 250.0
    assert result["rows"][1]["drift_mode"] == "paper"  # the earlier table predates the setting: the paper's drift
    assert result["summary"][0]["seeds"] == [0, 7] and not (tmp_path / "new" / "exports" / "a_s7").exists()


def test_a_finished_run_recorded_in_the_results_is_not_trained_again_when_its_run_directory_is_gone(
        tmp_path, cifar_subset_path, monkeypatch):
    monkeypatch.setitem(study.STUDIES, "tiny", TINY)
    monkeypatch.setattr(study.metrics, "fid_extractor", lambda precision: metrics.random_extractor())
    monkeypatch.setenv("BWGAN_TF_CACHE", str(tmp_path / "cache"))
    said = []
    out = tmp_path / "results"  # what a user commits; the run directories (checkpoints) stay in scratch space
    first = study.run("tiny", str(out), data_path=str(cifar_subset_path), runs_dir=str(tmp_path / "scratch1"),
                      print_fn=lambda *a, **k: said.append(" ".join(map(str, a))))
    assert [r["run"] for r in first["rows"]] == ["a_s0", "a_s1"] and (out / "exports" / "a_s1").is_dir()
    assert not (out / "runs").exists()
    exported = (out / "exports" / "a_s0" / "saved_model.pb").stat().st_mtime_ns
    # a new machine: the scratch space is empty; a_s1's export is missing, so only a_s1 trains again
    shutil.rmtree(out / "exports" / "a_s1")
    said.clear()
    second = study.run("tiny", str(out), data_path=str(cifar_subset_path), runs_dir=str(tmp_path / "scratch2"),
                       print_fn=lambda *a, **k: said.append(" ".join(map(str, a))))
    assert f"a_s0: finished, as {out / 'table.json'} records" in said
    assert not any(s.startswith("a_s1: finished") for s in said)
    assert not (tmp_path / "scratch2" / "a_s0").exists() and run_dir_lib.exists(str(tmp_path / "scratch2" / "a_s1"))
    assert second["rows"][0] == first["rows"][0]  # the recorded row, its FID curve included, as it was
    assert {k for k in first["rows"][0] if "@" in k} == {"fd40_random_train@2", "fd40_random_train@4"}
    assert np.isfinite(second["rows"][1]["fd60_random_test"]) and second["rows"][1]["steps"] == 4
    assert (out / "exports" / "a_s0" / "saved_model.pb").stat().st_mtime_ns == exported
    assert (out / "exports" / "a_s1").is_dir() and second["summary"][0]["seeds"] == [0, 1]


def test_a_study_stopped_during_a_run_keeps_the_results_of_the_runs_before_it_and_no_statistics_of_the_partial_run(
        tmp_path, cifar_subset_path, monkeypatch):
    monkeypatch.setitem(study.STUDIES, "tiny", TINY)
    monkeypatch.setattr(study.metrics, "fid_extractor", lambda precision: metrics.random_extractor())
    monkeypatch.setenv("BWGAN_TF_CACHE", str(tmp_path / "cache"))
    real_train = train.train

    def stopped_in_a_s1(config, print_fn=print):
        def said(*args, **kwargs):
            if config.seed == 1 and " ".join(map(str, args)).startswith("step 3/"):
                raise KeyboardInterrupt  # the session ends while a_s1 trains, after its checkpoint at step 2
        return real_train(config, print_fn=said)

    monkeypatch.setattr(study.train, "train", stopped_in_a_s1)
    out, scratch = tmp_path / "results", tmp_path / "scratch"
    with pytest.raises(KeyboardInterrupt):
        study.run("tiny", str(out), data_path=str(cifar_subset_path), runs_dir=str(scratch),
                  print_fn=lambda *a, **k: None)
    rows = json.loads((out / "table.json").read_text())
    assert [(r["run"], r["steps"]) for r in rows] == [("a_s0", 4)]
    assert np.isfinite(rows[0]["fd60_random_train"]) and (out / "exports" / "a_s0" / "saved_model.pb").is_file()
    assert set(study.recorded_runs(str(out), metrics.random_extractor(), TINY.eval_samples)) == {"a_s0"}
    # reported again with a_s1's partial run directory there: its row is listed, but not in the statistics or plot
    study.evaluate_checkpoints(str(scratch / "a_s1"), TINY, metrics.random_extractor(), {
        split: metrics.reference_statistics(f"npz:{cifar_subset_path}", metrics.random_extractor(), split=split,
                                            num=80) for split in ("train", "test")}, print_fn=lambda *a, **k: None)
    result = study.write_results(TINY, str(out), metrics.random_extractor(), str(scratch))
    assert [(r["run"], r["steps"] < 4) for r in result["rows"]] == [("a_s0", False), ("a_s1", True)]
    assert "fd40_random_train@2" in result["rows"][1]
    (entry,) = result["summary"]
    assert entry["seeds"] == [0] and entry["fd40_random_train@2"]["mean"] == result["rows"][0]["fd40_random_train@2"]
    assert "fd40_random_train" not in entry  # the curve's last value is its column fd40_random_train@4
    assert result["plotted"] == ["a_s0"] and not (out / "exports" / "a_s1").exists()
