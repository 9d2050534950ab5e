"""Benchmarks: train-step speed and norm overhead, input pipeline, evaluation throughput.

Each suite lives in tools/benchmarks/<suite>.py and exposes `run(quick) -> dict`. This tool runs the chosen
suites in one process (so ratios compare like with like) and prints one JSON object.

  python tools/benchmark.py --json                       # all suites, full size (slow on CPU)
  python tools/benchmark.py --quick --suites=pipeline     # tiny sizes, seconds
  python tools/benchmark.py --suites=stack --compare_python=.venv-classic/bin/python
                                                         # the paper-size critic step, float32 and bf16, on this
                                                         # stack and on the other python's, one after the other
"""
import importlib
import json
import os
import pathlib
import platform
import re
import subprocess
import sys
import time

from absl import flags

import bwgan_tf.io.cli as cli

from bwgan_tf.io import files

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

SUITES = ("train_step", "pipeline", "evaluation", "loop", "multi_worker", "stack")
ROOT = pathlib.Path(__file__).resolve().parents[1]

FLAGS = flags.FLAGS
flags.DEFINE_list("suites", list(SUITES), f"Suites to run, any of {', '.join(SUITES)}.")
flags.DEFINE_bool("quick", False, "Tiny sizes and few repetitions (a smoke run, not a measurement).")
flags.DEFINE_bool("json", False, "Print only the JSON object (else also a readable summary on stderr).")
flags.DEFINE_string("output", None, "Also write the JSON object to this file (atomically).")
flags.DEFINE_string("compare_python", None, "Another interpreter (e.g. the other TensorFlow stack's venv python): the "
                    "same suites run there too, in a subprocess after this one, and the JSON holds both and their "
                    "ratios (other / this) of every timing.")


def pipeline_headroom(results: dict) -> dict:
    """Pipeline images/s over what the train step consumes (batch x n_critic per generator step)."""
    step = results.get("train_step", {})
    pipe = results.get("pipeline", {})
    consumed = step.get("consumed_images_per_s")
    delivered = {k: v for k, v in pipe.items() if k.endswith("images_per_s") and isinstance(v, (int, float))}
    if not consumed or not delivered:
        return {}
    return {f"{k}_over_consumption": v / consumed for k, v in delivered.items()}


def run_suites(names, quick: bool) -> dict:
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        raise ValueError(f"--suites: unknown {', '.join(unknown)}; known: {', '.join(SUITES)}")
    results = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "quick": quick}}
    for name in names:
        start = time.perf_counter()
        results[name] = importlib.import_module(f"benchmarks.{name}").run(quick=quick)
        results[name]["suite_seconds"] = round(time.perf_counter() - start, 2)
    headroom = pipeline_headroom(results)
    if headroom:
        results["pipeline_headroom"] = headroom
    return results


def run_other(python: str, names, quick: bool) -> dict:
    """The same suites' JSON from another interpreter (this tool run by it, with this checkout on its path)."""
    command = [python, str(ROOT / "tools" / "benchmark.py"), f"--suites={','.join(names)}", "--json",
               f"--quick={str(quick).lower()}"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode:
        raise RuntimeError(f"--compare_python: {python} failed (exit {done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def timing_ratios(this: dict, other: dict, prefix: str = "") -> dict:
    """{suite.key: other / this} for every duration present in both: a number whose key has an _s unit (critic_step_s,
    critic_step_s_float32; not a rate such as steps_per_s)."""
    ratios = {}
    for key, value in this.items():
        there = other.get(key)
        if isinstance(value, dict) and isinstance(there, dict):
            ratios.update(timing_ratios(value, there, f"{prefix}{key}."))
        elif re.search(r"_s(_|$)", key) and "_per_s" not in key and isinstance(value, (int, float)) and \
                isinstance(there, (int, float)) and value:
            ratios[f"{prefix}{key}"] = there / value
    return ratios


def main(argv):
    if len(argv) > 1:
        raise cli.usage_error(f"unexpected arguments: {' '.join(argv[1:])}")
    if FLAGS.output:
        files.check_output(FLAGS.output, "--output")
    if FLAGS.compare_python and not os.access(FLAGS.compare_python, os.X_OK):
        raise cli.usage_error(f"--compare_python: {FLAGS.compare_python!r} is not an executable")
    results = run_suites(FLAGS.suites, FLAGS.quick)
    if FLAGS.compare_python:
        other = run_other(FLAGS.compare_python, FLAGS.suites, FLAGS.quick)
        results = {"this": results, "other": other, "other_python": FLAGS.compare_python,
                   "other_over_this": timing_ratios(results, other)}
    text = json.dumps(results, indent=None if FLAGS.json else 2, sort_keys=True)
    if FLAGS.output:
        files.write_text_atomically(FLAGS.output, text + "\n")
    print(text)


if __name__ == "__main__":
    cli.run(main)
