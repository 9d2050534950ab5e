"""Evaluation throughput: images/s through the small classifier, the standard FID network (float32 and bfloat16,
interleaved so that load hits both alike) with the seconds a 10k-sample FID takes, and TF-GAN's TF-Hub Inception
where present.

run(quick) -> dict of JSON-serialisable numbers; used by tools/benchmark.py --suites=evaluation. The TF-Hub module is
loaded from the folder in the environment variable BWGAN_INCEPTION, else from the TF-Hub cache (TFHUB_CACHE_DIR);
when a network is absent the result says so and why, and no number is invented.
"""
import os
import time

import tensorflow as tf

from bwgan_tf import metrics


def _images_per_s(extractor, batch, repeats):
    extractor(batch)  # trace and warm up
    start = time.perf_counter()
    for _ in range(repeats):
        extractor(batch)
    return repeats * len(batch) / (time.perf_counter() - start)


def run(quick: bool = False) -> dict:
    batch_size, repeats = (32, 2) if quick else (250, 20)
    images = tf.random.stateless_uniform([batch_size, 32, 32, 3], seed=[0, 0], minval=-1.0, maxval=1.0)
    result = {"batch_size": batch_size, "images_timed": batch_size * repeats}
    classifier = metrics.keras_extractor(metrics.build_classifier((32, 32, 3), seed=0), name="cifar_classifier")
    result["classifier_images_per_s"] = round(_images_per_s(classifier, images, repeats), 1)

    # the whole streamed path (tiny generator -> classifier features -> FD and classifier score)
    generator = tf.keras.Sequential([tf.keras.Input((16,)), tf.keras.layers.Dense(32 * 32 * 3, activation="tanh"),
                                     tf.keras.layers.Reshape((32, 32, 3))])
    num = batch_size * repeats
    reference = metrics.reference_statistics([images.numpy()] * repeats, classifier, num=num, kid_samples=0)
    start = time.perf_counter()
    metrics.evaluate(generator, metrics=("is", "fid"), num_samples=num, extractor=classifier,
                        reference_stats=reference, batch_size=batch_size)
    result["evaluate_classifier_images_per_s"] = round(num / (time.perf_counter() - start), 1)
    result["evaluate_classifier_seconds_per_50k"] = round(50_000 / result["evaluate_classifier_images_per_s"], 1)

    result.update(_fid_network(quick))
    try:
        inception = metrics.inception_extractor(os.environ.get("BWGAN_INCEPTION"))
    except metrics.InceptionUnavailableError as error:
        result["inception"] = "unavailable"
        result["inception_reason"] = str(error).split(". ")[0]
        return result
    small = images[: (8 if quick else 50)]
    rate = _images_per_s(inception, small, 1 if quick else 4)
    result.update(inception="available", inception_images_per_s=round(rate, 1),
                  inception_seconds_per_50k=round(50_000 / rate, 1))
    return result


def _fid_network(quick: bool) -> dict:
    """images/s of the FID network in float32 and bfloat16 on real-sized CIFAR batches (32x32 -> 299x299)."""
    try:
        extractors = {p: metrics.fid_extractor(precision=p) for p in ("float32", "bfloat16")}
    except ValueError as error:  # not set up: `make inception`
        return {"fid_network": "unavailable", "fid_network_reason": str(error).split(";")[0]}
    batch = tf.random.stateless_uniform([10 if quick else 50, 32, 32, 3], seed=[1, 0], minval=-1.0, maxval=1.0)
    seconds = dict.fromkeys(extractors, 0.0)
    for extractor in extractors.values():
        extractor(batch)  # trace and warm up
    for _ in range(1 if quick else 4):
        for precision, extractor in extractors.items():
            start = time.perf_counter()
            extractor(batch)
            seconds[precision] += time.perf_counter() - start
    timed = (1 if quick else 4) * len(batch)
    result = {"fid_network": "available"}
    for precision, total in seconds.items():
        rate = timed / total
        result[f"fid_network_{precision}_images_per_s"] = round(rate, 1)
        result[f"fid10k_{precision}_feature_seconds"] = round(10_000 / rate, 1)
    return result


if __name__ == "__main__":
    import json
    print(json.dumps(run(quick=True), sort_keys=True))
