"""tools/demo.py (README's first command, `make demo`) end to end at a few steps."""
import json
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_the_demo_tool_trains_and_reports(project_root, tmp_path):
    result = subprocess.run([sys.executable, str(project_root / "tools" / "demo.py"), "--steps=3",
                             f"--output_dir={tmp_path / 'demo'}"], capture_output=True, text=True, timeout=300,
                            cwd=project_root)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "exact W1 (2,500 generated vs 2,500 real points):" in result.stdout
    report = json.loads((tmp_path / "demo" / "demo.json").read_text())
    assert report["generator_steps"] == 3 and report["modes_total"] == 8 and report["space"] == "lp:p=2"
    assert (tmp_path / "demo" / "demo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
