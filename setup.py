"""bwgan_tf: Banach Wasserstein GANs in TensorFlow 2 / Keras."""
import setuptools

INSTALL_REQUIRES = [
    # TF-GAN imports tf.estimator, removed in TF 2.16: stay on 2.15.
    "tensorflow>=2.15,<2.16",
    "tf-keras>=2.15,<2.16",
    "tensorflow-gan==2.1.0",
    "tensorflow-probability>=0.23,<0.24",
    "tensorflow-datasets==4.9.4",
    # Newer metadata needs protobuf >= 4.21, which TF 2.15 refuses.
    "tensorflow-metadata>=1.14,<1.15",
    "tensorflow-hub==0.16.1",
    "numpy>=1.23,<2",
    "scipy>=1.10",
    "absl-py>=1.4",
    "pillow>=9",
    # plots of studies and runs (Agg backend, no display)
    "matplotlib>=3.7,<3.9",
]

setuptools.setup(
    name="bwgan_tf",
    version="0.1.0",
    description="Banach Wasserstein GANs (Adler & Lunz 2018) and the WGAN family in TensorFlow 2 / Keras",
    packages=setuptools.find_packages(include=["bwgan_tf", "bwgan_tf.*"]),
    python_requires=">=3.9,<3.12",
    install_requires=INSTALL_REQUIRES,
    extras_require={"test": ["pytest>=7", "pytest-xdist>=3"], "dev": ["ruff>=0.5"]},
)
