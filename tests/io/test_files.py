"""bwgan_tf.io.files: output paths checked before long work (writable too), .npz archives, JSON and JSON-lines files
and checkpoints with one-line errors that name the flag or the file, and content digests."""
import os

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


@pytest.fixture
def unwritable_folder(tmp_path):
    """A folder in which no file can be created: a read-only folder, or /proc where the tests run as root (whom
    permissions do not stop)."""
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        (folder / "probe").write_text("")
    except OSError:
        yield str(folder)
    else:
        (folder / "probe").unlink()
        if not os.path.isdir("/proc/self"):
            pytest.skip("running as root without /proc: no folder here refuses writes")
        yield "/proc"
    finally:
        folder.chmod(0o755)


def test_outputs_in_a_folder_that_cannot_be_written_are_refused_before_the_work(unwritable_folder):
    for path in (os.path.join(unwritable_folder, "grid.png"), os.path.join(unwritable_folder, "new", "grid.png")):
        with pytest.raises(ValueError, match=rf"^--png: cannot write '{path}': the folder '{unwritable_folder}' is "
                                             "not writable"):
            files.check_output(path, "--png")
    for path in (unwritable_folder, os.path.join(unwritable_folder, "new", "folder")):
        with pytest.raises(ValueError, match=rf"^--outdir: cannot write '{path}': the folder '{unwritable_folder}' "
                                             "is not writable"):
            files.check_output_dir(path, "--outdir")


def test_check_output_dir_accepts_new_and_existing_folders_and_creates_nothing(tmp_path):
    assert files.check_output_dir(tmp_path / "a" / "b", "--outdir") == str(tmp_path / "a" / "b")
    assert files.check_output_dir(tmp_path, "--outdir") == str(tmp_path)
    assert os.listdir(tmp_path) == []  # the probe file is gone, and nothing was made
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match=r"^--outdir: .*file' is a file; give a folder"):
        files.check_output_dir(tmp_path / "file", "--outdir")


def test_json_files_name_themselves_in_their_errors(tmp_path):
    config = tmp_path / "run" / "config.json"
    config.parent.mkdir()
    config.write_text('{\n  "architecture": "resnet",\n  "lam": ')  # cut short
    with pytest.raises(ValueError, match=rf"^{config}: not valid JSON \(Expecting value: line 3"):
        files.read_json(str(config))
    config.write_bytes(b"\xff\xfe{}")
    with pytest.raises(ValueError, match=rf"^{config}: cannot be read \(UnicodeDecodeError"):
        files.read_json(str(config))
    with pytest.raises(ValueError, match=rf"^{tmp_path / 'none.json'}: no such file"):
        files.read_json(str(tmp_path / "none.json"))


def test_jsonl_files_skip_only_a_last_line_cut_short_and_name_themselves_otherwise(tmp_path):
    path = tmp_path / "metrics.jsonl"
    assert files.read_jsonl(str(path)) == []
    path.write_text('{"step": 1}\n{"step": 2}\n{"step": 3, "lo')  # killed while writing the last line
    assert files.read_jsonl(str(path)) == [{"step": 1}, {"step": 2}]
    path.write_text('{"step": 1}\n{"step": 2, "lo{"step": 3}\n{"step": 4}\n')  # damaged inside
    with pytest.raises(ValueError, match=rf"^{path}: line 2 is not valid JSON"):
        files.read_jsonl(str(path))
    path.write_text('{"step": 1}\n[2]\n')
    with pytest.raises(ValueError, match=rf"^{path}: line 2 is not a JSON object"):
        files.read_jsonl(str(path))
    path.write_bytes(b'{"step": 1}\n\xff\n')
    with pytest.raises(ValueError, match=rf"^{path}: cannot be read"):
        files.read_jsonl(str(path))


def test_an_npz_damaged_inside_names_the_flag_and_the_file(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, x_train=np.arange(4096, dtype=np.int64))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the array's data: the zip's CRC check fails
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=rf"^--data: '{path}' is damaged \(BadZipFile"), \
            files.open_npz(path, "--data") as archive:
        archive["x_train"]


def test_content_digest_changes_with_any_byte_name_or_file(tmp_path):
    for name, text in (("a.png", "one"), ("b.png", "two")):
        (tmp_path / name).write_text(text)
    paths = [str(tmp_path / "a.png"), str(tmp_path / "b.png")]
    digest = files.content_digest(paths, str(tmp_path))
    assert files.content_digest(paths, str(tmp_path)) == digest
    stat = os.stat(paths[0])
    (tmp_path / "a.png").write_text("uno")  # same size, same mtime below
    os.utime(paths[0], ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert files.content_digest(paths, str(tmp_path)) != digest
    assert files.content_digest(paths[:1], str(tmp_path)) != files.content_digest(paths, str(tmp_path))
