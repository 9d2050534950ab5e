"""ResNet generator and critic of Adler & Lunz 2018, appendix B (the WGAN-GP CIFAR-10 ResNet, Gulrajani et al. 2017).

Residual block: nonlinearity + conv + nonlinearity + conv, plus a shortcut (1x1 conv where the shape changes).
Generator: z -> dense 4x4xW -> up-sampling blocks to the image size -> BN, ReLU, 3x3 conv, tanh; batch norm before
each nonlinearity. Critic: an optimised first block (conv, ReLU, conv, mean-pool; shortcut mean-pool + 1x1 conv),
down-sampling blocks to 8x8, two plain blocks, ReLU, spatial mean, dense; no batch norm. He-uniform convs,
Glorot-uniform shortcuts. 32x32: 3 blocks on each side; 64x64 (CelebA): 4.
"""
import tensorflow as tf

from bwgan_tf.models.layers import Initializers, NearestUpsample2D, critic_normalization, doublings_from_4x4, mean_pool

layers = tf.keras.layers


def _num_up_blocks(image_shape) -> int:
    return doublings_from_4x4(image_shape, "the ResNet", "32x32 CIFAR-10, 64x64 CelebA")


def _conv(init, filters, size, name):
    return layers.Conv2D(filters, size, padding="same", kernel_initializer=init, name=name)


def generator(image_shape=(32, 32, 3), latent_dim=128, width=128, batch_norm=True, seed=0) -> tf.keras.Model:
    init = Initializers(seed)
    z = tf.keras.Input([latent_dim], name="z")
    x = layers.Dense(4 * 4 * width, kernel_initializer=init.glorot(), name="project")(z)
    x = layers.Reshape([4, 4, width])(x)

    def norm(h, name):
        return layers.BatchNormalization(name=name)(h) if batch_norm else h

    for i in range(_num_up_blocks(image_shape)):
        name = f"up{i}"
        shortcut = _conv(init.glorot(), width, 1, f"{name}_shortcut")(NearestUpsample2D()(x))
        h = layers.ReLU()(norm(x, f"{name}_bn1"))
        h = _conv(init.he(), width, 3, f"{name}_conv1")(NearestUpsample2D()(h))
        h = layers.ReLU()(norm(h, f"{name}_bn2"))
        h = _conv(init.he(), width, 3, f"{name}_conv2")(h)
        x = layers.Add()([shortcut, h])
    x = layers.ReLU()(norm(x, "out_bn"))
    x = _conv(init.he(), image_shape[-1], 3, "out_conv")(x)
    return tf.keras.Model(z, layers.Activation("tanh", dtype="float32")(x), name="resnet_generator")


def critic(image_shape=(32, 32, 3), width=128, normalization=None, seed=0) -> tf.keras.Model:
    init = Initializers(seed)
    n_up = _num_up_blocks(image_shape)
    images = tf.keras.Input(image_shape, name="images")

    def norm(h, name):
        layer = critic_normalization(normalization, name=name)
        return layer(h) if layer is not None else h

    # Optimised first block: conv, ReLU, conv, mean-pool; shortcut mean-pool then 1x1 conv.
    shortcut = _conv(init.glorot(), width, 1, "block0_shortcut")(mean_pool(images))
    h = _conv(init.he(), width, 3, "block0_conv1")(images)
    h = layers.ReLU()(norm(h, "block0_norm"))
    h = mean_pool(_conv(init.he(), width, 3, "block0_conv2")(h))
    x = layers.Add()([shortcut, h])
    # Down-sampling blocks to 8x8, then two plain blocks.
    for i in range(1, n_up + 1):
        down = i <= n_up - 2
        name = f"block{i}"
        shortcut = _conv(init.glorot(), width, 1, f"{name}_shortcut")(mean_pool(x)) if down else x
        h = layers.ReLU()(norm(x, f"{name}_norm1"))
        h = _conv(init.he(), width, 3, f"{name}_conv1")(h)
        h = layers.ReLU()(norm(h, f"{name}_norm2"))
        h = _conv(init.he(), width, 3, f"{name}_conv2")(h)
        x = layers.Add()([shortcut, mean_pool(h) if down else h])
    x = layers.GlobalAveragePooling2D()(layers.ReLU()(x))
    score = layers.Dense(1, kernel_initializer=init.glorot(), name="score", dtype="float32")(x)
    return tf.keras.Model(images, layers.Reshape([])(score), name="resnet_critic")
