"""Command-line plumbing shared by tools/: bad flags and bad arguments exit with code 2.

absl exits with code 1 on a flag-parsing error and on app.UsageError by default; the project's convention is
exit code 2 with a message that names the flag, so every tool starts with `cli.run(main)`.
"""
import sys

from absl import app, flags


def usage_error(message: str) -> app.UsageError:
    """An absl usage error that exits with code 2."""
    return app.UsageError(message, exitcode=2)


def _parse_flags(argv):
    try:
        return flags.FLAGS(argv)
    except flags.Error as error:
        sys.stderr.write(f"FATAL Flags parsing error: {error}\nPass --helpshort or --helpfull to see help on flags.\n")
        sys.exit(2)


def run(main) -> None:
    """app.run(main) where a flag-parsing error, a ValueError or missing data (FileNotFoundError) exits with code 2
    and the message."""

    def main_with_usage_errors(argv):
        try:
            return main(argv)
        except (ValueError, FileNotFoundError) as error:
            raise usage_error(str(error)) from error

    app.run(main_with_usage_errors, flags_parser=_parse_flags)
