"""A small CIFAR-10 classifier whose features stand in for Inception where its weights are missing.

tools/train_classifier.py trains it on an .npz of labelled images and saves it as one .keras file; then
features.keras_extractor (--classifier=PATH) uses its 'features' layer and logits. Its results are named
after it (cs/fd/kd<N>_<name>), never IS/FID/KID.
"""
import os
import sys
import time

import numpy as np
import tensorflow as tf

from bwgan_tf import checks
from bwgan_tf.io import files, progress


def build_classifier(image_shape=(32, 32, 3), *, num_classes=10, width=32, feature_dim=128, seed=0) -> tf.keras.Model:
    """A small conv net: 3 stages of two 3x3 convs (width, 2w, 4w), global average pool, a Dense layer named
    'features' [N, feature_dim] and logits [N, num_classes] (no softmax). Inputs in [-1, 1]."""
    width, feature_dim = checks.positive_int(width, "width"), checks.positive_int(feature_dim, "feature_dim")
    num_classes = checks.integer(num_classes, "num_classes", minimum=2)
    init = tf.keras.initializers.GlorotUniform
    inputs = tf.keras.Input(image_shape)
    x = inputs
    for stage, mult in enumerate((1, 2, 4)):
        for j in range(2):
            x = tf.keras.layers.Conv2D(width * mult, 3, padding="same", strides=2 if (j == 1 and stage < 2) else 1,
                                       kernel_initializer=init(seed + 2 * stage + j))(x)
            x = tf.keras.layers.BatchNormalization()(x)
            x = tf.keras.layers.ReLU()(x)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    x = tf.keras.layers.Dense(feature_dim, activation="relu", name="features", kernel_initializer=init(seed + 10))(x)
    logits = tf.keras.layers.Dense(num_classes, name="logits", kernel_initializer=init(seed + 11))(x)
    return tf.keras.Model(inputs, logits, name="classifier")


def load_labelled_npz(path):
    """(x_train, y_train, x_test, y_test) from an .npz with x_*/y_* arrays; images as float32 in [-1, 1].

    Uses x_train/x_test when present; otherwise the first x_<split> is split 90/10 into train and test."""
    with files.open_npz(path, "--data") as data:
        arrays = {k: data[k] for k in data.files}
    splits = sorted(k[2:] for k in arrays if k.startswith("x_") and f"y_{k[2:]}" in arrays)
    if not splits:
        raise ValueError(f"--data: {path!r} has no matching x_<split>/y_<split> arrays; keys are {sorted(arrays)}")

    def images(x):
        x = np.asarray(x)
        if x.ndim == 3:
            x = x[..., None]
        return x.astype(np.float32) / 127.5 - 1.0 if x.dtype == np.uint8 else x.astype(np.float32)

    if "train" in splits and "test" in splits:
        return (images(arrays["x_train"]), arrays["y_train"].reshape(-1).astype(np.int64),
                images(arrays["x_test"]), arrays["y_test"].reshape(-1).astype(np.int64))
    x, y = images(arrays[f"x_{splits[0]}"]), arrays[f"y_{splits[0]}"].reshape(-1).astype(np.int64)
    cut = int(0.9 * len(x))
    return x[:cut], y[:cut], x[cut:], y[cut:]


class EpochProgress(tf.keras.callbacks.Callback):
    """One line per epoch on `stream` (default stderr): loss, accuracy, time so far and the ETA."""

    def __init__(self, epochs, stream=None):
        super().__init__()
        self.epochs, self.stream = epochs, stream or sys.stderr

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs, elapsed = logs or {}, time.perf_counter() - self.start
        eta = elapsed / (epoch + 1) * (self.epochs - epoch - 1)
        self.stream.write(f"classifier: epoch {epoch + 1}/{self.epochs}, loss {logs.get('loss', float('nan')):.4f}, "
                          f"accuracy {logs.get('accuracy', float('nan')):.4f} ({progress.duration(elapsed)}, "
                          f"ETA {progress.duration(eta)})\n")
        self.stream.flush()


def train_classifier(path, *, epochs=12, batch_size=128, width=32, feature_dim=128, learning_rate=2e-3,
                     max_train=None, max_test=None, seed=0, verbose=0, progress_stream=None):
    """Trains build_classifier on an .npz of labelled images (random flips); returns (model, test_accuracy).
    A line per epoch goes to progress_stream (default stderr)."""
    epochs, batch_size = checks.positive_int(epochs, "epochs"), checks.positive_int(batch_size, "batch_size")
    x_train, y_train, x_test, y_test = load_labelled_npz(path)
    if max_train:
        x_train, y_train = x_train[:max_train], y_train[:max_train]
    if max_test:
        x_test, y_test = x_test[:max_test], y_test[:max_test]
    num_classes = int(max(y_train.max(), y_test.max() if len(y_test) else 0)) + 1
    tf.keras.utils.set_random_seed(seed)
    model = build_classifier(x_train.shape[1:], num_classes=max(num_classes, 2), width=width,
                             feature_dim=feature_dim, seed=seed)
    steps = epochs * int(np.ceil(len(x_train) / batch_size))
    schedule = tf.keras.optimizers.schedules.CosineDecay(learning_rate, steps)
    model.compile(optimizer=tf.keras.optimizers.Adam(schedule),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    flip = tf.keras.layers.RandomFlip("horizontal", seed=seed)
    train = (tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(len(x_train), seed=seed)
             .batch(batch_size).map(lambda x, y: (flip(x, training=True), y)))
    model.fit(train, epochs=epochs, verbose=verbose, callbacks=[EpochProgress(epochs, progress_stream)])
    _, accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    return model, float(accuracy)


def save_classifier(model, path) -> str:
    """Saves a Keras model atomically (temp file + os.replace) as a single .keras file; returns the path."""
    path = os.fspath(path)
    if not path.endswith(".keras"):
        raise ValueError(f"--output: the classifier path must end with .keras, got {path!r}")
    with files.atomic_path(path) as tmp:
        model.save(tmp)
    return path
