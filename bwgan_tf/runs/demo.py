"""The README's first command: a Banach WGAN on 8 Gaussians on the CPU, judged by exact transport and mode coverage.

Quality of 2-D samples against a Gaussian mixture (Gulrajani et al. 2017 toy setting):
  * exact W1 between N generated and N real points (optimal assignment, bwgan_tf.ot);
  * a mode is covered when at least 20 generated points lie within 3 std of its centre;
  * high-quality fraction: generated points within 3 std of some centre.
"""
import os
import time

import numpy as np

from bwgan_tf import data
from bwgan_tf.io import files, images
from bwgan_tf.lab import ot
from bwgan_tf.train import build, loop, toy_plots
from bwgan_tf.train import config as config_lib

DEMO_SETTINGS = dict(preset="demo_8gaussians", steps=4000, checkpoint_every=500, sample_every=500, log_every=250,
                     seed=0)


def mode_report(points, centres, std, min_points=20, radius_in_std=3.0) -> dict:
    """Modes covered (>= min_points within radius_in_std * std of a centre) and the high-quality fraction."""
    points = np.asarray(points, np.float64)
    distances = np.linalg.norm(points[:, None, :] - np.asarray(centres)[None], axis=-1)  # [N, K]
    near = distances <= radius_in_std * std
    per_mode = near.sum(axis=0)
    return {"modes_covered": int((per_mode >= min_points).sum()), "modes_total": int(len(centres)),
            "high_quality_fraction": float(near.any(axis=1).mean()), "points_per_mode": per_mode.tolist()}


def evaluate_toy(model, spec, num=2500, seed=1) -> dict:
    """Exact W1 and mode report of `num` EMA-generator samples against `num` fresh real points."""
    generated = model.sample(num, seed).numpy()
    real = data.take(spec, num, seed=seed + 1000)
    centres, std = data.toy_modes(spec)
    report = {"w1_exact": ot.wasserstein(generated, real, "l2"), "num_points": num}
    report.update(mode_report(generated, centres, std))
    return report


def run(output_dir="runs/demo", print_fn=print, **overrides) -> dict:
    """Trains (or resumes) the demo run, then writes demo.png (points over critic contours) and demo.json."""
    settings = dict(DEMO_SETTINGS, **overrides)
    preset = settings.pop("preset")
    config = config_lib.make_config(preset, output_dir=output_dir, **settings)
    start = time.perf_counter()
    loop.train(config, print_fn=print_fn)
    seconds = time.perf_counter() - start
    model, config = build.load_model(output_dir)
    report = evaluate_toy(model, config.dataset)
    report.update(train_seconds=round(seconds, 1), generator_steps=int(model.generator_steps.numpy()),
                  space=config.space, lipschitz=config.lipschitz)
    real = data.take(config.dataset, 1000, seed=7)
    images.write_png(os.path.join(output_dir, "demo.png"), toy_plots.toy_picture(model, real, num=2500, seed=1))
    files.write_json_atomically(os.path.join(output_dir, "demo.json"), report)
    return report
