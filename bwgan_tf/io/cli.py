"""Command-line plumbing shared by tools/: bad flags and bad arguments exit with code 2 and one clear line, and
tools start quietly.

absl exits with code 1 on a flag-parsing error and prints the whole help text on app.UsageError; the project's
convention is exit code 2 with the message (which names the flag) and a pointer to --helpshort, so every tool
starts with `cli.run(main)`.

TensorFlow's C++ start-up lines (oneDNN, CUDA, TensorRT, cpu_feature_guard) and the warnings of its Python
loggers are hidden unless the tool is given --verbose. TF_CPP_MIN_LOG_LEVEL is read when tensorflow is first
imported, so tools import this module before anything that imports tensorflow. On TensorFlow >= 2.16, which logs
some lines during its import whatever that variable says, this module imports it itself with stderr silenced.
"""
import logging
import os
import re
import sys
import warnings

from absl import app, flags
from absl import logging as absl_logging

from bwgan_tf.io import files

HELP_POINTER = "Pass --helpshort or --helpfull to see help on flags."
_NOISY_LOGGERS = ("tensorflow", "absl")

flags.DEFINE_bool("verbose", False, "Show TensorFlow's start-up log lines and its Python warnings.")


def verbose_in(argv) -> bool:
    """Whether argv (before absl parses it) asks for --verbose; the last --verbose / --noverbose wins."""
    verbose = False
    for arg in argv[1:]:
        if arg == "--":
            break
        name, _, value = arg.lstrip("-").partition("=")
        if name == "verbose":
            verbose = value.lower() in ("", "true", "t", "1", "yes")
        elif name == "noverbose":
            verbose = False
    return verbose


def quiet(verbose: bool, flags_parsed: bool = False) -> None:
    """Unless verbose: TensorFlow's C++ logging off (an explicit TF_CPP_MIN_LOG_LEVEL is kept), its Python
    loggers at ERROR and the Python warnings of TensorFlow / Keras modules ignored; bwgan_tf's own log records
    still show. Once flags are parsed, absl's verbosity goes to ERROR too: app.run sets it to INFO, and
    TensorFlow's SavedModel writer restores that level after silencing it for a moment."""
    if verbose:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    logging.getLogger("bwgan_tf").setLevel(logging.INFO)
    warnings.filterwarnings("ignore", module=r"(tensorflow|tf_keras|keras)")
    if flags_parsed:
        absl_logging.set_verbosity(absl_logging.ERROR)


def _import_tensorflow_silently() -> None:
    """TensorFlow >= 2.16 logs its first C++ lines (absl's "before absl::InitializeLog()" notice, the CUDA stub's
    "could not find cuda drivers") while it is imported, whatever TF_CPP_MIN_LOG_LEVEL says: there it is imported
    here with the process's stderr (fd 2) pointed at /dev/null, then stderr is restored. TF 2.15 honours the
    variable and is left to load when a tool first needs it."""
    if "tensorflow" in sys.modules:
        return
    try:
        from importlib.metadata import version
        major, minor = (int(part) for part in version("tensorflow").split(".")[:2])
    except Exception:  # noqa: BLE001 - no metadata: leave the import to the tool
        return
    if (major, minor) < (2, 16):
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


quiet(verbose_in(sys.argv))
if not verbose_in(sys.argv):
    _import_tensorflow_silently()


def usage_error(message: str) -> app.UsageError:
    """An absl usage error that exits with code 2."""
    return app.UsageError(message, exitcode=2)


def _fail(message: str) -> None:
    one_line = re.sub(r"\s*\n\s*", " ", message.strip())
    sys.stderr.write(f"{one_line}\n{HELP_POINTER}\n")
    sys.exit(2)


def _parse_flags(argv):
    try:
        return flags.FLAGS(argv)
    except flags.Error as error:
        _fail(f"FATAL Flags parsing error: {error}")


def run(main) -> None:
    """app.run(main) where a flag-parsing error, a usage error, a ValueError or missing data (FileNotFoundError)
    prints its message and exits with code 2; so does an output that cannot be written (disk full, read-only, no
    permission: files.unwritable), in one line naming the path."""

    def main_with_usage_errors(argv):
        quiet(flags.FLAGS.verbose, flags_parsed=True)
        try:
            return main(argv)
        except (app.UsageError, ValueError, FileNotFoundError) as error:
            _fail(str(error))
        except OSError as error:
            if not files.unwritable(error):
                raise
            sys.stderr.write(f"error: cannot write {error.filename}: {error.strerror}\n")
            sys.exit(2)

    app.run(main_with_usage_errors, flags_parser=_parse_flags)
