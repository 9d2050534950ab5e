"""Files that are never half written (write to a temporary name beside the target, then rename: atomic on POSIX),
checked before long work (an output path that cannot be written) and opened with clear errors (.npz archives)."""
import contextlib
import json
import os
import shutil
import zipfile

import numpy as np


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path` (same folder, same extension, so writers that go by the extension
    -- Keras' .keras, numpy's .npz -- write the same format); on success it is renamed onto `path`, on failure
    removed. The folder is created."""
    path = os.fspath(path)
    directory, name = os.path.split(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    stem, ext = os.path.splitext(name)
    tmp = os.path.join(directory, f".{stem}.tmp-{os.getpid()}{ext}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.isdir(tmp) and not os.path.islink(tmp):
            shutil.rmtree(tmp)
        elif os.path.lexists(tmp):
            os.remove(tmp)


def write_bytes_atomically(path: str, data: bytes) -> str:
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
    return path


def write_text_atomically(path: str, text: str) -> str:
    return write_bytes_atomically(path, text.encode("utf-8"))


def write_json_atomically(path: str, payload) -> str:
    return write_text_atomically(path, json.dumps(payload, indent=2, sort_keys=True) + "\n")


def read_json(path: str):
    """The JSON value in a file; ValueError naming the file when it is missing or not JSON."""
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from None


def read_jsonl(path: str) -> list:
    """The records of a .jsonl file; a line that does not parse (cut short by a kill) is skipped."""
    records = []
    if os.path.isfile(path):
        with open(path) as f:
            for line in f:
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
    return records


def cache_dir(*sub: str) -> str:
    """The per-user cache: $BWGAN_TF_CACHE, else ~/.cache/bwgan_tf (joined with `sub`)."""
    root = os.environ.get("BWGAN_TF_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "bwgan_tf")
    return os.path.join(root, *sub)


def check_output(path, name: str) -> str:
    """`path` when a file can be written there; else a ValueError naming `name` (a directory, or under a file).
    Tools call it before long work, so that no result is lost at the end."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"{name}: {path!r} is a directory; give the path of a file to write")
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(folder):
        folder = os.path.dirname(folder)
    if not os.path.isdir(folder):
        raise ValueError(f"{name}: cannot write {path!r}: {folder!r} is a file, not a folder")
    return path


@contextlib.contextmanager
def open_npz(path, name: str):
    """np.load of an .npz archive (closed on exit); a ValueError naming `name` when the file is missing, empty
    (0 bytes) or not an .npz archive."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"{name}: no such file {path!r}")
    if os.path.getsize(path) == 0:
        raise ValueError(f"{name}: {path!r} is empty (0 bytes); it must be a NumPy .npz archive (np.savez)")
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"{name}: {path!r} is not a NumPy .npz archive ({error})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{name}: {path!r} is a single .npy array; it must be an .npz archive (np.savez)")
    with archive:
        yield archive


def check_checkpoint(path, name: str = "--checkpoint") -> str:
    """`path` when it is a TensorFlow checkpoint prefix (PATH.index exists); else a ValueError naming `name` and
    listing the checkpoints in its folder."""
    path = os.fspath(path)
    if os.path.isfile(f"{path}.index"):
        return path
    folder = os.path.dirname(path) or "."
    kept = sorted(f[:-len(".index")] for f in os.listdir(folder) if f.endswith(".index")) if os.path.isdir(
        folder) else []
    found = f"{folder} holds {', '.join(kept)}" if kept else "give a prefix such as RUN_DIR/checkpoints/ckpt-3"
    raise ValueError(f"{name}: no checkpoint {path!r} (no {os.path.basename(path)}.index); {found}, or leave "
                     f"{name} out for the latest")
