"""Every difference between the two TensorFlow stacks the package runs on, in one place (BUILD_NOTES.md, "Keras 2 and
Keras 3"). The rest of the package calls these helpers and never asks which Keras it has.

* classic: TensorFlow <= 2.15, `tf.keras` is Keras 2 (tf-keras), tensorflow-gan and tensorboard installed;
* current: TensorFlow >= 2.16, `tf.keras` is Keras 3, no tensorflow-gan (it needs tf.estimator), tensorboard
  optional.
"""
import functools
import importlib
import importlib.metadata
import os
from typing import Optional

import tensorflow as tf

ESTIMATORS_ENV = "BWGAN_TF_ESTIMATORS"
ESTIMATOR_IMPLEMENTATIONS = ("own", "tfgan")


@functools.cache
def keras_version() -> str:
    """The version of the Keras that `tf.keras` is (keras, or tf_keras under TF_USE_LEGACY_KERAS=1)."""
    return importlib.import_module(tf.keras.__name__.split(".")[0]).__version__


KERAS3 = int(keras_version().split(".")[0]) >= 3


def stack_name(keras: Optional[str] = None) -> str:
    """'classic' for Keras 2 (TF <= 2.15), 'current' for Keras 3; of this process, or of a Keras version string."""
    return "current" if int((keras or keras_version()).split(".")[0]) >= 3 else "classic"


def stack() -> dict:
    """What a run directory and provenance record about the stack: name, tensorflow and keras versions, and the
    estimator implementation of the metrics."""
    return {"name": stack_name(), "tensorflow": tf.__version__, "keras": keras_version(),
            "estimators": estimators_implementation()}


# ------------------------------------------------------------------ optional packages
@functools.cache
def tfgan_import_error() -> Optional[str]:
    """None when `import tensorflow_gan` works, else why not, in one line (it is tried once)."""
    try:
        import tensorflow_gan  # noqa: F401
    except Exception as error:  # on TF >= 2.16 TF-GAN 2.1 fails with AttributeError (tf.estimator), not ImportError
        return f"{type(error).__name__}: {error}"
    return None


def estimators_implementation() -> str:
    """'tfgan' or 'own', the one choice of the metrics' estimators (IS, FID, KID, SWD): $BWGAN_TF_ESTIMATORS when
    set, else 'tfgan' where tensorflow_gan imports (classic), else 'own' (current)."""
    choice = os.environ.get(ESTIMATORS_ENV, "")
    if choice not in ("", *ESTIMATOR_IMPLEMENTATIONS):
        raise ValueError(f"{ESTIMATORS_ENV} must be 'own' or 'tfgan' (or unset: TF-GAN where it imports), got "
                         f"{choice!r}")
    if choice == "tfgan" and tfgan_import_error():
        raise ImportError(f"{ESTIMATORS_ENV}=tfgan, but tensorflow_gan does not import ({tfgan_import_error()})")
    return choice or ("own" if tfgan_import_error() else "tfgan")


TENSORBOARD_MISSING = ("tensorboard is not installed (TensorFlow >= 2.16 no longer installs it): the HParams table "
                       "is not written; `pip install tensorboard` to get it (the scalars and images are written "
                       "either way)")


@functools.cache
def hparams_api():
    """tensorboard's HParams summary API, or None when tensorboard is not installed."""
    try:
        from tensorboard.plugins.hparams import api
    except ImportError:
        return None
    return api


def optional_module(name: str):
    """The module, or None when it is not installed (tensorflow_hub is absent from TF >= 2.16 installs here)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _metadata(plugin: str):
    from tensorflow.core.framework import summary_pb2
    return summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin))


def summary_scalar(name: str, value, step=None) -> None:
    """tf.summary.scalar; without tensorboard (whose code tf.summary.scalar is) the same record written with
    TensorFlow's own tf.summary.write, so TensorBoard reads it later either way."""
    if hparams_api() is not None:
        tf.summary.scalar(name, value, step=step)
    else:
        tf.summary.write(name, tf.cast(value, tf.float32), step=step, metadata=_metadata("scalars"))


def summary_image(name: str, batch, max_outputs: int = 3) -> None:
    """tf.summary.image of uint8 NHWC images; without tensorboard the same record (width, height, PNGs) through
    tf.summary.write."""
    if hparams_api() is not None:
        tf.summary.image(name, batch, max_outputs=max_outputs)
        return
    batch = tf.convert_to_tensor(batch)[:max_outputs]
    pngs = tf.map_fn(tf.image.encode_png, batch, fn_output_signature=tf.string)
    size = [tf.as_string(tf.shape(batch)[2]), tf.as_string(tf.shape(batch)[1])]
    tf.summary.write(name, tf.concat([tf.stack(size), pngs], 0), metadata=_metadata("images"))


# ------------------------------------------------------------------ layers and tensors
def output_shape(layer) -> tuple:
    """A layer's output shape in a functional model, as a tuple (Keras 3 layers have no `output_shape`)."""
    return tuple(layer.output.shape)


def input_shape(layer) -> tuple:
    """A layer's input shape in a functional model, as a tuple (Keras 3 layers have no `input_shape`)."""
    return tuple(layer.input.shape)


def rank(tensor) -> Optional[int]:
    """The static rank of a tensor or KerasTensor (Keras 3 KerasTensor shapes are tuples, without `.rank`)."""
    shape = tensor.shape
    return shape.rank if isinstance(shape, tf.TensorShape) else len(shape)


