"""bwgan_tf: Banach Wasserstein GANs in TensorFlow 2 / Keras."""
import setuptools

# What every stack needs; requirements/<stack>.txt pins each stack's versions (BUILD_NOTES.md).
INSTALL_REQUIRES = [
    "tensorflow>=2.15,<2.22",
    "tensorflow-datasets>=4.9.4",
    "numpy>=1.23",
    "scipy>=1.10",
    "absl-py>=1.4",
    "pillow>=9",
    # plots of studies and runs (Agg backend, no display)
    "matplotlib>=3.7",
]

EXTRAS_REQUIRE = {
    # TF 2.16-2.21, Keras 3 as tf.keras; the package's own IS / FID / KID / SWD estimators
    "current": ["tensorflow>=2.16,<2.22", "keras>=3.3", "tensorboard>=2.16", "numpy>=1.26"],
    # TF 2.15, Keras 2; TF-GAN's estimators (TF-GAN 2.1.0 imports tf.estimator, removed in TF 2.16)
    "classic": ["tensorflow>=2.15,<2.16", "tf-keras>=2.15,<2.16", "tensorboard>=2.15,<2.16", "tensorflow-gan==2.1.0",
                "tensorflow-probability>=0.23,<0.24", "tensorflow-datasets==4.9.4", "tensorflow-metadata>=1.14,<1.15",
                "tensorflow-hub==0.16.1", "numpy<2", "matplotlib<3.9"],
    "test": ["pytest>=7", "pytest-xdist>=3"],
    "dev": ["ruff>=0.5"],
}

setuptools.setup(
    name="bwgan_tf",
    version="0.1.0",
    description="Banach Wasserstein GANs (Adler & Lunz 2018) and the WGAN family in TensorFlow 2 / Keras",
    packages=setuptools.find_packages(include=["bwgan_tf", "bwgan_tf.*"]),
    # tested: 3.11 on both stacks, 3.12 and 3.13 on the current one (BUILD_NOTES.md); TF 2.15 stops at 3.11
    python_requires=">=3.10,<3.14",
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS_REQUIRE,
)
