"""Shared test fixtures: quiet TensorFlow, the real CIFAR-10 subset, the project root."""
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[1]
CIFAR_SUBSET = PROJECT_ROOT.parent / "shared" / "data" / "cifar10_subset.npz"


@pytest.fixture(scope="session")
def project_root() -> pathlib.Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def cifar_subset_path() -> pathlib.Path:
    """Path of ../shared/data/cifar10_subset.npz; skips the test with the reason when it is absent."""
    if not CIFAR_SUBSET.is_file():
        pytest.skip(f"real CIFAR-10 subset not found at {CIFAR_SUBSET} (it lives in ../shared/data beside the "
                    "checkout)")
    return CIFAR_SUBSET


@pytest.fixture(scope="session")
def cifar_images(cifar_subset_path):
    """The subset's training images as float32 NHWC in [-1, 1]."""
    import numpy as np
    with np.load(cifar_subset_path) as data:
        return data["x_train"].astype(np.float32) / 127.5 - 1.0
