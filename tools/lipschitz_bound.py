"""Diagnostic: an upper bound on a critic's l2 Lipschitz constant from per-layer operator norms.

Convolutions are bounded by the largest singular value over frequencies of their DFT matrices (circular
padding; zero-padded layers on the enlarged grid, so an upper bound), dense layers by their spectral norm,
skip connections by sums; layers it cannot bound (layer normalization) make the bound inf and are listed.
A gradient-penalty critic is only softly Lipschitz, so expect a bound far above 1 (a product of norms is loose).

  python tools/lipschitz_bound.py --run_dir=runs/cifar_l2          # the trained critic of a run
  python tools/lipschitz_bound.py --architecture=resnet --width=16   # a freshly initialised critic
  python tools/lipschitz_bound.py --verify    # DFT formula vs power iteration vs dense SVD, random kernels
"""
import json
import sys

from absl import flags

import bwgan_tf.io.cli as cli

from bwgan_tf.io import files

FLAGS = flags.FLAGS
flags.DEFINE_string("run_dir", None, "A training run directory (bwgan_tf.train.load_model).")
flags.DEFINE_string("checkpoint", None, "Checkpoint path inside --run_dir (default: the latest).")
flags.DEFINE_string("architecture", None, "Or: build a fresh critic with bwgan_tf.models.build_critic.")
flags.DEFINE_integer("image_size", 32, "Image height = width for --architecture.")
flags.DEFINE_integer("width", 128, "Critic width for --architecture.")
flags.DEFINE_integer("seed", 0, "Initialisation seed for --architecture.")
flags.DEFINE_bool("layers", False, "Also list every layer's factor.")
flags.DEFINE_integer("empirical", 64,
                     "Also report max ||dD(x)||_2 over this many uniform inputs (a lower bound); 0: skip.")
flags.DEFINE_bool("verify", False,
                  "Instead: check the DFT formula against power iteration and dense SVD on random kernels.")


def main(argv):
    if len(argv) > 1:
        raise cli.usage_error(f"unexpected arguments: {' '.join(argv[1:])}")
    if FLAGS.verify:
        from bwgan_tf.lab import spectral
        rows = spectral.verify_random_kernels()
        print("| kernel [kh, kw, C_in, C_out] | input | DFT formula | power iteration (200 steps) | dense SVD | "
              "DFT s | power s |")
        print("|---|---|---|---|---|---|---|")
        for r in rows:
            dense = "-" if r["dense_svd"] is None else f"{r['dense_svd']:.5f}"
            print(f"| {r['kernel']} | {r['input_hw']} | {r['dft']:.5f} | {r['power_iteration']:.5f} | {dense} | "
                  f"{r['dft_seconds']:.3f} | {r['power_seconds']:.2f} |")
        return
    if (FLAGS.run_dir is None) == (FLAGS.architecture is None):
        raise cli.usage_error("give exactly one of --run_dir and --architecture")
    from bwgan_tf.lab import lipschitz_bound

    if FLAGS.run_dir is not None:
        from bwgan_tf import train
        if not train.run_dir.exists(FLAGS.run_dir):
            raise ValueError(f"--run_dir: no config.json in {FLAGS.run_dir!r}")
        if FLAGS.checkpoint:
            files.check_checkpoint(FLAGS.checkpoint)
        model, _ = train.load_model(FLAGS.run_dir, checkpoint=FLAGS.checkpoint)
        critic, source = model.critic, FLAGS.run_dir
    else:
        from bwgan_tf import models
        critic = models.build_critic(FLAGS.architecture, image_shape=(FLAGS.image_size, FLAGS.image_size, 3),
                                     width=FLAGS.width, seed=FLAGS.seed)
        source = f"fresh {FLAGS.architecture} critic (width {FLAGS.width}, seed {FLAGS.seed})"
    report = lipschitz_bound.critic_lipschitz_bound(critic)
    if not FLAGS.layers:
        report.pop("layers")
    if FLAGS.empirical > 0:
        report["max_gradient_norm"] = lipschitz_bound.max_gradient_norm(critic, FLAGS.empirical, FLAGS.seed)
    report["critic"] = source
    json.dump(report, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    cli.run(main)
