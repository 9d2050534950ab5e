"""Multi-worker training: tf.distribute.MultiWorkerMirroredStrategy configured from TF_CONFIG.

A ``Worker`` is this process's place in the cluster: the strategy (made first, before TensorFlow runs any other op
in the process), whether it is the chief (the only worker that writes the run directory; the others write into a
scratch directory deleted at exit, TensorFlow's pattern for multi-worker checkpoints; one left by a killed worker is
deleted at the next start), its shard of each global
batch, and two agreements made with an all-reduce: the step every worker resumes from, and after each step
whether any worker was signalled or saw a non-finite scalar, so that all stop, and save, at the same step.

A peer that dies breaks the next collective, at once ("connection reset") or when TensorFlow's coordination service
misses its heartbeat (about 10 s), and training raises WorkerLost. A peer that hangs while alive is caught by a
watchdog: when no step completes for ``collective_timeout`` seconds the process prints why and exits with code 4
(a collective blocked in C++ cannot be interrupted from Python). CommunicationOptions(timeout_seconds) is not
used: in TF 2.15 it starts a thread per collective that sleeps for the whole timeout (BUILD_NOTES.md).
"""
import contextlib
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from typing import Callable, Optional, Tuple

import tensorflow as tf

# What a collective raises when a peer is gone or too slow.
PEER_ERRORS = (tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.AbortedError,
               tf.errors.CancelledError)


SCRATCH_PREFIX = "bwgan_tf_worker"
_SCRATCH_NAME = re.compile(rf"^{SCRATCH_PREFIX}\d+_pid(\d+)_")


class WorkerLost(RuntimeError):
    """A peer worker died or stopped answering; this worker stopped (the last checkpoint is kept)."""


def cluster_spec(environ=None) -> Tuple[int, int]:
    """(this task's index, number of workers) from TF_CONFIG; ValueError naming TF_CONFIG when it is missing or
    not a cluster of "worker" tasks (worker 0 is the chief)."""
    text = (os.environ if environ is None else environ).get("TF_CONFIG")
    if not text:
        raise ValueError("strategy: multi_worker needs TF_CONFIG (the cluster's worker addresses and this task's "
                         "index; tools/launch_local.py sets it for local workers)")
    try:
        config = json.loads(text)
        workers, task = config["cluster"]["worker"], config["task"]
        index = int(task["index"])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"TF_CONFIG: expected {{\"cluster\": {{\"worker\": [\"host:port\", ...]}}, \"task\": "
                         f"{{\"type\": \"worker\", \"index\": i}}}}, got {text!r} ({error})") from None
    if task.get("type") != "worker" or set(config["cluster"]) != {"worker"} or not 0 <= index < len(workers):
        raise ValueError(f"TF_CONFIG: the cluster must list only \"worker\" tasks and the task must be one of them "
                         f"(worker 0 is the chief), got {text!r}")
    return index, len(workers)


