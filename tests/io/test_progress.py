"""Progress lines: silent for short work, one line per interval, and a final line only when it says something new."""
import io

from bwgan_tf.io import progress


def test_the_final_line_is_printed_once_and_only_when_the_count_moved():
    stream = io.StringIO()
    report = progress.Progress("features", 20, every_s=0.0, stream=stream)  # every update prints
    report.update(10)
    report.update(10)
    report.done()  # the last update already said 20/20
    lines = stream.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines] == ["features: 10/20 images", "features: 20/20 images"]
    quiet = io.StringIO()
    short = progress.Progress("features", 20, every_s=3600.0, stream=quiet)
    short.update(20)
    short.done()
    assert quiet.getvalue() == ""  # short work stays silent


def test_done_reports_the_count_reached_after_the_last_line():
    stream = io.StringIO()
    report = progress.Progress("images", None, every_s=0.0, stream=stream)
    report.update(5)
    report.every_s = 3600.0
    report.update(7)  # no line: the interval has not passed
    report.done()
    assert [line.split(" (")[0] for line in stream.getvalue().splitlines()] == ["images: 5 images", "images: 12 images"]
