"""The SavedModels committed under results/ load with plain TensorFlow and give the same samples (the uint8
images of serving_default) on both stacks (TF 2.15 / Keras 2 and TF 2.21 / Keras 3): bit for bit on the classic
stack, and on the current one up to the rounding of float values within FLOAT_TOLERANCE of a uint8 boundary (one
value of l10_paper_s1 differs by one). The float32 images of `generate` agree to FLOAT_TOLERANCE, not bit for bit:
TF 2.21's CPU kernels round differently from TF 2.15's (measured: at most 2.4e-7 apart, on about 64% of the values
of l2_f32_s0; TF_ENABLE_ONEDNN_OPTS=0 changes nothing). The fixture holds what the classic stack computed, for fixed
seeds and a fixed z; write_fixture() below wrote it (python -c "import tests.runs.test_committed_exports as t;
t.write_fixture()" with the classic venv's python)."""
import hashlib
import pathlib

import numpy as np
import pytest
import tensorflow as tf

from bwgan_tf import compat, latents
from bwgan_tf.io import images

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXPORTS = sorted(p.parent for p in (ROOT / "results").glob("*/exports/*/saved_model.pb"))
FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "committed_export_samples.npz"
SEEDS = (0, 7)
NUM = 3
FLOAT_TOLERANCE = 1e-6  # absolute, images in [-1, 1]


def key(export: pathlib.Path) -> str:
    return str(export.relative_to(ROOT)).replace("/", ":")


def compute(export: pathlib.Path) -> dict:
    """{name: array}: the uint8 images of serving_default for SEEDS, and the float32 images of `generate` for a fixed
    z (with the sha256 of their bytes)."""
    module = tf.saved_model.load(str(export))
    out = {}
    for seed in SEEDS:
        images = module.signatures["serving_default"](num_samples=tf.constant(NUM), seed=tf.constant(seed, tf.int64))
        out[f"seed{seed}"] = images["images"].numpy()
    latent_dim = int(module.signatures["latent"]()["latent_dim"])
    z = tf.random.stateless_normal([1, latent_dim], seed=[3, 4])
    floats = module.signatures["generate"](z=z)["images"].numpy()
    out["generate"] = floats
    out["generate_sha256"] = np.array(hashlib.sha256(floats.tobytes()).hexdigest())
    return out


def write_fixture():
    arrays = {f"{key(e)}/{name}": v for e in EXPORTS for name, v in compute(e).items()}
    np.savez_compressed(FIXTURE, tensorflow=tf.__version__, **arrays)


def test_the_committed_exports_are_found_and_in_the_fixture():
    assert len(EXPORTS) >= 5, EXPORTS
    with np.load(FIXTURE) as data:
        assert {k.split("/")[0] for k in data.files if "/" in k} == {key(e) for e in EXPORTS}


@pytest.mark.parametrize("export", EXPORTS, ids=lambda e: e.name)
def test_a_committed_export_gives_bit_identical_samples_on_this_stack(export):
    with np.load(FIXTURE) as data:
        expected = {name.split("/", 1)[1]: data[name] for name in data.files if name.startswith(key(export) + "/")}
    got = compute(export)
    assert sorted(got) == sorted(expected)
    module = tf.saved_model.load(str(export))
    latent_dim = int(module.signatures["latent"]()["latent_dim"])
    for seed in SEEDS:
        name = f"seed{seed}"
        assert got[name].dtype == expected[name].dtype == np.uint8 and got[name].shape == expected[name].shape
        if compat.stack_name() == "classic":  # the stack that wrote the fixture reproduces it bit for bit
            np.testing.assert_array_equal(got[name], expected[name], err_msg=name)
            continue
        # the samples are this stack's float images rounded, and those lie within FLOAT_TOLERANCE of the classic
        # stack's: a uint8 value may differ by one only where the float sits that close to a rounding boundary
        floats = module.signatures["generate"](z=latents.for_seed(seed, NUM, latent_dim))["images"].numpy()
        np.testing.assert_array_equal(got[name], images.to_uint8(floats), err_msg=name)
        scaled = np.clip((floats.astype(np.float64) + 1.0) * 127.5, 0.0, 255.0)
        assert np.abs(scaled - expected[name]).max() <= 0.5 + 127.5 * FLOAT_TOLERANCE, name
    np.testing.assert_allclose(got["generate"], expected["generate"], rtol=0, atol=FLOAT_TOLERANCE)
    if compat.stack_name() == "classic":
        assert got["generate_sha256"] == expected["generate_sha256"]
