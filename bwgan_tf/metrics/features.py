"""Feature extractors for sample-quality metrics: TF-GAN's Inception network and stand-in classifiers.

A `FeatureExtractor` maps images NHWC float32 in [-1, 1] to `(features [N, D], logits [N, K] or None)`.
Inception (the TF-Hub module TF-GAN uses, tensorflow/tfgan/eval/inception/1) gives 'pool_3' features
(D = 2048, for FID/KID) and 'logits' (K = 1008, for the Inception Score), on images resized bilinearly to
299 x 299 as TF-GAN does. Any Keras classifier (e.g. the one tools/train_classifier.py trains) can stand
in; its results are reported under its own name, never as IS/FID/KID (see registry.metric_label).
"""
import hashlib
import os
import re
import tempfile

import numpy as np
import tensorflow as tf

from bwgan_tf import compat
from bwgan_tf.metrics import classifier

INCEPTION_HANDLE = "https://tfhub.dev/tensorflow/tfgan/eval/inception/1"
INCEPTION_NAME = "inception"
INCEPTION_IMAGE_SIZE = 299
INCEPTION_LOGITS = "logits"
INCEPTION_POOL = "pool_3"

_DOWNLOAD_HELP = (
    "The Inception network TF-GAN uses is the TF-Hub module tensorflow/tfgan/eval/inception/1. Download it on a "
    "machine with internet from {handle}?tf-hub-format=compressed (now served by Kaggle Models: "
    "https://www.kaggle.com/models/tensorflow/tfgan/tensorFlow1/eval-inception/1), unpack it with "
    "`mkdir -p inception && tar -xzf <downloaded>.tar.gz -C inception` (the folder then holds saved_model.pb and "
    "variables/), copy the folder here and pass its path with --inception=PATH (Python: "
    "bwgan_tf.metrics.evaluate(..., extractor=bwgan_tf.metrics.inception_extractor(PATH))); or set "
    "TFHUB_CACHE_DIR to a TF-Hub cache that holds it. Without it, fid and kid still use the standard FID network "
    "(set up once with `make inception`); only is needs the module.")


def download_help() -> str:
    """Where to get TF-GAN's Inception module and which flag takes it."""
    return _DOWNLOAD_HELP.format(handle=INCEPTION_HANDLE)


class InceptionUnavailableError(ValueError):
    """The Inception TF-Hub module is not available (offline and not found locally)."""


class FeatureExtractor:
    """A named map images [N, H, W, C] in [-1, 1] -> (features [N, D] float32, logits [N, K] float32 or None).

    Args:
      name: label used in metric names (lower case letters, digits, '_').
      fn: callable on a float32 image tensor returning (features, logits or None) tensors.
      has_logits: whether fn returns logits (needed for the Inception/classifier score).
      is_inception: True only for the standard Inception network (the FID network, or TF-GAN's TF-Hub module);
        only then are results called IS/FID/KID.
      fingerprint: a string that changes with the weights (part of the reference-statistics cache key).
    """

    def __init__(self, name, fn, *, has_logits, is_inception=False, fingerprint=""):
        self.name = sanitize_name(name)
        self.fingerprint = str(fingerprint)  # identifies the weights in reference-statistics cache keys
        self._fn = fn
        self.has_logits = bool(has_logits)
        self.is_inception = bool(is_inception)

    def __call__(self, images):
        images = tf.convert_to_tensor(images, tf.float32)
        if images.shape.rank != 4:
            raise ValueError(f"images must have shape [N, H, W, C], got {images.shape}")
        features, logits = self._fn(images)
        features = np.asarray(features, np.float32).reshape(images.shape[0], -1)
        if logits is not None:
            logits = np.asarray(logits, np.float32).reshape(images.shape[0], -1)
        return features, logits

    def __repr__(self):
        return f"FeatureExtractor(name={self.name!r}, has_logits={self.has_logits}, is_inception={self.is_inception})"


def sanitize_name(name) -> str:
    """Lower-case name with runs of other characters replaced by '_' (for metric labels and file names)."""
    clean = re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")
    if not clean:
        raise ValueError(f"name must contain a letter or digit, got {name!r}")
    return clean


def _hub_cache_dir() -> str:
    return os.environ.get("TFHUB_CACHE_DIR") or os.path.join(tempfile.gettempdir(), "tfhub_modules")


def _cached_module_dir(handle: str) -> str:
    """Where tensorflow_hub caches a handle: TFHUB_CACHE_DIR/sha1(handle)."""
    return os.path.join(_hub_cache_dir(), hashlib.sha1(handle.encode("utf8")).hexdigest())


