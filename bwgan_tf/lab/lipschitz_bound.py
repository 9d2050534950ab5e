"""A layer-wise upper bound on a whole critic's l2 Lipschitz constant, and an empirical lower bound.

Along a path Lip(f o g) <= Lip(f) Lip(g); at a skip connection Lip(f + g) <= Lip(f) + Lip(g). Convolutions are
bounded with bwgan_tf.lab.spectral.conv_lipschitz (Sedghi, Gupta & Long 2019, Thm 6): a zero-padded ("same")
convolution is a crop of the circular one on the grid enlarged by the kernel size minus one, a "valid" one a
crop of the circular one on the input grid, and crops and stride subsampling have norm <= 1, so the per-layer
numbers are upper bounds. Dense layers are bounded by their spectral norm, activations by their slope.
"""
import math
from collections.abc import Sequence
from typing import Optional

import numpy as np
import tensorflow as tf

from bwgan_tf import checks, compat
from bwgan_tf.lab.spectral import check_input_hw, conv_lipschitz

# --------------------------------------------------------------------------------------------------
# A whole critic: product (and sum, for skip connections) of per-layer bounds
# --------------------------------------------------------------------------------------------------
_ACTIVATION_SLOPES = {"linear": 1.0, "relu": 1.0, "relu6": 1.0, "elu": 1.0, "tanh": 1.0, "softplus": 1.0,
                      "sigmoid": 0.25, "swish": 1.1, "silu": 1.1, "gelu": 1.13, "selu": 1.0507 * 1.6733,
                      "softsign": 1.0, "hard_sigmoid": 0.2, "exponential": math.inf, "softmax": 1.0}
_IDENTITY_LAYERS = ("InputLayer", "Flatten", "Reshape", "Dropout", "SpatialDropout2D", "GaussianDropout",
                    "AlphaDropout", "Permute", "ZeroPadding2D", "Cropping2D", "Identity", "ActivityRegularization")
_PERMUTATION_OPS = ("nn.depth_to_space", "nn.space_to_depth", "reshape", "squeeze", "compat.v1.squeeze",
                    "expand_dims", "identity", "transpose", "compat.v1.transpose", "__operators__.getitem")


def _activation_slope(activation) -> tuple[float, str]:
    name = getattr(activation, "__name__", None) or str(activation)
    if name in _ACTIVATION_SLOPES:
        return _ACTIVATION_SLOPES[name], name
    return math.inf, f"unknown activation {name}"


def _pair(value) -> tuple[int, int]:
    return (int(value), int(value)) if np.isscalar(value) else (int(value[0]), int(value[1]))


