"""bwgan_tf: Banach Wasserstein GANs (Adler & Lunz 2018) and the WGAN family in TensorFlow 2 / Keras."""

__version__ = "0.1.0"


def __getattr__(name):
    # Imported lazily so that `import bwgan_tf.spaces` does not build the Keras model machinery.
    if name == "WassersteinGAN":
        from bwgan_tf.gan import WassersteinGAN
        return WassersteinGAN
    raise AttributeError(f"module 'bwgan_tf' has no attribute {name!r}")
