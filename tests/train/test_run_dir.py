"""The run directory's own checks (bwgan_tf/train/run_dir.py)."""
import json

import pytest

from bwgan_tf import train
from bwgan_tf.train import run_dir


def test_an_output_dir_that_is_a_file_is_a_value_error_naming_output_dir(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a run")
    with pytest.raises(ValueError, match=r"^output_dir: .*notes.txt' is a file, not a directory"):
        run_dir.create(str(path))
    config = train.make_config("toy_8gaussians", output_dir=str(path), steps=1)
    with pytest.raises(ValueError, match="is a file, not a directory"):
        train.train(config, print_fn=lambda *a, **k: None)
    assert path.read_text() == "not a run"


def test_damaged_run_files_name_themselves(tmp_path):
    folder = tmp_path / "run"
    config = train.make_config("toy_8gaussians", output_dir=str(folder), steps=1)
    run_dir.create(str(folder))
    run_dir.write_config(str(folder), config.to_dict())
    assert train.read_config(str(folder)) == config
    path = folder / "config.json"
    text = path.read_text()
    path.write_text(text[:len(text) // 2])  # a disk that filled up, a copy cut short
    with pytest.raises(ValueError, match=rf"^{path}: not valid JSON \(.* line \d+ column \d+"):
        run_dir.read_config(str(folder))
    with pytest.raises(ValueError, match=rf"^{path}: not valid JSON"):
        train.read_config(str(folder))
    path.write_text(json.dumps(dict(json.loads(text), n_critic=0)))
    with pytest.raises(ValueError, match=rf"^{path}: n_critic"):
        train.read_config(str(folder))
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match=rf"^{path}: not a JSON object"):
        run_dir.read_config(str(folder))
    for name, reader in (("metrics.jsonl", run_dir.read_metrics), ("provenance.jsonl", run_dir.read_provenance)):
        (folder / name).write_text('{"step": 1}\n{"step": 2, "lo\n{"step": 3}\n')
        with pytest.raises(ValueError, match=rf"^{folder / name}: line 2 is not valid JSON"):
            reader(str(folder))
