"""The cache of reference statistics: one .npz per set and settings in a folder (default_cache_dir(): $BWGAN_TF_CACHE
/reference, else ~/.cache/bwgan_tf/reference), bounded in size.

An entry's file name comes from the set's label and settings; the key stored in it adds what the set contains (for
npz:/folder: specs a content hash, data.fingerprint), so a file or folder edited in place misses the cache and the
entry is recomputed and rewritten. Sets given as batches are cached only under a caller's name, with a key of their
own kind (never a data spec's). A hit says so on stderr with the file's path. After each write the least recently
used entries beyond the bound (CACHE_LIMIT_MB, or $BWGAN_TF_REFERENCE_CACHE_MB) are deleted; only files this module
writes (ref-*-<hash>.npz holding its arrays) are ever deleted.
"""
import contextlib
import hashlib
import json
import os
import re
import sys
from typing import Optional

import numpy as np

from bwgan_tf.io import files
from bwgan_tf.metrics.features import sanitize_name

CACHE_LIMIT_MB = 2048
LIMIT_ENV = "BWGAN_TF_REFERENCE_CACHE_MB"
_ENTRY_NAME = re.compile(r"^ref-.*-[0-9a-f]{10}\.npz$")
_ENTRY_ARRAYS = {"key", "mean", "cov", "count", "head_features"}


def default_cache_dir() -> str:
    """The per-user reference-statistics cache: files.cache_dir("reference")."""
    return files.cache_dir("reference")


def limit_bytes() -> int:
    """The cache's bound in bytes: $BWGAN_TF_REFERENCE_CACHE_MB (a number of MiB) or CACHE_LIMIT_MB."""
    text = os.environ.get(LIMIT_ENV)
    if not text:
        return CACHE_LIMIT_MB << 20
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise ValueError(f"{LIMIT_ENV} must be a number of MiB >= 0, got {text!r}")
    return int(value * (1 << 20))


def path_for(cache_dir: str, key: dict) -> str:
    """The entry's file: named after the set and settings (the key without its content fingerprint), so a set
    whose content changed replaces its old entry instead of adding one."""
    named = {k: v for k, v in key.items() if k != "content"}
    text = json.dumps(named, sort_keys=True)
    stem = "-".join(sanitize_name(str(key[k])) for k in ("reference", "split", "extractor", "num"))
    return os.path.join(cache_dir, f"ref-{stem}-{hashlib.sha1(text.encode()).hexdigest()[:10]}.npz")


def read(path: str, key: dict, label: str, what: str) -> Optional[dict]:
    """The arrays of the entry for `key`, or None. A missing, unreadable or stale entry (its set changed since) is
    a miss; a stale one says so on stderr, a hit names the file on stderr."""
    if not os.path.isfile(path):
        return None
    try:
        with files.open_npz(path, "reference cache") as cached:
            stored = json.loads(str(cached["key"]))
            if stored != key:
                if "content" in stored and {k: v for k, v in stored.items() if k != "content"} == {
                        k: v for k, v in key.items() if k != "content"}:
                    sys.stderr.write(f"{what}: the cached statistics {path} were computed from other contents of "
                                     f"{label}; recomputing\n")
                return None
            arrays = {name: cached[name] for name in cached.files}
    except (ValueError, KeyError, OSError, EOFError, AttributeError, TypeError):  # not an entry of this module
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # most recently used: pruned last
    sys.stderr.write(f"{what}: statistics of {label} ({int(arrays['count'])} images) read from the cache {path}\n")
    return arrays


def write(path: str, arrays: dict, what: str) -> None:
    """Writes an entry atomically, then prunes the folder to its bound. A cache that cannot be written costs a line
    on stderr, never the result just computed."""
    try:
        with files.atomic_path(path) as tmp:  # the temporary name keeps .npz, so np.savez adds no suffix
            np.savez(tmp, **arrays)
    except OSError as error:
        sys.stderr.write(f"{what}: could not write the cache entry {path} ({error}); the result is not cached\n")
        return
    prune(os.path.dirname(path), limit_bytes(), keep=path)


def entries(cache_dir: str) -> list:
    """The entry files this module wrote in cache_dir (name ref-*-<hash>.npz, a regular file holding the entry's
    arrays), newest (most recently used) first."""
    found = []
    try:
        names = os.listdir(cache_dir)
    except OSError:
        return []
    for name in names:
        path = os.path.join(cache_dir, name)
        if not _ENTRY_NAME.match(name) or os.path.islink(path) or not os.path.isfile(path):
            continue
        try:
            with files.open_npz(path, "reference cache") as archive:
                if not set(archive.files) >= _ENTRY_ARRAYS:
                    continue
            stat = os.stat(path)
        except (ValueError, OSError):
            continue
        found.append((stat.st_mtime, stat.st_size, path))
    return [(path, size) for _, size, path in sorted(found, reverse=True)]


def prune(cache_dir: str, max_bytes: int, keep: Optional[str] = None) -> list:
    """Deletes the least recently used entries beyond max_bytes in all (`keep`, the entry just written, always
    stays); returns the deleted paths. Files other than entries are never touched."""
    total, deleted = 0, []
    for path, size in entries(cache_dir):
        total += size
        if total > max_bytes and path != keep:
            with contextlib.suppress(OSError):
                os.remove(path)
                deleted.append(path)
            total -= size
    return deleted
