"""Files that are never half written: write to a temporary name beside the target, then rename (atomic on POSIX)."""
import json
import os


def write_bytes_atomically(path: str, data: bytes) -> str:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{os.path.basename(path)}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
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
