"""The tools' shared command-line behaviour: bad flags and bad arguments exit with code 2."""
import subprocess
import sys

import pytest


def run_tool(project_root, *args):
    return subprocess.run([sys.executable, str(project_root / "tools" / "benchmark.py"), *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args,message", [
    (["--suites=nonsense"], "--suites: unknown nonsense"),
    (["--quick=maybe"], "flag --quick=maybe"),
    (["--no_such_flag"], "no_such_flag"),
    (["positional"], "unexpected arguments"),
])
def test_bad_flags_exit_2_with_a_message_naming_the_flag(project_root, args, message):
    result = run_tool(project_root, *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr + result.stdout
