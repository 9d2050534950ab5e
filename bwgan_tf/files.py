"""Files that are never half written: write to a temporary name beside the target, then rename (atomic on POSIX)."""
import contextlib
import json
import os
import shutil


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
