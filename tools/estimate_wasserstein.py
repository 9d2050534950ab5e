"""How well do critics estimate the Wasserstein distance? Mallasto et al. (Table 1) protocol.

For each method, trains a critic alone for --iterations steps on mini-batches of --batch_size, --repeats times,
and reports |critic's batch estimate - exact batch W_1| as mean +- std (Markdown table on stdout; JSON with
--output). Datasets: two 2-D Gaussians N(+(1,1), I) vs N(-(1,1), I) (population W_1 = 2 sqrt 2 in l2), and
real CIFAR-10 images against a second distribution (--second: the other half, or noise:STD).

  python tools/estimate_wasserstein.py --datasets=gaussians,cifar10 --output=/tmp/table1.json   # full protocol
  python tools/estimate_wasserstein.py --repeats=2 --iterations=50 --datasets=gaussians           # a smoke run
"""
import json
import pathlib
import sys

from absl import flags

import bwgan_tf.io.cli as cli

from bwgan_tf.io import files

PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[1]
DATASETS = ("gaussians", "cifar10")

FLAGS = flags.FLAGS
flags.DEFINE_list("datasets", list(DATASETS), f"Any of {', '.join(DATASETS)}.")
flags.DEFINE_list("methods", ["weight_clipping", "gradient_penalty", "banach_gradient_penalty", "c_transform"],
                  "Methods: weight_clipping, gradient_penalty, banach_gradient_penalty, c_transform.")
flags.DEFINE_string("space", "l1", "Banach space of banach_gradient_penalty (spec, e.g. l1, lp:p=10, sobolev:s=-1.5).")
flags.DEFINE_string("c_transform_space", "l2", "Cost norm of the c-transform critic.")
flags.DEFINE_float("lam", 10.0, "Gradient-penalty weight lambda.")
flags.DEFINE_float("gamma", 1.0, "Banach gradient penalty's gamma (the estimate is divided by it).")
flags.DEFINE_float("clip", 0.01, "Weight-clipping bound c.")
flags.DEFINE_boolean("scale_output", False, "Multiply the critic's output by gamma (the network is then D / gamma, "
                     "and training no longer depends on gamma).")
flags.DEFINE_integer("repeats", 20, lower_bound=1, help="Critics trained per method (Mallasto et al.: 20).")
flags.DEFINE_integer("iterations", 500, lower_bound=1, help="Critic updates per training (Mallasto et al.: 500).")
flags.DEFINE_integer("batch_size", 64, lower_bound=1, help="Mini-batch size (Mallasto et al.: 64).")
flags.DEFINE_integer("eval_batches", 1, lower_bound=1,
                     help="Fresh batch pairs on which each trained critic is evaluated.")
flags.DEFINE_string("cifar_path", str(PROJECT_ROOT.parent / "shared" / "data" / "cifar10_subset.npz"),
                    "npz with x_train uint8 [N, 32, 32, 3].")
flags.DEFINE_string("second", "half", "CIFAR-10's second distribution: half (the other half) or noise:STD.")
flags.DEFINE_enum("cifar_critic", "mlp", ["mlp", "conv"],
                  "Critic for CIFAR-10 (the 2-D data always use mlp; see bwgan_tf.lab.estimation.build_critic).")
flags.DEFINE_integer("width", 128, lower_bound=1, help="Critic width (mlp units; conv base channels).")
flags.DEFINE_float("learning_rate", None, "Override: RMSProp 5e-5 (clipping) / Adam 1e-4 (others) by default.")
flags.DEFINE_integer("seed", 0, "Seed of critics, batches and the CIFAR split.")
flags.DEFINE_bool("jit_compile", True, "Compile train steps with XLA.")
flags.DEFINE_string("output", None, "Write the JSON results here (atomically).")
flags.DEFINE_list("parallel_lines", None, "Instead: WGAN Example 1 for these theta values (e.g. -1,-0.5,0,0.5,1) "
                  "with each of --methods (--iterations default 500 applies; Adam lr 1e-3 unless --learning_rate).")


def main(argv):
    if len(argv) > 1:
        raise cli.usage_error(f"unexpected arguments: {' '.join(argv[1:])}")
    unknown = [d for d in FLAGS.datasets if d not in DATASETS]
    if unknown or not FLAGS.datasets:
        raise ValueError(f"--datasets: unknown {', '.join(unknown) or '(none given)'}; known: {', '.join(DATASETS)}")
    if FLAGS.output:
        files.check_output(FLAGS.output, "--output")
    from bwgan_tf.lab import estimation, pairs  # after the cheap checks: those exit before TensorFlow loads

    bad = [m for m in FLAGS.methods if m not in estimation.METHODS]
    if bad or not FLAGS.methods:
        raise ValueError(f"--methods: unknown {', '.join(bad) or '(none given)'}; "
                         f"known: {', '.join(estimation.METHODS)}")
    methods = [estimation.make_method(m, space=FLAGS.space, lam=FLAGS.lam, gamma=FLAGS.gamma, clip=FLAGS.clip,
                                      c_transform_space=FLAGS.c_transform_space, scale_output=FLAGS.scale_output)
               for m in FLAGS.methods]
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    results = {"command": " ".join(["python", "tools/estimate_wasserstein.py"] + sys.argv[1:]), "tables": []}
    if FLAGS.parallel_lines:
        try:
            thetas = [float(t) for t in FLAGS.parallel_lines]
        except ValueError:
            raise ValueError(f"--parallel_lines must be numbers, got {','.join(FLAGS.parallel_lines)}") from None
        print("| method | theta | critic estimate | exact batch W1 | W = abs(theta) | JS |\n|---|---|---|---|---|---|")
        for method in methods:
            rows = estimation.parallel_lines(thetas, method, iterations=FLAGS.iterations, batch_size=FLAGS.batch_size,
                                             eval_batches=FLAGS.eval_batches, width=FLAGS.width, seed=FLAGS.seed,
                                             learning_rate=FLAGS.learning_rate or 1e-3, jit_compile=FLAGS.jit_compile)
            for row in rows:
                print(f"| {method.name} | {row['theta']:g} | {row['estimate']:.4f} | {row['exact_batch']:.4f} | "
                      f"{row['wasserstein']:.4f} | {row['js']:.4f} |", flush=True)
            results["tables"].append({"example": "parallel_lines", "method": method.name, "rows": rows})
        _write(results)
        return
    jobs = []
    for dataset in FLAGS.datasets:
        if dataset == "gaussians":
            jobs.append((pairs.gaussians_pair(1.0), "mlp"))
        else:
            images = pairs.load_cifar_images(FLAGS.cifar_path)
            jobs.append((pairs.cifar_pair(images, FLAGS.second, seed=FLAGS.seed), FLAGS.cifar_critic))
    for pair, critic in jobs:
        table = estimation.run_protocol(pair, methods, repeats=FLAGS.repeats, iterations=FLAGS.iterations,
                                        batch_size=FLAGS.batch_size, eval_batches=FLAGS.eval_batches, critic=critic,
                                        width=FLAGS.width, learning_rate=FLAGS.learning_rate, seed=FLAGS.seed,
                                        jit_compile=FLAGS.jit_compile, log=log)
        results["tables"].append(table)
        print(estimation.format_table(table) + "\n", flush=True)
    _write(results)


def _write(results):
    if FLAGS.output:
        files.write_text_atomically(FLAGS.output, json.dumps(results, indent=1))


if __name__ == "__main__":
    cli.run(main)