def remove_stale_scratch(directory: str) -> list:
    """Deletes the scratch directories in `directory` that workers of this package left when they were killed (a
    SIGKILL runs no cleanup): name bwgan_tf_worker<i>_pid<P>_*, owned by this user, process P no longer running.
    Returns the deleted paths; nothing else is touched."""
    deleted = []
    try:
        names = os.listdir(directory)
    except OSError:
        return deleted
    for name in names:
        match, path = _SCRATCH_NAME.match(name), os.path.join(directory, name)
        try:
            ours = match and not os.path.islink(path) and os.path.isdir(path) and os.stat(path).st_uid == os.getuid()
        except OSError:  # deleted meanwhile by another worker starting on this host
            continue
        if ours and not _running(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)
            deleted.append(path)
    return deleted


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class Worker:
    """This process in a MultiWorkerMirroredStrategy cluster. Construct it before any other TensorFlow op."""

    def __init__(self, collective_timeout: float):
        self.index, self.count = cluster_spec()
        try:
            self.strategy = tf.distribute.MultiWorkerMirroredStrategy()
        except RuntimeError as error:  # "Collective ops must be configured at program startup"
            raise ValueError(f"strategy: multi_worker must be set up before TensorFlow runs any op in this process "
                             f"(start a new process for it): {error}") from None
        self.is_chief = self.strategy.extended.should_checkpoint
        self.timeout, self.last_step_time, self.scratch_dir = collective_timeout, time.monotonic(), None
        strategy = self.strategy

        @tf.function
        def mean(value):
            per_replica = strategy.run(tf.identity, args=(value,))
            return strategy.reduce(tf.distribute.ReduceOp.MEAN, per_replica, axis=None)

        self._mean = mean

    def __str__(self):
        return f"worker {self.index} of {self.count}" + (" (chief)" if self.is_chief else "")

    @contextlib.contextmanager
    def scratch(self):
        """A scratch directory for a non-chief worker's writes, deleted when the block ends; the scratch directories
        of killed workers are deleted first (remove_stale_scratch)."""
        remove_stale_scratch(tempfile.gettempdir())
        self.scratch_dir = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{self.index}_pid{os.getpid()}_")
        try:
            yield self.scratch_dir
        finally:
            shutil.rmtree(self.scratch_dir, ignore_errors=True)
            self.scratch_dir = None

    @contextlib.contextmanager
    def watchdog(self, describe: Callable[[], str]):
        """For the block: exits the process with code 4 and a line on stderr (describe() says where training
        stands) when no step ends (no call of agree) for collective_timeout seconds."""
        stop = threading.Event()

        def watch():
            while not stop.wait(min(1.0, self.timeout / 4)):
                if time.monotonic() - self.last_step_time > self.timeout:
                    sys.stderr.write(f"error: {self} stopped: no training step ended within --collective_timeout="
                                     f"{self.timeout:g} s, so a peer worker hangs (or this one); {describe()}; "
                                     f"restart every worker with --resume to continue\n")
                    sys.stderr.flush()
                    if self.scratch_dir:
                        shutil.rmtree(self.scratch_dir, ignore_errors=True)
                    os._exit(4)

        self.last_step_time = time.monotonic()
        thread = threading.Thread(target=watch, name="bwgan_tf_watchdog", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def check_same(self, value: int, what: str) -> None:
        """ValueError naming output_dir unless every worker passes the same integer (mean of v^2 = mean(v)^2)."""
        mean, square = self._mean(tf.constant([value, value * value], tf.float64)).numpy()
        if square != mean * mean:
            raise ValueError(f"output_dir: the workers disagree on {what} (this {self} has {value}, the mean is "
                             f"{mean:g}): every worker must read the same run directory (shared storage)")

    def agree(self, signum: Optional[int], failed: bool) -> Tuple[Optional[int], bool]:
        """(the signal some worker was stopped by, SIGTERM before SIGINT, or None; whether some worker saw a
        non-finite scalar), the same on every worker."""
        flags = tf.constant([signum == signal.SIGINT, signum == signal.SIGTERM, failed], tf.float32)
        sigint, sigterm, failure = (self._mean(flags).numpy() > 0).tolist()
        self.last_step_time = time.monotonic()
        return (signal.SIGTERM if sigterm else signal.SIGINT if sigint else None), failure

    def distribute(self, make_dataset: Callable[[Tuple[int, int]], tf.data.Dataset], batch_size: int):
        """The distributed dataset of make_dataset(shard), shard = (this worker's index, workers), which yields the
        worker's contiguous part of each global element (gan.py's layout: batch_size groups of n_critic rows); a
        worker's L local replicas take its L consecutive equal parts, so replica r gets groups r*b .. (r+1)*b as
        under MirroredStrategy."""
        replicas = self.strategy.num_replicas_in_sync
        if batch_size % replicas:
            raise ValueError(f"batch_size: {batch_size} must be a multiple of the {replicas} replicas of the "
                             f"{self.count} workers")
        local = replicas // self.count

        def parts(rows):
            return tf.reshape(rows, tf.concat([[local, -1], tf.shape(rows)[1:]], axis=0))

        def per_worker(context):
            dataset = make_dataset((context.input_pipeline_id, context.num_input_pipelines))
            return dataset if local == 1 else dataset.map(parts).unbatch()

        return self.strategy.distribute_datasets_from_function(per_worker)

    def lost(self, error: tf.errors.OpError, step: int, checkpoint: Optional[str]) -> WorkerLost:
        """The WorkerLost for a collective's error after `step`."""
        reason = str(error.message).strip().splitlines()
        reason = next((line for line in reason if "aborted by" in line), reason[0] if reason else type(error).__name__)
        return WorkerLost(f"{self} stopped after generator step {step}: a peer worker died or became unreachable "
                          f"({type(error).__name__}: {reason}); the last checkpoint is {checkpoint}; restart every "
                          f"worker with --resume to continue")
