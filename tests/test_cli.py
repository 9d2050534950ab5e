"""The tools' shared command-line behaviour: bad flags and bad arguments exit with code 2 and one clear line, and
tools start quietly (TensorFlow's start-up log lines only with --verbose)."""
import ast
import os
import re
import subprocess
import sys

import pytest

from bwgan_tf.io import cli

POINTER = "Pass --helpshort or --helpfull to see help on flags."


def run_tool(project_root, tool, *args):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # as a user's shell has it
    return subprocess.run([sys.executable, str(project_root / "tools" / tool), *args], capture_output=True,
                          text=True, timeout=120, env=env)


@pytest.mark.slow
@pytest.mark.parametrize("tool,args,message", [
    ("benchmark.py", ["--suites=nonsense"], "--suites: unknown nonsense"),
    ("benchmark.py", ["--quick=maybe"], "flag --quick=maybe"),
    ("benchmark.py", ["--no_such_flag"], "no_such_flag"),
    ("benchmark.py", ["positional"], "unexpected arguments"),
    ("benchmark.py", ["--output=.", "--suites=nonsense"], "--output: '.' is a directory"),  # before any work
    ("benchmark.py", ["--compare_python=/no/such/python"], "--compare_python: '/no/such/python' is not an executable"),
    ("export.py", ["--export_dir=x"], "flag --run_dir=None: Flag --run_dir must have a value other than None"),
    ("launch_local.py", ["--workers=0", "--", "tools/train.py"], "flag --workers=0: 0 is not a positive integer"),
    ("launch_local.py", [], "command: give what each worker runs after --"),
    ("launch_local.py", ["--", "no_such_script.py"], "command: no such script 'no_such_script.py'"),
])
def test_bad_flags_exit_2_with_one_line_naming_the_flag_and_the_help_pointer(project_root, tool, args, message):
    result = run_tool(project_root, tool, *args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and message in lines[0] and lines[1] == POINTER, lines  # not the whole help text


@pytest.mark.slow
def test_a_tool_that_imports_tensorflow_starts_quietly_unless_verbose(project_root, tmp_path):
    args = ["--saved_model=/no/such/export", f"--png={tmp_path / 'grid.png'}"]
    quiet = run_tool(project_root, "sample.py", *args)
    assert quiet.returncode == 2
    assert quiet.stderr == ("--saved_model: no SavedModel at '/no/such/export' (no such folder); give a folder "
                            f"written by tools/export.py\n{POINTER}\n")
    verbose = run_tool(project_root, "sample.py", *args, "--verbose")
    assert verbose.returncode == 2 and verbose.stderr.endswith(quiet.stderr)
    extra = verbose.stderr[:-len(quiet.stderr)]  # TensorFlow's own start-up lines: named tensorflow on TF 2.15,
    assert re.search(r"tensorflow|^[IWE]\d{4} ", extra, re.M), extra  # absl-format C++ log lines (I0000 ...) on 2.21


@pytest.mark.parametrize("argv,verbose", [
    (["tool"], False), (["tool", "--verbose"], True), (["tool", "-verbose=false"], False),
    (["tool", "--verbose=1"], True), (["tool", "--verbose", "--noverbose"], False),
    (["tool", "--", "--verbose"], False),
])
def test_verbose_is_read_from_argv_before_flags_are_parsed(argv, verbose):
    assert cli.verbose_in(argv) is verbose


def test_every_tool_runs_through_cli_and_imports_no_tensorflow_before_it(project_root):
    for tool in sorted((project_root / "tools").glob("*.py")):
        tree = ast.parse(tool.read_text())
        top_level = {alias.name.split(".")[0] for node in tree.body if isinstance(node, ast.Import)
                     for alias in node.names}
        top_level |= {node.module.split(".")[0] for node in tree.body if isinstance(node, ast.ImportFrom)}
        assert "cli.run(main)" in tool.read_text(), tool.name
        assert "tensorflow" not in top_level, f"{tool.name}: import tensorflow after bwgan_tf.cli (quiet start-up)"
