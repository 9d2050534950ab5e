"""Progress of long work: durations for progress lines, and image counts with rate and ETA on stderr."""
import math
import sys
import time


def duration(seconds: float) -> str:
    """'4m05s' or '2h07m'; '?' when unknown (infinite)."""
    if not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


class Progress:
    """`update(n)` after each batch; a line when `every_s` has passed since the last one, and at `done()` when any
    line was printed and the count has moved since (so short work stays silent and no line is repeated). Without a
    total (a data set read to its end) there is no ETA."""

    def __init__(self, label: str, total=None, every_s: float = 10.0, stream=None):
        self.label, self.total, self.every_s = label, total, every_s
        self.stream = stream or sys.stderr
        self.count, self.start, self.last, self.printed = 0, time.perf_counter(), time.perf_counter(), None

    def update(self, n: int) -> None:
        self.count += int(n)
        now = time.perf_counter()
        if now - self.last >= self.every_s:
            self.last = now
            self._print(now)

    def done(self) -> None:
        if self.printed is not None and self.printed != self.count:
            self._print(time.perf_counter())

    def _print(self, now: float) -> None:
        rate = self.count / max(now - self.start, 1e-9)
        if self.total is None:  # a data set read to its end
            self.stream.write(f"{self.label}: {self.count} images ({rate:.1f}/s)\n")
        else:
            eta = (self.total - self.count) / rate if rate > 0 else 0.0
            self.stream.write(f"{self.label}: {self.count}/{self.total} images ({rate:.1f}/s, ETA {duration(eta)})\n")
        self.stream.flush()
        self.printed = self.count
