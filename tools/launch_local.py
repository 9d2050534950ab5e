"""Start N training workers on this machine, each with a TF_CONFIG for 127.0.0.1 and free ports, and stream their
output: for trying multi-worker training on a laptop, and for the tests.

  python tools/launch_local.py --workers=2 -- tools/train.py --strategy=multi_worker --preset=toy_8gaussians \\
      --steps=2000 --output_dir=runs/toy_mw

Everything after `--` is what each worker runs with this Python (a script and its arguments). Every output line is
prefixed with `[worker i]`; worker 0 is the chief. When a worker exits with a non-zero code the others are stopped
(SIGTERM, then SIGKILL after --grace seconds). The launcher's exit code is the chief's own when the chief ended by
itself with a code of its own (the run's state: 3 a non-finite loss, 4 a lost worker, 2 a bad setting), else the
first non-zero code (128 + S for a worker killed by signal S). SIGINT and SIGTERM to the launcher go to every worker
(they save a checkpoint at one step and stop). Exit code 2: bad flags or no command.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import List

from absl import flags

import bwgan_tf.io.cli as cli

FLAGS = flags.FLAGS
flags.DEFINE_integer("workers", 2, "Number of workers to start.", lower_bound=1)
flags.DEFINE_float("grace", 30.0, "Seconds the other workers get to stop after one failed, before SIGKILL.",
                   lower_bound=0.0)


def free_ports(count: int) -> List[int]:
    """`count` distinct TCP ports that were free on 127.0.0.1 a moment ago."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_configs(ports: List[int]) -> List[str]:
    """The TF_CONFIG of each worker of a cluster on 127.0.0.1 at `ports` (worker 0 is the chief)."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    return [json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}) for i in range(len(ports))]


def exit_code(returncode: int) -> int:
    """A Popen return code as a shell reports it: 128 + S for a process killed by signal S."""
    return 128 - returncode if returncode < 0 else returncode


def launch(command: List[str], workers: int, grace: float = 30.0, out=sys.stdout, env=None) -> int:
    """Runs `python command...` as `workers` local workers (this environment, updated with `env`); returns 0, or
    the first non-zero exit code."""
    lock = threading.Lock()

    def say(line):
        with lock:
            out.write(line + "\n")
            out.flush()

    processes = []
    for index, config in enumerate(tf_configs(free_ports(workers))):
        process = subprocess.Popen([sys.executable, *command], stdout=subprocess.PIPE,
                                   env=dict(os.environ, **(env or {}), TF_CONFIG=config, PYTHONUNBUFFERED="1"),
                                   stderr=subprocess.STDOUT, text=True, bufsize=1)
        processes.append(process)
        say(f"[launcher] worker {index}: pid {process.pid}, TF_CONFIG={config}")
    readers = [threading.Thread(target=_stream, args=(p, f"[worker {i}] ", say), daemon=True)
               for i, p in enumerate(processes)]
    for reader in readers:
        reader.start()
    previous = {s: signal.signal(s, lambda signum, frame: _send(processes, signum)) for s in (signal.SIGINT,
                                                                                            signal.SIGTERM)}
    try:
        failed = _wait(processes, grace, say)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    for reader in readers:
        reader.join(timeout=5)
    return failed


def _stream(process, prefix, say):
    for line in process.stdout:
        say(prefix + line.rstrip("\n"))


def _send(processes, signum):
    for process in processes:
        if process.poll() is None:
            process.send_signal(signum)


def _wait(processes, grace, say) -> int:
    """Waits for every worker; after the first failure stops the others. The chief's own code (see the module's
    docstring), else the first non-zero exit code, or 0."""
    failed, deadline, sent = 0, None, set()
    while any(p.poll() is None for p in processes):
        if not failed:
            for index, process in enumerate(processes):
                if process.poll():
                    failed = exit_code(process.returncode)
                    say(f"[launcher] worker {index} exited with code {failed}; stopping the others")
                    _send(processes, signal.SIGTERM)
                    sent.add(signal.SIGTERM)
                    deadline = time.monotonic() + grace
                    break
        elif time.monotonic() > deadline:
            say(f"[launcher] the other workers did not stop within {grace:g} s; killing them")
            _send(processes, signal.SIGKILL)
            sent.add(signal.SIGKILL)
            deadline = float("inf")
        time.sleep(0.1)
    return chosen_code([exit_code(p.returncode) for p in processes], failed, sent)


def chosen_code(codes: List[int], first_failure: int, sent=frozenset()) -> int:
    """The launcher's exit code from the workers' codes (worker 0, the chief, first): the chief's when it is
    non-zero and not the echo of a signal the launcher sent (128 + S), else the first failure, else the first
    non-zero code, or 0."""
    chief = codes[0]
    if chief and chief - 128 not in {int(s) for s in sent}:
        return chief
    return first_failure or next((code for code in codes if code), 0)


def main(argv):
    command = argv[1:]
    if not command:
        raise cli.usage_error("command: give what each worker runs after --, e.g. -- tools/train.py "
                              "--strategy=multi_worker --output_dir=runs/x")
    if command[0].endswith(".py") and not os.path.isfile(command[0]):
        raise cli.usage_error(f"command: no such script {command[0]!r}")
    sys.exit(launch(command, FLAGS.workers, FLAGS.grace))


if __name__ == "__main__":
    cli.run(main)
