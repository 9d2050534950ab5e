"""The Table 4 protocol of Adler & Lunz 2018 in one call: the main run, its SGDR ensemble, the 50k-sample scores.

Section 4: the inception scores 8.31 (L^10) and 8.26 (W^{-3/2,2}) come from "an ensemble of 5 generators using SGD
with warm restarts [...] Each warm restart used 10 000 generator steps", after the 100k-step run. Each stage
resumes where it stopped (run the same call again); the scores go to the phase's table4.json and name the metrics
computed: IS needs the logits of TF-GAN's Inception module (`inception`), so without it only FID is computed (and
the record says so); a stand-in `classifier` gives stand-in names (cs/fd<N>_<name>), never IS/FID; labels state
the sample count (is50k, fid50k).
"""
from typing import Optional

from bwgan_tf import checks
from bwgan_tf import metrics as metrics_lib
from bwgan_tf.runs import generators
from bwgan_tf.runs import restarts as restarts_lib
from bwgan_tf.train import loop
from bwgan_tf.train import run_dir as run_dir_lib
from bwgan_tf.train.config import TrainConfig

PAPER = {"cifar10_l10": "IS 8.31 +- .07", "cifar10_sobolev": "IS 8.26 +- .07"}  # Adler & Lunz 2018, Table 4


def choose_metrics(metrics: Optional[str], inception: Optional[str], classifier: Optional[str]):
    """(metric names to compute, the paper's metrics left out): `metrics` when given; else is and fid when an
    extractor with logits is given, else fid alone, with is left out (the FID network has no logits)."""
    if metrics:
        return metrics_lib.parse_metrics(metrics), []
    if inception or classifier:
        return ("is", "fid"), []
    return ("fid",), ["is"]


def run(config: TrainConfig, *, restarts: int = restarts_lib.RESTARTS, restart_steps: int = restarts_lib.RESTART_STEPS,
        num_samples: int = 50_000, metrics: Optional[str] = None, inception: Optional[str] = None,
        classifier: Optional[str] = None, cache_dir: Optional[str] = None, batch_size: int = 100,
        print_fn=print) -> dict:
    """Trains `config` (or resumes it), runs its SGDR phase into OUTPUT_DIR/sgdr, scores the ensemble on
    `num_samples` samples against config.dataset and returns (and writes to OUTPUT_DIR/sgdr/table4.json) the record.

    metrics: default "is,fid" with an Inception module or a classifier, else "fid" (IS is then not computed).
    """
    checks.positive_int(restarts, "restarts")
    checks.positive_int(restart_steps, "restart_steps")
    checks.integer(num_samples, "num_samples", minimum=2)
    names, skipped = choose_metrics(metrics, inception, classifier)
    extractor = metrics_lib.resolve_extractor(classifier=classifier, inception=inception, metrics=names)
    run_dir = loop.train(config, print_fn)
    phase = restarts_lib.run(run_dir, restarts, restart_steps, print_fn=print_fn)
    generator, phase_config, description = generators.open_run(phase)
    print_fn(f"scoring the ensemble of {restarts} snapshots: {', '.join(names)} of {num_samples} samples"
             + (f" ({', '.join(skipped)} not computed: it needs --inception, TF-GAN's Inception module)"
                if skipped else ""), flush=True)
    scores = metrics_lib.evaluate(generator, metrics=names, num_samples=num_samples, extractor=extractor,
                                  reference=config.dataset, data_dir=config.data_dir, batch_size=batch_size,
                                  cache_dir=cache_dir, latent_dim=phase_config.latent_dim, generator=description)
    record = dict(scores, protocol="Adler & Lunz 2018 Table 4: main run + SGDR ensemble", preset=config.preset,
                  paper=PAPER.get(config.preset), run_dir=run_dir, sgdr_dir=phase, main_steps=config.steps,
                  restarts=restarts, restart_steps=restart_steps, metrics=list(names), not_computed=skipped,
                  reference=config.dataset)
    path = run_dir_lib.write_table4(phase, record)
    print_fn(f"Table 4 scores in {path}: " + ", ".join(f"{k} {scores[k]:.4g}" for k in scores
                                                         if isinstance(scores[k], float) and k != "seconds"),
             flush=True)
    return record
