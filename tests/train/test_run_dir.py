"""The run directory's own checks (bwgan_tf/train/run_dir.py)."""
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
