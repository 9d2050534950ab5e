"""sweep_table: each run directory's space and last evaluation."""
import json

import pytest

from bwgan_tf.runs import sweep


def test_sweep_table_reads_space_and_last_evaluation(tmp_path):
    for name, space, fid in (("a", "lp:p=10", 20.0), ("b", "sobolev:s=-1.5,p=2,c=5", 25.0)):
        run = tmp_path / name
        run.mkdir()
        (run / "config.json").write_text(json.dumps({"space": space}))
        lines = [{"step": 1, "generator_loss": 1.0}, {"step": 5, "is10k": 3.0, "fid10k": 2 * fid},
                 {"step": 9, "is10k": 4.0, "is10k_std": 0.1, "fid10k": fid, "isotropy": 1.0},
                 {"step": 10, "generator_loss": 0.5}]
        (run / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in lines) + "\n{partial")
    rows = sweep.sweep_table([tmp_path / "a", tmp_path / "b"])
    assert [(r["s"], r["p"], r["step"], r["fid10k"], r["is10k"]) for r in rows] == [(0.0, 10.0, 9, 20.0, 4.0),
                                                                                   (-1.5, 2.0, 9, 25.0, 4.0)]
    assert "isotropy" not in rows[0]  # only metric labels (registry.is_metric_label) are columns
    with pytest.raises(ValueError, match="config.json"):
        sweep.sweep_table([tmp_path / "missing"])
