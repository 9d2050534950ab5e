"""tools/benchmark.py's stack suite: the paper-size critic step in float32 and bf16 on this stack, and with
--compare_python on another interpreter too (here the same one, so the test runs anywhere), as one JSON object."""
import json
import subprocess
import sys

import pytest

from bwgan_tf import compat


@pytest.mark.slow
def test_the_stack_suite_reports_both_precisions_here_and_on_the_compared_python(project_root, tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, str(project_root / "tools" / "benchmark.py"), "--suites=stack", "--quick",
                           "--json", f"--compare_python={sys.executable}", f"--output={out}"], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert json.loads(done.stdout.strip().splitlines()[-1]) == result
    for side in ("this", "other"):
        suite = result[side]["stack"]
        assert suite["stack"] == compat.stack() and (suite["width"], suite["batch"]) == (16, 8)  # --quick sizes
        assert suite["critic_step_s_float32"] > 0 and suite["critic_step_s_mixed_bfloat16"] > 0
    assert result["other_python"] == sys.executable
    ratios = result["other_over_this"]
    assert ratios["stack.critic_step_s_float32"] == pytest.approx(
        result["other"]["stack"]["critic_step_s_float32"] / result["this"]["stack"]["critic_step_s_float32"])
    assert "stack.critic_step_s_mixed_bfloat16" in ratios