def _dilate(kernel: np.ndarray, dilation: tuple[int, int]) -> np.ndarray:
    if dilation == (1, 1):
        return kernel
    kh, kw = kernel.shape[:2]
    out = np.zeros(((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1) + kernel.shape[2:])
    out[::dilation[0], ::dilation[1]] = kernel
    return out


def _pool_factor(layer, shape) -> tuple[float, str]:
    pool, strides = _pair(layer.pool_size), _pair(layer.strides)
    height, width = int(shape[1]), int(shape[2])
    non_overlapping = strides[0] >= pool[0] and strides[1] >= pool[1]
    is_average = "Average" in type(layer).__name__
    if not non_overlapping:
        if is_average and layer.padding == "valid":
            return 1.0, "overlapping average pool: averaging filter (DFT max 1 at frequency 0), subsampling <= 1"
        return math.inf, "overlapping pool with this padding is not bounded here"
    if not is_average:
        return 1.0, "non-overlapping max pool: each input reaches at most one output"
    full = height % pool[0] == 0 and width % pool[1] == 0 or layer.padding == "valid"
    if full:
        return 1.0 / math.sqrt(pool[0] * pool[1]), f"mean of {pool[0] * pool[1]} disjoint inputs: 1/sqrt(count)"
    return 1.0, "non-overlapping average pool with partial border windows"


def _layer_factor(layer, input_shapes: list[tf.TensorShape], output_shape) -> tuple[Optional[float], str]:
    """(factor, note): Lip(layer) in l2 for single-input layers; None for merge layers (handled by the caller)."""
    kind = type(layer).__name__
    shape = input_shapes[0] if input_shapes else None
    if kind in _IDENTITY_LAYERS:
        return 1.0, "reshaping / cropping / padding with zeros / dropout at inference: norm <= 1"
    if kind == "Conv2D":
        kernel = _dilate(layer.kernel.numpy().astype(np.float64), _pair(layer.dilation_rate))
        kh, kw = kernel.shape[:2]
        if None in (shape[1], shape[2]):
            return math.inf, "Conv2D with unknown input size"
        if layer.padding == "valid":
            grid = (int(shape[1]), int(shape[2]))
        else:
            grid = (int(shape[1]) + kh - 1, int(shape[2]) + kw - 1)
        slope, act = _activation_slope(layer.activation)
        value = conv_lipschitz(kernel, grid) * slope
        return value, (f"circular-conv norm on the {grid[0]}x{grid[1]} grid ({layer.padding} padding, "
                       f"strides {tuple(_pair(layer.strides))}) x {act} slope")
    if kind == "Dense":
        slope, act = _activation_slope(layer.activation)
        return float(np.linalg.norm(layer.kernel.numpy().astype(np.float64), 2)) * slope, f"spectral norm x {act} slope"
    if kind == "Activation":
        slope, act = _activation_slope(layer.activation)
        return slope, f"{act} slope"
    if kind == "ReLU":
        return max(1.0, abs(float(layer.negative_slope))), "relu (max_value only clips)"
    if kind == "LeakyReLU":
        return max(1.0, abs(float(layer.alpha))), "leaky relu slope"
    if kind in ("ELU", "Softmax"):
        return max(1.0, float(getattr(layer, "alpha", 1.0))), kind.lower()
    if kind in ("AveragePooling2D", "MaxPooling2D"):
        return _pool_factor(layer, shape)
    if kind in ("GlobalAveragePooling2D", "GlobalAveragePooling1D"):
        count = int(np.prod([int(d) for d in shape[1:-1]]))
        return 1.0 / math.sqrt(count), f"mean of {count} positions per channel: 1/sqrt(count)"
    if kind in ("GlobalMaxPooling2D", "GlobalMaxPooling1D"):
        return 1.0, "max over positions"
    if kind == "Rescaling" and np.isscalar(layer.scale):
        return abs(float(layer.scale)), "scale"
    if kind in ("Add", "Subtract", "Average", "Concatenate"):
        return None, kind
    if kind == "TFOpLambda":
        symbol = layer.symbol
        if symbol in _PERMUTATION_OPS:
            return 1.0, f"tf.{symbol}: rearranges entries"
        if symbol in ("math.reduce_mean", "math.reduce_sum"):
            count = int(np.prod([int(d) for d in shape[1:]]) // max(1, np.prod([int(d) for d in output_shape[1:]])))
            if symbol == "math.reduce_mean":
                return 1.0 / math.sqrt(count), f"tf.{symbol} over {count} entries: 1/sqrt(count)"
            return math.sqrt(count), f"tf.{symbol} over {count} entries: sqrt(count)"
        if symbol in ("__operators__.add", "math.add", "math.subtract", "math.add_n"):
            return None, symbol
        if symbol in ("nn.relu", "nn.leaky_relu", "math.tanh", "nn.elu", "nn.softplus"):
            return 1.0, f"tf.{symbol}: 1-Lipschitz"
        return math.inf, f"tf.{symbol}: not bounded here"
    if kind == "BatchNormalization":
        scale = layer.gamma.numpy() if layer.scale else np.ones(layer.moving_variance.shape)
        value = float(np.max(np.abs(scale) / np.sqrt(layer.moving_variance.numpy() + layer.epsilon)))
        return value, "inference-mode affine map: max |gamma| / sqrt(var + eps)"
    if kind == "LayerNormalization":
        return math.inf, "layer normalization divides by the sample's std: not globally Lipschitz"
    return math.inf, f"{kind} is not bounded here"


def _merge(kind: str, values: list[float]) -> float:
    if kind in ("Concatenate",):
        return math.sqrt(sum(v * v for v in values))
    if kind == "Average":
        return sum(values) / len(values)
    return sum(values)  # Add, Subtract, add: Lip(f + g) <= Lip(f) + Lip(g)


def _bound_graph(model: tf.keras.Model, records: list[dict], prefix: str = "") -> float:
    """Lipschitz bound of ``model`` as a function of its (single) input, walking the functional graph."""
    found = compat.functional_graph(model)
    if found is None:
        raise ValueError("critic must be a functional or Sequential tf.keras.Model with a known input shape, got "
                         f"{type(model).__name__}")
    graph, calls = found
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise ValueError("critic must have exactly one input and one output")
    lips = {id(t): 1.0 for t in graph.inputs}
    for layer, input_tensors, output_tensors in calls:
        inputs = [lips.get(id(t)) for t in input_tensors]
        if not inputs or any(v is None for v in inputs):
            continue  # a branch not fed by the critic's input (constants): Lipschitz 0
        name = prefix + layer.name
        if isinstance(layer, tf.keras.Model) and compat.functional_graph(layer) is not None:
            factor = _bound_graph(layer, records, prefix=name + "/")
            note = "nested model"
            out = factor * inputs[0]
        else:
            factor, note = _layer_factor(layer, [t.shape for t in input_tensors], output_tensors[0].shape)
            if factor is None:  # merge: combine the incoming bounds
                out = _merge(type(layer).__name__, inputs)
                records.append({"layer": name, "type": type(layer).__name__, "factor": None,
                                "note": f"{note}: combines inputs"})
                for tensor in output_tensors:
                    lips[id(tensor)] = out
                continue
            out = factor * inputs[0]
        records.append({"layer": name, "type": type(layer).__name__, "factor": factor, "note": note})
        for tensor in output_tensors:
            lips[id(tensor)] = out
    return lips[id(graph.outputs[0])]


def critic_lipschitz_bound(critic: tf.keras.Model, input_hw: Optional[Sequence[int]] = None) -> dict:
    """Upper bound on the l2 Lipschitz constant of a critic from per-layer operator norms.

    Walks the functional graph: Lip(f o g) <= Lip(f) Lip(g) along a path and Lip(f + g) <= Lip(f) + Lip(g)
    at Add layers, so a residual block x + F(x) gets (1 + Lip(F)) times its input's bound. Convolutions are
    bounded by ``conv_lipschitz`` (circular padding; on the enlarged grid for zero padding, see module doc);
    dense layers by the spectral norm; 1-Lipschitz activations by 1; a 2x2 mean pool by 1/2 = 1/sqrt(4).
    Layers it cannot bound (layer normalization, unknown ops) make the bound inf and are listed.

    Args:
      critic: a functional/Sequential tf.keras.Model with one input [N, H, W, C] (or [N, D]).
      input_hw: (H, W) to use when the critic was built with unknown spatial size (it is cloned with
        that input size and the same weights); must match the critic's static size otherwise.
    Returns:
      dict with ``bound`` (float, inf when some layer on a path is unbounded), ``layers`` (per-layer
      records: layer, type, factor, note), ``unbounded`` (layer names) and ``note``.
    """
    if not isinstance(critic, tf.keras.Model):
        raise ValueError(f"critic must be a tf.keras.Model, got {type(critic).__name__}")
    if not critic.inputs:
        raise ValueError("critic must be built with a known input (a functional or built Sequential model)")
    if input_hw is not None:
        static = critic.inputs[0].shape
        if compat.rank(critic.inputs[0]) != 4:
            raise ValueError(f"input_hw applies to image critics [N, H, W, C], the critic takes {static}")
        hw = check_input_hw(input_hw)
        if None in (static[1], static[2]):
            clone = tf.keras.models.clone_model(critic, input_tensors=tf.keras.Input(shape=(hw[0], hw[1], static[3])))
            clone.set_weights(critic.get_weights())
            critic = clone
        elif (int(static[1]), int(static[2])) != hw:
            raise ValueError(f"input_hw {hw} differs from the critic's input size {(int(static[1]), int(static[2]))}")
    records: list[dict] = []
    bound = _bound_graph(critic, records)
    return {
        "bound": float(bound),
        "layers": records,
        "unbounded": [r["layer"] for r in records if r["factor"] is not None and math.isinf(r["factor"])],
        "note": ("l2 upper bound: product of per-layer norms (sum at skip connections); convolutions by the "
                 "circular-convolution norm (Sedghi et al. 2019), on the zero-padded grid for 'same' padding"),
    }


def max_gradient_norm(critic: tf.keras.Model, num: int = 64, seed: int = 0) -> float:
    """max_i ||dD(x_i)||_2 over ``num`` inputs uniform in [-1, 1]: a lower bound on the l2 Lipschitz constant."""
    num = checks.positive_int(num, "num")
    shape = [num] + [int(d) for d in critic.inputs[0].shape[1:]]
    x = tf.random.stateless_uniform(shape, seed=[int(seed), 0], minval=-1.0, maxval=1.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(tf.cast(critic(x), tf.float32))
    grads = tf.reshape(tape.gradient(total, x), [num, -1])
    return float(tf.reduce_max(tf.norm(grads, axis=1)))