def load_inception(handle=None, *, allow_download=False):
    """Loads TF-GAN's Inception TF-Hub module from a local folder or a hub handle (TFHUB_CACHE_DIR honoured).

    Args:
      handle: a folder holding the unpacked module, or a hub handle/URL; None means INCEPTION_HANDLE.
      allow_download: let tensorflow_hub download a handle that is not cached (needs internet).
    Returns:
      the loaded module (tensorflow_hub.load).
    Raises:
      InceptionUnavailableError (a ValueError) saying where to get the module and which flag takes it.
    """
    handle = INCEPTION_HANDLE if handle is None else str(handle)
    is_remote = "://" in handle
    if not is_remote and not os.path.isdir(handle):
        raise InceptionUnavailableError(
            f"--inception: no folder at {handle!r}. " + download_help())
    cached = _cached_module_dir(handle) if is_remote else None
    missing = is_remote and not os.path.isfile(os.path.join(cached, "saved_model.pb"))
    hub = compat.optional_module("tensorflow_hub")  # only Inception needs it; TF >= 2.16 stacks may lack it
    if missing and (hub is None or not allow_download):
        why = "downloading is off" if hub is not None else "downloading it needs tensorflow_hub, which is not installed"
        raise InceptionUnavailableError(f"Inception module {handle} is not in the TF-Hub cache ({cached}) and {why}. "
                                        + download_help())
    try:  # a local or cached module is a SavedModel with a 'default' signature: TensorFlow loads it without hub
        return hub.load(handle) if hub is not None else tf.saved_model.load(cached or handle)
    except Exception as error:  # noqa: BLE001 - any load failure gets the same actionable message
        raise InceptionUnavailableError(
            f"could not load the Inception module from {handle!r} ({type(error).__name__}: {error}). "
            + download_help()) from error


def _module_call(module):
    """A callable images -> dict of outputs, for TF2 SavedModels and TF1 hub modules (their 'default' signature)."""
    signatures = getattr(module, "signatures", None)
    if signatures is not None and "default" in signatures:
        signature = signatures["default"]
        input_name = next(iter(signature.structured_input_signature[1]))
        return lambda images: signature(**{input_name: images})
    if callable(module):
        return module
    raise InceptionUnavailableError("the Inception module has neither a 'default' signature nor a __call__; "
                                    + download_help())


def inception_preprocess(images, size=INCEPTION_IMAGE_SIZE):
    """TF-GAN's Inception preprocessing: bilinear resize to size x size; values stay in [-1, 1]."""
    images = tf.convert_to_tensor(images, tf.float32)
    if images.shape[1] == size and images.shape[2] == size:
        return images
    return tf.image.resize(images, [size, size], method=tf.image.ResizeMethod.BILINEAR)


def inception_extractor(handle=None, *, allow_download=False) -> FeatureExtractor:
    """TF-GAN's Inception: features 'pool_3' [N, 2048] (FID, KID) and 'logits' [N, 1008] (IS)."""
    module = load_inception(handle, allow_download=allow_download)
    call = _module_call(module)

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
    def fn(images):
        outputs = call(inception_preprocess(images))
        batch = tf.shape(images)[0]
        return (tf.reshape(outputs[INCEPTION_POOL], [batch, -1]), tf.reshape(outputs[INCEPTION_LOGITS], [batch, -1]))

    extractor = FeatureExtractor(INCEPTION_NAME, fn, has_logits=True, is_inception=True,
                                 fingerprint=os.path.basename(os.fspath(handle or INCEPTION_HANDLE).rstrip("/")))
    extractor.module = module  # the signature's variables live as long as the module
    return extractor


FID_NAME = "fid_inception"


def fid_extractor(cache_dir=None, precision="float32") -> FeatureExtractor:
    """The standard FID network (TF Inception 2015-12-05 up to pool_3, in Keras: fid_inception): features
    [N, 2048], no logits. Images in [-1, 1] with 1 or 3 channels (1 is repeated to RGB); preprocessing is
    fid_inception.preprocess (uint8 quantisation, bilinear resize to 299, (v - 128) / 128). precision
    "bfloat16" runs the convolutions in bf16 (named fid_inception_bf16; its FID differs from float32's,
    BUILD_NOTES.md says by how much)."""
    from bwgan_tf.metrics import fid_inception  # builds the 22M-parameter network only when asked for
    model = fid_inception.load(cache_dir, precision)
    size = fid_inception.INPUT_SIZE

    @tf.function(input_signature=[tf.TensorSpec([None, size, size, 3], tf.float32)])
    def forward(x):
        return tf.cast(model(x, training=False), tf.float32)

    def fn(images):
        if images.shape[-1] == 1:
            images = tf.repeat(images, 3, axis=-1)
        if images.shape[-1] != 3:
            raise ValueError(f"images must have 1 or 3 channels for the FID network, got shape {images.shape}")
        return forward(fid_inception.preprocess(images)), None

    name = FID_NAME if precision == "float32" else f"{FID_NAME}_bf16"
    extractor = FeatureExtractor(name, fn, has_logits=False, is_inception=True,
                                 fingerprint=f"{fid_inception.WEIGHTS_FILENAME}-{precision}")
    extractor.model = model
    return extractor


def _default_feature_layer(model):
    names = [layer.name for layer in model.layers]
    if "features" in names:
        return model.get_layer("features").output
    return model.layers[-1].input


