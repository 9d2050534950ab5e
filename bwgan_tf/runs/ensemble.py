"""An ensemble of generators as one generator (the Table 4 protocol of Adler & Lunz 2018: 5 SGDR snapshots).

Sample i comes from member m(z_i) = Fingerprint64(the float32 bit patterns of z_i) mod N: a deterministic
function of the latent vector, uniform over the members for z ~ N(0, I) and, as a hash of all the bits, as good
as independent of z's distribution, so the ensemble is the uniform mixture of its members. Because the member
depends on z only, an export's `generate(z)` and `serving_default(num_samples, seed)` agree as for one generator,
and seed k (z keyed by (k, 0)) always gives member m(z_k)'s image G_m(z_k).
"""
from typing import Sequence

import tensorflow as tf


def member_index(z, num_members: int) -> tf.Tensor:
    """int32 [N]: the member of each latent vector z [N, latent_dim] (Fingerprint64 of its bits mod num_members)."""
    bits = tf.strings.as_string(tf.bitcast(tf.cast(z, tf.float32), tf.int32))
    keys = tf.strings.reduce_join(bits, axis=-1, separator=",")
    return tf.cast(tf.strings.to_hash_bucket_fast(keys, num_members), tf.int32)


class _ByMember(tf.keras.layers.Layer):
    """Routes each latent vector to its member (dynamic_partition) and puts the images back in order."""

    def __init__(self, members: Sequence[tf.keras.Model], **kwargs):
        super().__init__(**kwargs)
        self.members = list(members)
        self.image_shape = tuple(members[0].output_shape[1:])

    def call(self, z):
        count = len(self.members)
        index = member_index(z, count)
        parts = tf.dynamic_partition(z, index, count)
        positions = tf.dynamic_partition(tf.range(tf.shape(z)[0]), index, count)
        outputs = [tf.cast(member(part, training=False), tf.float32) for member, part in zip(self.members, parts)]
        return tf.ensure_shape(tf.dynamic_stitch(positions, outputs), (None, *self.image_shape))


def ensemble_generator(members: Sequence[tf.keras.Model], name: str = "ensemble") -> tf.keras.Model:
    """One keras.Model z [N, latent_dim] -> images [N, ...] (float32, inference mode) whose sample i is
    members[member_index(z)[i]](z_i). Members must share latent_dim and output shape."""
    members = list(members)
    if not members:
        raise ValueError("members must hold at least one generator, got none")
    shapes = {(tuple(m.input_shape[1:]), tuple(m.output_shape[1:])) for m in members}
    if len(shapes) != 1:
        raise ValueError(f"members must share their input and output shapes, got {sorted(shapes)}")
    z = tf.keras.Input(members[0].input_shape[1:], name="z")
    return tf.keras.Model(z, _ByMember(members, name="by_member")(z), name=name)
