"""Stopping a run cleanly: SIGINT (Ctrl-C) and SIGTERM (a scheduler's preemption notice) end the current
generator step, save a checkpoint at it and stop; the tool then exits with 128 + the signal's number (130, 143),
the shell's convention for a process ended by a signal. A second Ctrl-C stops at once (KeyboardInterrupt).
"""
import contextlib
import signal
import threading
from typing import Optional

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class TrainingInterrupted(Exception):
    """Training stopped on a signal after saving a checkpoint at the step it had reached."""

    def __init__(self, signum: int, step: int, checkpoint: Optional[str], run_dir: str):
        self.signum, self.step, self.checkpoint, self.run_dir = signum, step, checkpoint, run_dir
        self.exit_code = 128 + signum
        super().__init__(f"stopped by {signal.Signals(signum).name} at generator step {step}; saved {checkpoint}; "
                         f"continue with: python tools/train.py --output_dir={run_dir} --resume")


class SignalFlag:
    """The first SIGINT/SIGTERM received while installed (None until then)."""

    def __init__(self):
        self.signum: Optional[int] = None

    def _handle(self, signum, frame):
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # asked twice: stop now
        self.signum = signum


@contextlib.contextmanager
def catching_signals():
    """Installs SignalFlag as the SIGINT/SIGTERM handler for the block and restores the previous handlers.

    Signal handlers can only be set from the main thread; elsewhere the flag stays unset and signals keep their
    previous behaviour."""
    flag = SignalFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = {s: signal.signal(s, flag._handle) for s in SIGNALS}
    try:
        yield flag
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
