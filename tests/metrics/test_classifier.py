"""The stand-in classifier (bwgan_tf/metrics/classifier.py): its data file's errors and its progress lines."""
import io
import re

import numpy as np
import pytest

from bwgan_tf import metrics


def test_an_empty_data_file_is_a_one_line_error_naming_data(tmp_path):
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(ValueError, match=r"^--data: .*empty.npz' is empty \(0 bytes\)"):
        metrics.load_labelled_npz(str(tmp_path / "empty.npz"))


def test_training_prints_a_line_per_epoch(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "tiny.npz", x_train=rng.integers(0, 256, (40, 8, 8, 3), np.uint8),
             y_train=rng.integers(0, 3, 40), x_test=rng.integers(0, 256, (8, 8, 8, 3), np.uint8),
             y_test=rng.integers(0, 3, 8))
    stream = io.StringIO()
    metrics.train_classifier(str(tmp_path / "tiny.npz"), epochs=2, batch_size=16, width=2, feature_dim=3,
                             progress_stream=stream)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2, lines
    for epoch, line in enumerate(lines, 1):
        assert re.fullmatch(rf"classifier: epoch {epoch}/2, loss \d+\.\d{{4}}, accuracy \d\.\d{{4}} "
                            r"\(\d+m\d\ds, ETA \d+m\d\ds\)", line), line