def keras_extractor(model, *, layer=None, name=None) -> FeatureExtractor:
    """A Keras model (or the path of one saved with model.save) as a feature extractor.

    Features are the output of `layer` (default: the layer named 'features', else the last layer's input);
    the model's output is taken as logits when it has rank 2 (a classifier without softmax). Images are
    resized bilinearly to the model's input size when it differs. A path that is a plain SavedModel (not
    Keras) is used through its serving_default signature: `layer` names the features output key and an
    output key 'logits' gives the logits.
    """
    if isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        if not os.path.exists(path):
            raise ValueError(f"--classifier: no model at {path!r}")
        name = name or os.path.splitext(os.path.basename(path.rstrip("/")))[0]
        try:
            model = tf.keras.models.load_model(path, compile=False)
        except Exception:  # noqa: BLE001 - not a Keras model: try a plain SavedModel signature
            model = None
        if not isinstance(model, tf.keras.Model):  # a plain SavedModel loads as a non-Keras object
            return _saved_model_extractor(path, layer=layer, name=name)
    if not isinstance(model, tf.keras.Model):
        raise ValueError(f"model must be a tf.keras.Model or a path, got {type(model).__name__}")
    name = name or model.name
    try:
        features = model.get_layer(layer).output if layer else _default_feature_layer(model)
    except ValueError as error:
        raise ValueError(f"layer: {error}; layers are {[each.name for each in model.layers]}") from error
    outputs = [features]
    has_logits = compat.rank(model.output) == 2 and model.output is not features
    if has_logits:
        outputs.append(model.output)
    sub = tf.keras.Model(model.inputs, outputs)
    size = tuple(model.input_shape[1:3])

    @tf.function(reduce_retracing=True)
    def fn(images):
        if None not in size and tuple(images.shape[1:3]) != size:
            images = tf.image.resize(images, size, method=tf.image.ResizeMethod.BILINEAR)
        result = sub(images, training=False)
        if has_logits:
            return result[0], result[1]
        return result, None

    return FeatureExtractor(name, fn, has_logits=has_logits, fingerprint=weights_fingerprint(sub.weights))


def weights_fingerprint(variables) -> str:
    """sha1 (12 hex digits) of weights: same extractor name, other weights -> another cache entry."""
    digest = hashlib.sha1()
    for weight in variables:
        digest.update(np.ascontiguousarray(weight.numpy()).tobytes())
    return digest.hexdigest()[:12]


def _saved_model_extractor(path, *, layer, name) -> FeatureExtractor:
    loaded = tf.saved_model.load(path)
    if "serving_default" not in loaded.signatures:
        raise ValueError(f"--classifier: {path!r} is neither a Keras model nor a SavedModel with serving_default")
    signature = loaded.signatures["serving_default"]
    _check_image_input(path, loaded.signatures)
    input_name = next(iter(signature.structured_input_signature[1]))
    keys = list(signature.structured_outputs)
    feature_key = layer or next((k for k in keys if k != "logits"), None)
    if feature_key not in keys:
        raise ValueError(f"layer: {feature_key!r} is not an output of {path!r}; outputs are {keys}")
    has_logits = "logits" in keys and feature_key != "logits"

    def fn(images):
        out = signature(**{input_name: images})
        return out[feature_key], (out["logits"] if has_logits else None)

    fn.keep_alive = loaded
    return FeatureExtractor(name, fn, has_logits=has_logits,
                            fingerprint=weights_fingerprint(getattr(loaded, "variables", ())))


def _check_image_input(path, signatures) -> None:
    """ValueError unless serving_default takes one float image batch [N, H, W, C] (an exported generator, whose
    serving_default takes num_samples and seed, is named as such)."""
    inputs = signatures["serving_default"].structured_input_signature[1]
    spec = next(iter(inputs.values())) if len(inputs) == 1 else None
    if spec is not None and spec.dtype.is_floating and spec.shape.rank in (None, 4):
        return
    if {"generate", "latent"} <= set(signatures):
        raise ValueError(f"--classifier: {path!r} is a generator exported by tools/export.py, not a classifier; give "
                         "a classifier (e.g. a .keras file of tools/train_classifier.py), or score the generator "
                         "with --saved_model")
    described = ", ".join(f"{k} {v.dtype.name} {v.shape}" for k, v in inputs.items())
    raise ValueError(f"--classifier: {path!r} is not an image classifier: its serving_default takes {described}, "
                     "not one float image batch [N, H, W, C]")


def random_extractor(image_shape=(32, 32, 3), *, feature_dim=16, num_classes=10, seed=0,
                     name="random") -> FeatureExtractor:
    """A tiny random-weight conv net (features and logits): a cheap stand-in for tests and smoke runs."""
    model = classifier.build_classifier(image_shape, num_classes=num_classes, width=4, feature_dim=feature_dim,
                                        seed=seed)
    return keras_extractor(model, name=name)
