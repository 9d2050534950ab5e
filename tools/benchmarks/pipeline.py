"""Pipeline throughput: CIFAR-sized images/s out of bwgan_tf.data.load (batches of 64, after warm-up).

Sources: npz (the real CIFAR-10 subset in ../shared/data when present, else generated uint8 arrays in a
temporary .npz), TFDS cifar10 under tfds.testing.mock_data (measures the pipeline around a mocked reader, whose
Python example generator is itself the bottleneck), and toy:8gaussians for reference. The training step consumes
64 x n_critic images per generator step; compare with tools/benchmarks/train_step.py.
"""
import os
import pathlib
import tempfile
import time

import numpy as np

from bwgan_tf import data

BATCH = 64
CIFAR_SUBSET = pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cifar10_subset.npz"


def _images_per_s(dataset, warmup: int, batches: int) -> float:
    iterator = iter(dataset)
    for _ in range(warmup):
        next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator).numpy()
    return batches * BATCH / (time.perf_counter() - start)


def run(quick: bool = False) -> dict:
    warmup, batches = (5, 20) if quick else (20, 300)
    result = {"batch_size": BATCH, "batches_timed": batches}
    with tempfile.TemporaryDirectory() as tmp:
        if CIFAR_SUBSET.is_file():
            path, result["npz_source"] = str(CIFAR_SUBSET), "real CIFAR-10 subset"
        else:
            path = os.path.join(tmp, "cifar_like.npz")
            rng = np.random.default_rng(0)
            np.savez(path, x_train=rng.integers(0, 256, (5000, 32, 32, 3), dtype=np.uint8))
            result["npz_source"] = "generated uint8 [5000, 32, 32, 3]"
        rate = _images_per_s(data.load(f"npz:{path}", batch_size=BATCH), warmup, batches)
        result["npz_images_per_s"] = round(rate, 1)

    import tensorflow_datasets as tfds
    with tfds.testing.mock_data(num_examples=2000):
        # past the shuffle buffer
        rate = _images_per_s(data.load("cifar10", batch_size=BATCH), warmup, 50 if quick else 200)
    result["mock_tfds_cifar10_images_per_s"] = round(rate, 1)

    # the same TFDS code path with an in-memory reader: what the pipeline itself costs around a fast reader
    images = np.random.default_rng(1).integers(0, 256, (5000, 32, 32, 3), dtype=np.uint8)

    def as_dataset(self, *args, **kwargs):
        import tensorflow as tf
        return tf.data.Dataset.from_tensor_slices({"image": images, "label": np.zeros(len(images), np.int64)})

    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        rate = _images_per_s(data.load("cifar10", batch_size=BATCH), warmup, 50 if quick else 200)
    result["tfds_cifar10_in_memory_reader_images_per_s"] = round(rate, 1)
    result["toy_8gaussians_images_per_s"] = round(_images_per_s(data.load("toy:8gaussians", batch_size=BATCH),
                                                                warmup, batches), 1)
    return result


if __name__ == "__main__":
    import json
    print(json.dumps(run(quick=bool(os.environ.get("QUICK")))))
