"""Progress lines: the final line only when it says something new (tests/metrics/test_fid_metrics.py has the rest)."""
import io

from bwgan_tf.io import progress


def test_done_reports_the_count_reached_after_the_last_line():
    stream = io.StringIO()
    report = progress.Progress("images", None, every_s=0.0, stream=stream)
    report.update(5)
    report.every_s = 3600.0
    report.update(7)  # no line: the interval has not passed
    report.done()
    assert [line.split(" (")[0] for line in stream.getvalue().splitlines()] == ["images: 5 images", "images: 12 images"]
