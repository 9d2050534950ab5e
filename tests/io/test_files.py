"""bwgan_tf.files: output paths checked before long work, .npz archives and checkpoints with one-line errors."""
import numpy as np
import pytest

from bwgan_tf.io import files


def test_check_output_refuses_a_directory_and_a_path_under_a_file(tmp_path):
    assert files.check_output(tmp_path / "new" / "grid.png", "--png") == str(tmp_path / "new" / "grid.png")
    with pytest.raises(ValueError, match=r"^--png: .* is a directory; give the path of a file to write"):
        files.check_output(tmp_path, "--png")
    (tmp_path / "plain").write_text("")
    with pytest.raises(ValueError, match=r"^--output: cannot write .*: .*plain' is a file, not a folder"):
        files.check_output(tmp_path / "plain" / "sub" / "out.json", "--output")


def test_open_npz_names_the_flag_for_missing_empty_and_foreign_files(tmp_path):
    np.savez(tmp_path / "good.npz", a=np.arange(3))
    with files.open_npz(tmp_path / "good.npz", "--data") as archive:
        np.testing.assert_array_equal(archive["a"], np.arange(3))
    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "text.npz").write_text("hello")
    np.save(tmp_path / "single.npy", np.arange(3))
    for name, message in (("missing.npz", "no such file"), ("empty.npz", r"is empty \(0 bytes\)"),
                          ("text.npz", "is not a NumPy .npz archive"), ("single.npy", "is a single .npy array")):
        with pytest.raises(ValueError, match=f"^--data: .*{message}"), files.open_npz(tmp_path / name, "--data"):
            pass


def test_check_checkpoint_lists_the_checkpoints_that_exist(tmp_path):
    (tmp_path / "ckpt-2.index").write_bytes(b"")
    (tmp_path / "ckpt-4.index").write_bytes(b"")
    assert files.check_checkpoint(str(tmp_path / "ckpt-4")) == str(tmp_path / "ckpt-4")
    with pytest.raises(ValueError, match=rf"^--checkpoint: no checkpoint .*ckpt-9.*; {tmp_path} holds ckpt-2, ckpt-4"):
        files.check_checkpoint(str(tmp_path / "ckpt-9"))
    with pytest.raises(ValueError, match="give a prefix such as RUN_DIR/checkpoints/ckpt-3"):
        files.check_checkpoint(str(tmp_path / "nowhere" / "ckpt-1"))
