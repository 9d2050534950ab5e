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
    # one clear line and a pointer to the help, not the whole help text (TensorFlow's own start-up lines aside)
    ours = [line for line in result.stderr.splitlines() if line and not line[:4].isdigit() and "tensorflow" not in line
            and not line.startswith("To enable")]
    assert len(ours) == 2 and ours[-1] == "Pass --helpshort or --helpfull to see help on flags.", ours
