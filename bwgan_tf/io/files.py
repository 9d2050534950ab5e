"""Files that are never half written (write to a temporary name beside the target, then rename: atomic on POSIX),
checked before long work (an output path that cannot be written) and opened with clear errors (.npz archives)."""
import contextlib
import errno
import hashlib
import json
import os
import shutil
import tempfile
import zipfile
import zlib

import numpy as np

# An OSError with one of these errnos means "this output cannot be written here" (disk or quota full, read-only,
# no permission): the tools report it in one line naming the path, exit code 2.
UNWRITABLE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})


def unwritable(error: BaseException) -> bool:
    """Whether `error` says an output could not be written (an OSError with an errno in UNWRITABLE)."""
    return isinstance(error, OSError) and error.errno in UNWRITABLE


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
    """The JSON value in a file; a ValueError whose message starts with the path when the file is missing,
    unreadable or not JSON (a config.json cut short says which file it is)."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error}); the file is damaged or cut short") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: cannot be read ({type(error).__name__}: {error})") from None


def read_jsonl(path: str) -> list:
    """The records (JSON objects) of a .jsonl file; [] when it does not exist. A last line that does not parse (cut
    short by a kill while it was written) is skipped; any other bad line, or a file that cannot be read, is a
    ValueError whose message starts with the path and names the line."""
    if not os.path.isfile(path):
        return []
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: cannot be read ({type(error).__name__}: {error})") from None
    while lines and not lines[-1].strip():
        lines.pop()
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            if number == len(lines):  # a line cut short by a kill
                break
            raise ValueError(f"{path}: line {number} is not valid JSON ({error}); the file is damaged") from None
        if not isinstance(record, dict):
            raise ValueError(f"{path}: line {number} is not a JSON object; the file is damaged")
        records.append(record)
    return records


def cache_dir(*sub: str) -> str:
    """The per-user cache: $BWGAN_TF_CACHE, else ~/.cache/bwgan_tf (joined with `sub`)."""
    root = os.environ.get("BWGAN_TF_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "bwgan_tf")
    return os.path.join(root, *sub)


def _check_writable_folder(folder: str, name: str, path: str) -> None:
    """ValueError naming `name` unless a file can be created in `folder` (tried: a temporary file is created and
    removed, which also catches read-only mounts and holds for root)."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".bwgan_tf-write-check-", dir=folder)
    except OSError as error:
        raise ValueError(f"{name}: cannot write {path!r}: the folder {folder!r} is not writable "
                         f"({error.strerror or error})") from None
    os.close(fd)
    os.remove(probe)


def _existing_ancestor(path: str) -> str:
    folder = os.path.abspath(path)
    while not os.path.exists(folder):
        folder = os.path.dirname(folder)
    return folder


def check_output(path, name: str) -> str:
    """`path` when a file can be written there; else a ValueError naming `name` (a directory, under a file, or in
    a folder that is not writable). Tools call it before long work, so that no result is lost at the end."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"{name}: {path!r} is a directory; give the path of a file to write")
    folder = _existing_ancestor(os.path.dirname(os.path.abspath(path)))
    if not os.path.isdir(folder):
        raise ValueError(f"{name}: cannot write {path!r}: {folder!r} is a file, not a folder")
    _check_writable_folder(folder, name, path)
    return path


def check_output_dir(path, name: str) -> str:
    """`path` when it is a folder (or can be made one) whose files can be written; else a ValueError naming `name`.
    Nothing is created."""
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"{name}: {path!r} is a file; give a folder")
    folder = _existing_ancestor(path)
    if not os.path.isdir(folder):
        raise ValueError(f"{name}: cannot make the folder {path!r}: {folder!r} is a file, not a folder")
    _check_writable_folder(folder, name, path)
    return path


def content_digest(paths, root: str = "") -> str:
    """sha256 (hex) over the files' names (relative to `root`), sizes and bytes, in the order given: it changes
    when any file is added, removed, renamed or edited in place, whatever its timestamps say."""
    digest = hashlib.sha256()
    for path in paths:
        name = os.path.relpath(path, root) if root else os.path.basename(path)
        digest.update(f"\0{name}\0".encode("utf-8", "surrogateescape"))
        try:
            digest.update(f"{os.path.getsize(path)}\0".encode())
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
        except OSError as error:  # an unreadable file (its reader skips or reports it) still marks the set
            digest.update(f"unreadable {error.errno}".encode())
    return digest.hexdigest()


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
        try:
            yield archive
        except (zipfile.BadZipFile, EOFError, zlib.error) as error:  # a member that does not read back
            raise ValueError(f"{name}: {path!r} is damaged ({type(error).__name__}: {error})") from None


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
