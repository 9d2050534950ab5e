"""Command-line plumbing shared by tools/: bad flags and bad arguments exit with code 2 and one clear line.

absl exits with code 1 on a flag-parsing error and prints the whole help text on app.UsageError; the project's
convention is exit code 2 with the message (which names the flag) and a pointer to --helpshort, so every tool
starts with `cli.run(main)`.
"""
import sys

from absl import app, flags

HELP_POINTER = "Pass --helpshort or --helpfull to see help on flags."


def usage_error(message: str) -> app.UsageError:
    """An absl usage error that exits with code 2."""
    return app.UsageError(message, exitcode=2)


def _fail(message: str) -> None:
    sys.stderr.write(f"{message}\n{HELP_POINTER}\n")
    sys.exit(2)


def _parse_flags(argv):
    try:
        return flags.FLAGS(argv)
    except flags.Error as error:
        _fail(f"FATAL Flags parsing error: {error}")


def run(main) -> None:
    """app.run(main) where a flag-parsing error, a usage error, a ValueError or missing data (FileNotFoundError)
    prints its message and exits with code 2."""

    def main_with_usage_errors(argv):
        try:
            return main(argv)
        except (app.UsageError, ValueError, FileNotFoundError) as error:
            _fail(str(error))

    app.run(main_with_usage_errors, flags_parser=_parse_flags)
