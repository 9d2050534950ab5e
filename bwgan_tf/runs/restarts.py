"""The SGDR phase of Adler & Lunz 2018, Table 4: a finished run continued with warm restarts into its own run
directory, and the ensemble of the EMA generators at the end of each restart.

"training an ensemble of 5 generators using SGD with warm restarts [...] Each warm restart used 10 000 generator
steps" (section 4). The phase is a run directory (default RUN/sgdr) whose first checkpoint is the finished run's
last one (copied: the finished run is never written to); it trains restarts x restart_steps more generator steps
with the learning rate of bwgan_tf.schedules (eq. 5 of Loshchilov & Hutter 2017 from the run's initial lr to 0 in each
restart), and at the end of restart R writes the EMA generator to snapshots/restart_R. It resumes like any run:
checkpoints, data order and draws continue from the generator step, and the restart index is
(step - start) // restart_steps. Weights, both optimizers' state and the EMA carry on across restarts.
"""
import os
from typing import Optional, Tuple

import tensorflow as tf

from bwgan_tf import checks, compat, schedules
from bwgan_tf.runs import ensemble
from bwgan_tf.train import build, callbacks, loop
from bwgan_tf.train import run_dir as run_dir_lib
from bwgan_tf.train.config import TrainConfig

RESTARTS, RESTART_STEPS = 5, 10_000  # the paper's ensemble
PHASE_DIR = "sgdr"


class SnapshotSaver(callbacks.StepCallback):
    """At each of the generator steps `steps` (the ends of the restarts): the EMA generator as snapshot 1, 2, ..."""

    def __init__(self, run_dir: str, steps):
        super().__init__()
        self.run_dir, self.restart_of = run_dir, {step: r for r, step in enumerate(steps, 1)}

    def on_train_batch_end(self, batch, logs=None):
        step = self.step()
        if step in self.restart_of and not self.stopped() and self.scalars(logs) is not None:
            run_dir_lib.write_snapshot(self.run_dir, self.restart_of[step], self.model.ema_generator)


def default_output_dir(run_dir: str) -> str:
    return os.path.join(run_dir, PHASE_DIR)


def run(run_dir: str, restarts: int = RESTARTS, restart_steps: int = RESTART_STEPS, output_dir: Optional[str] = None,
        print_fn=print) -> str:
    """Runs (or resumes) the SGDR phase of the finished run in `run_dir`; returns the phase's run directory.

    Raises ValueError naming the argument: run_dir not a finished run, or output_dir holding another phase.
    """
    checks.positive_int(restarts, "restarts")
    checks.positive_int(restart_steps, "restart_steps")
    output_dir = output_dir or default_output_dir(run_dir)
    if os.path.abspath(output_dir) == os.path.abspath(run_dir):
        raise ValueError("output_dir: the SGDR phase needs a directory of its own, not the finished run's")
    if schedules.is_sgdr(run_dir_lib.read_config(run_dir).get("lr_plan")):
        raise ValueError(f"run_dir: {run_dir!r} is an SGDR phase itself; give the finished main run")
    if not run_dir_lib.exists(output_dir):
        _start(run_dir, output_dir, restarts, restart_steps, print_fn)
    saved = run_dir_lib.read_config(output_dir).get("lr_plan")
    if not schedules.is_sgdr(saved):
        raise ValueError(f"output_dir: {output_dir!r} holds a training run, not an SGDR phase")
    if (saved["restarts"], saved["restart_steps"]) != (restarts, restart_steps):
        raise ValueError(f"restarts: {output_dir!r} holds a phase of {saved['restarts']} restarts of "
                         f"{saved['restart_steps']} steps, not {restarts} of {restart_steps}; continue it with its "
                         f"own values or choose another output_dir")
    return loop.train(build.read_config(output_dir), print_fn,
                      extra_callbacks=[SnapshotSaver(output_dir, schedules.snapshot_steps(saved))])


def _start(run_dir: str, output_dir: str, restarts: int, restart_steps: int, print_fn) -> None:
    """Copies the run's last checkpoint as the phase's first (byte for byte: weights, optimizers, counters, the EMA),
    then writes the phase's config.json: a phase killed before that starts over."""
    saved = run_dir_lib.read_config(run_dir)
    run_dir_lib.check_stack(saved, run_dir)
    config = TrainConfig.from_dict(saved, ignore_unknown=True)
    checkpoint = build.intact_checkpoint(build.checkpoint_manager(None, run_dir), print_fn)
    step = build.checkpoint_step(checkpoint) if checkpoint else 0
    if step != config.steps:
        raise ValueError(f"run_dir: {run_dir!r} has reached generator step {step} of {config.steps}; finish it first "
                         f"(tools/train.py --output_dir={run_dir} --resume)")
    build.copy_checkpoint(checkpoint, run_dir_lib.create(output_dir))
    phase = config.replace(output_dir=output_dir, steps=step + restarts * restart_steps, lr_decay=True)
    plan = dict(schedules.sgdr_plan(step, restart_steps, restarts), source=checkpoint)
    run_dir_lib.write_config(output_dir, dict(phase.to_dict(), lam_gamma_source=saved.get("lam_gamma_source"),
                                              lr_plan=plan, stack=run_dir_lib.stack_of(saved)))
    print_fn(f"SGDR phase: {restarts} restarts of {restart_steps} generator steps from {checkpoint} in {output_dir}",
             flush=True)


def load_ensemble(output_dir: str) -> Tuple[tf.keras.Model, TrainConfig]:
    """(the ensemble of the phase's snapshots as one generator (bwgan_tf.runs.ensemble), the phase's config).

    Raises ValueError naming run_dir when a snapshot is missing (the phase has not finished)."""
    config = build.read_config(output_dir)
    plan = run_dir_lib.read_config(output_dir)["lr_plan"]
    prefixes = [run_dir_lib.snapshot_weights(output_dir, r) for r in range(1, plan["restarts"] + 1)]
    missing = [r for r, prefix in enumerate(prefixes, 1) if prefix is None]
    if missing:
        raise ValueError(f"run_dir: the SGDR phase {output_dir!r} lacks the snapshots of restarts "
                         f"{', '.join(map(str, missing))} of {plan['restarts']}; finish it (tools/ensemble.py) or give "
                         f"a --checkpoint")
    members = []
    for prefix in prefixes:
        member = build.build_generator(config)
        compat.read_weights(member, prefix).assert_existing_objects_matched()
        members.append(member)
    return ensemble.ensemble_generator(members), config
