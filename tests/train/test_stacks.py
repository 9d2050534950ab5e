"""A run directory written by one TensorFlow stack is refused by the other in one line naming the stack that wrote it,
in both directions, with real runs of both stacks. The other stack's python is BWGAN_TF_OTHER_PYTHON (e.g.
.venv-classic/bin/python when this suite runs on the current venv); without it this test cannot run here
(test_resume.py checks the same refusal with a run directory whose stack record is rewritten)."""
import json
import os
import subprocess
import sys

import pytest

from bwgan_tf import compat, train

OTHER_PYTHON = os.environ.get("BWGAN_TF_OTHER_PYTHON")
TOY = dict(dataset="toy:8gaussians", architecture="toy_mlp", width=8, latent_dim=2, space="l2", lam=10.0, gamma=1.0,
           batch_size=16, n_critic=1, lr=1e-3, lr_decay=False, log_every=1, checkpoint_every=2, sample_every=0,
           xla=False)
SCRIPT = """
import json, sys
from bwgan_tf import compat, train
print("STACK " + compat.stack_name(), flush=True)
train.train(train.make_config(**json.loads(sys.argv[1])), print_fn=lambda *a, **k: None)
"""


def run_other(project_root, settings: dict):
    env = dict(os.environ, PYTHONPATH=str(project_root))
    return subprocess.run([OTHER_PYTHON, "-c", SCRIPT, json.dumps(settings)], capture_output=True, text=True,
                          timeout=300, env=env, cwd=project_root)


@pytest.mark.slow
@pytest.mark.skipif(not OTHER_PYTHON, reason="BWGAN_TF_OTHER_PYTHON (the other stack's python) is not set")
def test_each_stack_refuses_the_other_stacks_run_in_one_line(tmp_path, project_root):
    there = str(tmp_path / "there")
    done = run_other(project_root, dict(TOY, steps=2, output_dir=there))
    assert done.returncode == 0, done.stderr[-2000:]
    other = done.stdout.split("STACK ")[1].split()[0]
    assert other != compat.stack_name(), "BWGAN_TF_OTHER_PYTHON runs this same stack"
    with pytest.raises(ValueError, match=f"was written by the {other} stack .*this is the {compat.stack_name()} "
                                         "stack") as refused:
        train.train(train.make_config(**dict(TOY, steps=4, output_dir=there)), print_fn=lambda *a, **k: None)
    assert "\n" not in str(refused.value)

    here = str(tmp_path / "here")
    train.train(train.make_config(**dict(TOY, steps=2, output_dir=here)), print_fn=lambda *a, **k: None)
    done = run_other(project_root, dict(TOY, steps=4, output_dir=here))
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert f"was written by the {compat.stack_name()} stack" in last and f"this is the {other} stack" in last
    assert sys.executable != OTHER_PYTHON
