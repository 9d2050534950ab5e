"""Training-loop benchmark: generator steps/s of a small toy GAN (steps of a few ms, where per-step overhead shows)
through train.train (guard, metrics log, checkpoint and sample callbacks) against the same model's bare Keras fit,
so the cost of the callbacks is known (they read the device's scalars only on steps where they write)."""
import tempfile
import time

import tensorflow as tf

from bwgan_tf import data, train
from bwgan_tf.train import run_dir


def _config(output_dir: str, steps: int) -> train.TrainConfig:
    return train.make_config("toy_8gaussians", width=64, batch_size=64, n_critic=2, steps=steps,
                             output_dir=output_dir, log_every=100, checkpoint_every=10 * steps, sample_every=0)


def run(quick: bool = False) -> dict:
    steps = 300 if quick else 3000
    with tempfile.TemporaryDirectory() as tmp:
        config = _config(f"{tmp}/bare", steps)
        model = train.build_model(config)
        dataset = data.load(config.dataset, batch_size=config.batch_size * config.n_critic)
        model.fit(dataset, steps_per_epoch=20, epochs=1, verbose=0)  # trace and compile
        start = time.perf_counter()
        model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0)
        tf.nest.map_structure(lambda v: v.numpy(), model.generator.weights)
        bare = steps / (time.perf_counter() - start)
        train.train(_config(f"{tmp}/loop", steps), print_fn=lambda *a, **k: None)
        rates = [r["steps_per_s"] for r in run_dir.read_metrics(f"{tmp}/loop") if r["step"] > 100]
    loop = sum(rates) / len(rates)
    return {"toy_bare_fit_steps_per_s": bare, "toy_train_loop_steps_per_s": loop,
            "toy_train_loop_over_bare_fit": loop / bare, "steps": steps}
