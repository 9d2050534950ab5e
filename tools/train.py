"""Train a Wasserstein GAN: a paper preset, overridden by any flag; the run directory resumes after a kill.

  python tools/train.py --preset=cifar10_l10 --output_dir=runs/cifar10_l10
  python tools/train.py --preset=toy_8gaussians --steps=2000 --output_dir=runs/toy
  python tools/train.py --dataset=npz:../shared/data/cifar10_subset.npz --space=sobolev:s=-1.5,p=2 \\
      --width=32 --steps=200 --output_dir=runs/subset
  python tools/train.py --output_dir=runs/cifar10_l10 --resume           # continue with the saved settings
  python tools/train.py --flagfile=configs/cifar10_l10.flags --dry_run   # print the resolved settings, train nothing

Every setting of bwgan_tf.train.TrainConfig is a flag of the same name (--helpfull lists them with defaults).
Exit codes: 2 bad flags (or flags that differ from an existing run's, or a run directory another trainer holds);
3 a NaN/inf training scalar stopped the run (the last good checkpoint is kept); 4 (--strategy=multi_worker) a peer
worker died or did not answer within --collective_timeout; 130 / 143 SIGINT / SIGTERM stopped it after saving a
checkpoint at the step reached (continue with --resume; in a multi-worker run a signal to any worker stops all).
"""
import json
import sys

from absl import flags

import bwgan_tf.io.cli as cli

from bwgan_tf import train
from bwgan_tf.train import config as config_lib
from bwgan_tf.train import resume
from bwgan_tf.train import run_dir as run_dir_lib

FLAGS = flags.FLAGS
config_lib.define_flags(FLAGS)
for _name in config_lib.names():
    flags.declare_key_flag(_name)  # listed by --helpshort
flags.DEFINE_boolean("resume", False, "Continue the run in --output_dir with its saved settings (flags given "
                                      "here override the saved ones that may change, e.g. --steps).")
flags.DEFINE_boolean("dry_run", False, "Print the full resolved configuration (lambda and gamma included; an "
                                       "existing run's saved one) and exit without training or writing anything.")
flags.DEFINE_integer("virtual_cpus", 0, "Split the CPU into this many logical devices (to try --strategy=mirrored "
                                        "without GPUs).", lower_bound=0)
flags.mark_flag_as_required("output_dir")


def config_from_flags() -> train.TrainConfig:
    """The run's config: the preset (or, with --resume, the saved run) overridden by the flags given. With --resume
    and --preset (the original command repeated), the preset's settings are compared with the saved ones, so only
    real differences are refused."""
    given = config_lib.given_flags(FLAGS)
    if FLAGS.resume:
        if not run_dir_lib.exists(FLAGS.output_dir):
            raise ValueError(f"--output_dir: {FLAGS.output_dir!r} holds no run to resume (no config.json); start a "
                             "run there without --resume, or give the folder of an existing run")
        if "preset" in given:
            return train.make_config(given.pop("preset"), **given)
        return train.read_config(FLAGS.output_dir).replace(**given)
    return train.make_config(given.pop("preset", None), **given)


def main(argv):
    if len(argv) > 1:
        raise cli.usage_error(f"unexpected arguments: {' '.join(argv[1:])}")
    if FLAGS.virtual_cpus:
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * FLAGS.virtual_cpus)
    try:
        if FLAGS.dry_run:
            config, unresolved = resume.resolved(config_from_flags())
            print(json.dumps(config.to_dict(), indent=2, sort_keys=True))
            auto = [f"{name}" for name in ("lam", "gamma") if getattr(config, name) == "auto"]
            if unresolved and auto:
                print(f"dry run: {' and '.join(auto)} stay 'auto' (the section 3.2 heuristic reads 2,000 real images "
                      f"when the run starts): {unresolved}", file=sys.stderr)
            return
        run_dir = train.train(config_from_flags())
    except (ValueError, train.RunDirectoryBusy) as error:  # messages start with the setting, the flag's name
        message = str(error)
        raise cli.usage_error(f"--{message}" if message.split()[0].rstrip(":") in config_lib.names() else message
                              ) from error
    except train.NonFiniteLossError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(3)
    except train.WorkerLost as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(4)
    except train.TrainingInterrupted as stopped:
        sys.exit(stopped.exit_code)  # the loop printed where it stopped and how to continue
    print(f"run directory: {run_dir}")


if __name__ == "__main__":
    cli.run(main)
