"""README.md's commands: every `tools/X.py` command of its bash blocks names a tool that exists and flags that tool
defines (with --no<flag> for booleans), and the commands that run on the shared subset in seconds are run."""
import json
import re
import shlex
import signal
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # starts one process per tool


def readme_commands(project_root) -> list:
    """(tool, [arguments]) of every `tools/X.py ...` command in README's bash blocks (continuations joined; a
    launcher's `-- tools/Y.py ...` is a command of its own)."""
    text = (project_root / "README.md").read_text()
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            starts = [i for i, w in enumerate(words) if re.match(r"^tools/\w+\.py$", w)] + [len(words)]
            for start, end in zip(starts, starts[1:]):  # launch_local.py ... -- tools/train.py ...: two commands
                commands.append((words[start], [w for w in words[start + 1:end] if w != "--"]))
    return commands


def defined_flags(project_root, tool: str) -> set:
    help_text = subprocess.run([sys.executable, str(project_root / tool), "--helpfull"], capture_output=True,
                               text=True, timeout=120, cwd=project_root).stdout
    return set(re.findall(r"^\s+--(?:\[no\])?(\w+):", help_text, re.M))


def test_every_readme_command_names_an_existing_tool_and_its_defined_flags(project_root):
    commands = readme_commands(project_root)
    assert len(commands) >= 20  # the README's examples are found at all
    known = {}
    wrong = []
    for tool, arguments in commands:
        if tool not in known:
            assert (project_root / tool).is_file(), tool
            known[tool] = defined_flags(project_root, tool)
        for argument in arguments:
            name = re.match(r"^--(\w+)", argument)
            if name and name.group(1) not in known[tool] and \
                    not (name.group(1).startswith("no") and name.group(1)[2:] in known[tool]):
                wrong.append(f"{tool} {argument}")
    assert not wrong, f"README passes flags its tools do not define: {wrong}"


def test_the_readme_dry_run_prints_the_resolved_settings_without_the_data(project_root, tmp_path):
    (tool, arguments), = [(t, a) for t, a in readme_commands(project_root) if "--dry_run" in a]
    result = subprocess.run([sys.executable, tool, *arguments, f"--data_dir={tmp_path}"], capture_output=True,
                            text=True, timeout=300, cwd=project_root)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["preset"] == "cifar10_l10"


SCALED = {"--steps=200": "--steps=20", "--steps=300": "--steps=30", "--width=32": "--width=4",
          "--seeds=0-49999": "--seeds=0-9"}  # the README's subset workflow at a size that runs in seconds
OUTPUTS = ("output_dir", "run_dir", "export_dir", "saved_model", "png", "npz", "outdir")


def scaled(tool, arguments, tmp_path) -> list:
    """The README command with SCALED sizes and its outputs under tmp_path (the paths as README spells them)."""
    out = []
    for argument in arguments:
        name, _, value = argument.lstrip("-").partition("=")
        out.append(f"--{name}={tmp_path / value}" if name in OUTPUTS else SCALED.get(argument, argument))
    return [sys.executable, tool, *out]


def test_the_readme_subset_workflow_runs_as_written(project_root, tmp_path):
    """Train (interrupted with Ctrl-C), extend before the end, resume to the end, export, and the three sample
    commands: README's commands, scaled down."""
    commands = [(t, a) for t, a in readme_commands(project_root)
                if any("subset" in w for w in a) and t in ("tools/train.py", "tools/export.py", "tools/sample.py")]
    first, resume, extend = [c for c in commands if c[0] == "tools/train.py"]
    assert "--resume" in resume[1] and "--steps=300" in extend[1] and "--steps=200" in first[1]
    process = subprocess.Popen([*scaled(*first, tmp_path), "--log_every=1"], stdout=subprocess.PIPE, text=True,
                               stderr=subprocess.PIPE, cwd=project_root)
    for line in process.stdout:
        if line.startswith("step 5/"):
            process.send_signal(signal.SIGINT)
    process.wait(timeout=300)
    assert process.returncode == 130, process.stderr.read()[-2000:]
    run = subprocess.run(scaled(*extend, tmp_path), capture_output=True, text=True, timeout=300, cwd=project_root)
    assert run.returncode == 0 and "linearly to 0 at step 30" in run.stdout, (run.stdout + run.stderr)[-2000:]
    run = subprocess.run(scaled(*resume, tmp_path), capture_output=True, text=True, timeout=300, cwd=project_root)
    assert run.returncode == 0 and "run complete: 30 of 30" in run.stdout, (run.stdout + run.stderr)[-2000:]
    for command in [c for c in commands if c[0] != "tools/train.py"]:
        run = subprocess.run(scaled(*command, tmp_path), capture_output=True, text=True, timeout=300,
                             cwd=project_root)
        assert run.returncode == 0, (command, run.stderr[-2000:])
    assert {p.name for p in tmp_path.iterdir()} == {"runs", "exports", "grid.png", "samples.npz", "fid_folder",
                                                   "strip.png"}
    assert len(list((tmp_path / "fid_folder").glob("*.png"))) == 10
