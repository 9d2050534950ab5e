"""Generated images for the metrics: a Sampler draws latents statelessly (bwgan_tf.latents), so samples depend on
(seed, index) only."""
import os

import tensorflow as tf

from bwgan_tf import checks, latents

_Z_CHUNK = 500  # latent vectors are drawn in fixed chunks so samples do not depend on the batch size


class Sampler:
    """Images from a generator: `generate(z [B, latent_dim]) -> images [B, ...]` in [-1, 1].

    `batches(num, batch_size, seed)` draws z ~ N(0, I) statelessly in fixed chunks of 500, so the samples
    depend on (seed, index) only, not on the batch size. `description` says which generator it is (a dict that
    evaluation records carry; bwgan_tf.runs.generators sets it), None when unknown."""

    def __init__(self, generate, latent_dim, name="generator", description=None):
        self.generate = generate
        self.latent_dim = checks.positive_int(latent_dim, "latent_dim")
        self.name = name
        self.description = description

    def latents(self, num, batch_size, seed):
        num, batch_size = checks.positive_int(num, "num_samples"), checks.positive_int(batch_size, "batch_size")
        chunk, chunk_index, pos = None, -1, 0
        for start in range(0, num, batch_size):
            need, parts = min(batch_size, num - start), []
            while need:
                if chunk is None or pos == _Z_CHUNK:
                    chunk_index += 1
                    chunk = latents.keyed(int(seed), chunk_index, _Z_CHUNK, self.latent_dim)
                    pos = 0
                take = min(need, _Z_CHUNK - pos)
                parts.append(chunk[pos:pos + take])
                pos, need = pos + take, need - take
            yield tf.concat(parts, 0)

    def batches(self, num, batch_size=100, seed=0):
        for z in self.latents(num, batch_size, seed):
            yield tf.convert_to_tensor(self.generate(z), tf.float32)


def as_sampler(source, latent_dim=None) -> Sampler:
    """A Sampler from a WassersteinGAN (its ema_generator), a generator keras.Model (+ latent_dim, else its
    input width), an exported SavedModel (path or loaded; its `generate` signature {z} -> {images}; latent_dim
    from z's shape or bwgan_tf.export's `latent` signature), or a callable z -> images with latent_dim."""
    if isinstance(source, Sampler):
        return source
    if hasattr(source, "ema_generator") and hasattr(source, "latent_dim"):
        generator = source.ema_generator
        return Sampler(lambda z: generator(z, training=False), latent_dim or source.latent_dim, "ema_generator")
    if isinstance(source, tf.keras.Model):
        latent_dim = latent_dim or source.input_shape[-1]
        return Sampler(lambda z: source(z, training=False), latent_dim, source.name)
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isdir(path):
            raise ValueError(f"--saved_model: no SavedModel folder at {path!r}")
        source = tf.saved_model.load(path)
    signatures = getattr(source, "signatures", None)
    if signatures is not None:
        if "generate" not in signatures:
            raise ValueError(f"--saved_model: the SavedModel has no 'generate' signature; it has {list(signatures)}")
        signature = signatures["generate"]
        latent_dim = latent_dim or signature.structured_input_signature[1]["z"].shape[-1]
        info = signatures["latent"]() if "latent" in signatures else {}
        if latent_dim is None and "latent_dim" in info:  # bwgan_tf.export: z is [None, None], `latent` says
            latent_dim = int(info["latent_dim"])
        rows = int(info["max_samples"]) if "max_samples" in info else None  # the most rows `generate` takes

        def generate(z):
            if rows is None or z.shape[0] <= rows:
                return signature(z=z)["images"]
            return tf.concat([signature(z=z[i:i + rows])["images"] for i in range(0, z.shape[0], rows)], 0)

        generate.keep_alive = source
        return Sampler(generate, latent_dim, "saved_model")
    if callable(source) and latent_dim:
        return Sampler(source, latent_dim, getattr(source, "__name__", "generator"))
    raise ValueError("source must be a WassersteinGAN, a generator keras.Model, a SavedModel with a 'generate' "
                     f"signature, or a callable with latent_dim; got {type(source).__name__}")