def mark_built(model) -> None:
    """Marks a model whose parts are built models as built. Keras 3's fit under a strategy otherwise builds it by
    calling it on a data batch (WassersteinGAN.call takes latent vectors, not data); Keras 2 never does."""
    if KERAS3:
        model.built = True


def functional_graph(model):
    """(the functional graph of a functional or built Sequential model, [(layer, input tensors, output tensors)] of
    its layer calls, inputs first), or None for a subclassed model. Keras 2 nodes have layer / keras_inputs /
    outputs, Keras 3 nodes operation / input_tensors / output_tensors; tensors are the same objects as the graph's
    inputs and outputs on both."""
    if KERAS3:
        graph = model if hasattr(model, "_nodes_by_depth") else getattr(model, "_functional", None)
        if graph is None:
            return None
        calls = lambda node: (node.operation, list(node.input_tensors), list(node.output_tensors))
    else:
        if not getattr(model, "_is_graph_network", False):
            return None
        graph = model
        calls = lambda node: (node.layer, tf.nest.flatten(node.keras_inputs), tf.nest.flatten(node.outputs))
    return graph, [calls(node) for depth in sorted(graph._nodes_by_depth, reverse=True)
                   for node in graph._nodes_by_depth[depth] if not node.is_input]


# ------------------------------------------------------------------ variables and optimizers
def tf_variable(variable):
    """The tf.Variable (under a strategy: the distributed variable) behind a Keras variable; Keras 3 wraps it."""
    return variable.value if KERAS3 and hasattr(variable, "_value") else variable


def applied_learning_rate(optimizer) -> tf.Tensor:
    """The learning rate of the optimizer's last update (of its first before any), float32.

    Keras 2's `learning_rate` under a schedule is a variable set to schedule(iterations) just before each update;
    Keras 3's is schedule(iterations) computed when read, i.e. the rate of the next update. Both give the last one
    here."""
    inner = getattr(optimizer, "inner_optimizer", optimizer)
    if KERAS3:
        rate = inner._learning_rate  # the schedule or constant given to the constructor
        if isinstance(rate, tf.keras.optimizers.schedules.LearningRateSchedule):
            return tf.cast(rate(tf.maximum(inner.iterations - 1, 0)), tf.float32)
        return tf.cast(tf.convert_to_tensor(rate), tf.float32)
    rate = inner.learning_rate
    if isinstance(rate, tf.keras.optimizers.schedules.LearningRateSchedule):  # legacy optimizers
        rate = rate(tf.maximum(inner.iterations - 1, 0))
    return tf.cast(rate, tf.float32)


def is_loss_scaling(optimizer) -> bool:
    return isinstance(optimizer, tf.keras.mixed_precision.LossScaleOptimizer)


def scaled_loss(optimizer, loss):
    """loss times the optimizer's loss scale (mixed_float16), unchanged otherwise."""
    if not is_loss_scaling(optimizer):
        return loss
    return optimizer.scale_loss(loss) if KERAS3 else optimizer.get_scaled_loss(loss)


def unscaled_gradients(optimizer, gradients):
    """Gradients of a scaled loss divided by the loss scale, for apply_gradients. Keras 3's LossScaleOptimizer
    unscales (and skips non-finite steps) inside apply_gradients, so there they pass unchanged."""
    if not is_loss_scaling(optimizer) or KERAS3:
        return gradients
    return optimizer.get_unscaled_gradients(gradients)


def step_logs(logs: dict) -> dict:
    """train_step's return value, already averaged over the replicas. Keras 2 takes it from the first replica
    (Model.distribute_reduction_method "first"); Keras 3 ignores that setting and reduces with strategy.reduce(MEAN,
    axis=0) across workers, which needs a batch axis: there each scalar gets one ([1], the mean of equal values is
    the value)."""
    strategy = tf.distribute.get_strategy()
    multi_worker = isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and \
        strategy.extended._in_multi_worker_mode()
    if KERAS3 and multi_worker:
        return {k: v[None] for k, v in logs.items()}
    return logs


# ------------------------------------------------------------------ versions
def version_of(package: str) -> Optional[str]:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


# ------------------------------------------------------------------ weights files
def write_weights(model, prefix: str) -> None:
    """The model's weights as a TensorFlow checkpoint at `prefix`, with the model as its root: what Keras 2's
    save_weights(prefix) writes. Keras 3's save_weights writes only .weights.h5 files and its load_weights reads no
    TF checkpoints, so both stacks use tf.train.Checkpoint (older snapshots of the classic stack stay readable)."""
    tf.train.Checkpoint(root=model).write(prefix)


def read_weights(model, prefix: str):
    """Restores weights written by write_weights (or Keras 2's save_weights) into the model; returns the load status
    (assert_existing_objects_matched works on it)."""
    return tf.train.Checkpoint(root=model).read(prefix)


def reset_optimizer(optimizer) -> None:
    """Zeroes an optimizer's step count and slots (moments) and keeps its learning rate: Keras 3 holds a constant
    learning rate as one of `optimizer.variables` (zeroing them all stopped the lab's critics training), Keras 2
    does not."""
    rate = getattr(optimizer, "_learning_rate", None)
    for variable in optimizer.variables:
        if variable is not rate:
            variable.assign(tf.zeros_like(variable))
