"""l2 Lipschitz constants of convolutions, and a layer-wise upper bound for a whole critic.

A 2-D convolution with circular padding, stride 1 and no bias is diagonalised by the 2-D DFT: at each
frequency (u, v) it multiplies the C_in-vector of input coefficients by the C_in x C_out matrix
K^(u, v) = sum_{a,b} k[a, b] exp(-2 pi i (a u / H + b v / W)). Its l2 operator norm is therefore

    ||conv||_2 = max_{u, v} sigma_max(K^(u, v))        (Sedghi, Gupta & Long 2019, Thm 6; the WGAN-GP
                                                         summary's one-layer argument)

which is what ``conv_lipschitz`` computes (exactly, for circular padding). Zero padding is not circular;
``critic_lipschitz_bound`` uses that a zero-padded ("same") convolution is a crop of the circular one on
the grid enlarged by the kernel size minus one, and a "valid" one a crop of the circular one on the input
grid, and that crops and stride subsampling have norm <= 1; so its per-layer numbers are upper bounds.
"""
import math
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf


# --------------------------------------------------------------------------------------------------
# One convolution
# --------------------------------------------------------------------------------------------------
def _check_kernel(kernel) -> np.ndarray:
    if isinstance(kernel, (tf.Tensor, tf.Variable)):
        kernel = kernel.numpy()
    kernel = np.asarray(kernel)
    if kernel.ndim != 4 or not np.issubdtype(kernel.dtype, np.number):
        raise ValueError(f"kernel must be a numeric [kh, kw, C_in, C_out] array (tf.nn.conv2d layout), got shape {kernel.shape}")
    if not np.all(np.isfinite(kernel)):
        raise ValueError("kernel must hold finite values only")
    return kernel.astype(np.float64)


def _check_hw(input_hw, kernel_hw: Tuple[int, int]) -> Tuple[int, int]:
    try:
        height, width = (int(v) for v in input_hw)
        ok = all(float(v) == int(v) for v in input_hw)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"input_hw must be a pair of positive integers (height, width), got {input_hw!r}")
    if height < kernel_hw[0] or width < kernel_hw[1]:
        raise ValueError(f"input_hw {tuple(input_hw)} must be at least the kernel size {kernel_hw}")
    return height, width


def frequency_singular_values(kernel, input_hw) -> np.ndarray:
    """Singular values of K^(u, v) for every DFT frequency, shape [H, W, min(C_in, C_out)] (descending)."""
    kernel = _check_kernel(kernel)
    height, width = _check_hw(input_hw, kernel.shape[:2])
    spectrum = np.fft.fft2(kernel, s=(height, width), axes=(0, 1))  # [H, W, C_in, C_out]
    return np.linalg.svd(spectrum, compute_uv=False)


def conv_lipschitz(kernel, input_hw) -> float:
    """l2 operator norm of the circular, stride-1, bias-free convolution with ``kernel`` on H x W inputs.

    Args:
      kernel: [kh, kw, C_in, C_out] (tf.nn.conv2d / Keras Conv2D layout), kh <= H, kw <= W.
      input_hw: (H, W), the spatial size of the input.
    Returns:
      max over frequencies of the largest singular value of the per-frequency C_in x C_out DFT matrix.
    """
    return float(frequency_singular_values(kernel, input_hw)[..., 0].max())


def circular_conv2d(x, kernel) -> tf.Tensor:
    """tf.nn.conv2d (cross-correlation, stride 1, no bias) on the periodically extended input, 'same' size.

    x [N, H, W, C_in] -> [N, H, W, C_out]; the linear operator whose norm ``conv_lipschitz`` computes.
    """
    kernel = tf.convert_to_tensor(kernel, tf.float32)
    x = tf.convert_to_tensor(x, tf.float32)
    kh, kw = int(kernel.shape[0]), int(kernel.shape[1])
    top, left = (kh - 1) // 2, (kw - 1) // 2
    bottom, right = kh - 1 - top, kw - 1 - left
    height, width = int(x.shape[1]), int(x.shape[2])
    rows = [i % height for i in range(-top, height + bottom)]
    cols = [j % width for j in range(-left, width + right)]
    wrapped = tf.gather(tf.gather(x, rows, axis=1), cols, axis=2)
    return tf.nn.conv2d(wrapped, kernel, strides=1, padding="VALID")


def power_iteration(operator: Callable[[tf.Tensor], tf.Tensor], input_shape: Sequence[int], iterations: int = 100,
                    seed: int = 0) -> float:
    """Largest singular value of a linear ``operator`` by power iteration on A^T A (A^T by autodiff).

    Args:
      operator: a linear map taking a tensor of shape [1, *input_shape].
      input_shape: the per-sample input shape.
      iterations: power steps; the estimate increases towards sigma_max from below.
      seed: seed of the stateless random start.
    """
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 1:
        raise ValueError(f"iterations must be a positive integer, got {iterations!r}")
    shape = [1] + [int(d) for d in input_shape]
    v = tf.random.stateless_normal(shape, seed=[int(seed), 0])
    v = v / tf.norm(v)

    @tf.function
    def step(v):
        with tf.GradientTape() as tape:
            tape.watch(v)
            av = operator(v)
            half_square = 0.5 * tf.reduce_sum(tf.square(av))
        atav = tape.gradient(half_square, v)  # A^T A v
        return atav / tf.norm(atav), tf.norm(av)

    sigma = tf.constant(0.0)
    for _ in range(int(iterations)):
        v, sigma = step(v)
    return float(tf.norm(operator(v)))


def dense_matrix(operator: Callable[[tf.Tensor], tf.Tensor], input_shape: Sequence[int]) -> np.ndarray:
    """The matrix [out_dim, in_dim] of a linear operator, by applying it to the standard basis (tiny sizes)."""
    shape = [int(d) for d in input_shape]
    n = int(np.prod(shape))
    basis = tf.reshape(tf.eye(n), [n] + shape)
    return tf.reshape(operator(basis), [n, -1]).numpy().T


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


def _activation_slope(activation) -> Tuple[float, str]:
    name = getattr(activation, "__name__", None) or str(activation)
    if name in _ACTIVATION_SLOPES:
        return _ACTIVATION_SLOPES[name], name
    return math.inf, f"unknown activation {name}"


def _pair(value) -> Tuple[int, int]:
    return (int(value), int(value)) if np.isscalar(value) else (int(value[0]), int(value[1]))


def _dilate(kernel: np.ndarray, dilation: Tuple[int, int]) -> np.ndarray:
    if dilation == (1, 1):
        return kernel
    kh, kw = kernel.shape[:2]
    out = np.zeros(((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1) + kernel.shape[2:])
    out[::dilation[0], ::dilation[1]] = kernel
    return out


def _pool_factor(layer, shape) -> Tuple[float, str]:
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


def _layer_factor(layer, input_shapes: List[tf.TensorShape], output_shape) -> Tuple[Optional[float], str]:
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


def _merge(kind: str, values: List[float]) -> float:
    if kind in ("Concatenate",):
        return math.sqrt(sum(v * v for v in values))
    if kind == "Average":
        return sum(values) / len(values)
    return sum(values)  # Add, Subtract, add: Lip(f + g) <= Lip(f) + Lip(g)


def _bound_graph(model: tf.keras.Model, records: List[Dict], prefix: str = "") -> float:
    """Lipschitz bound of ``model`` as a function of its (single) input, walking the functional graph."""
    if not getattr(model, "_is_graph_network", False):
        raise ValueError(f"critic must be a functional or Sequential tf.keras.Model with a known input shape, got {type(model).__name__}")
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError("critic must have exactly one input and one output")
    lips = {str(id(t)): 1.0 for t in model.inputs}
    for depth in sorted(model._nodes_by_depth, reverse=True):
        for node in model._nodes_by_depth[depth]:
            if node.is_input:
                continue
            inputs = [lips.get(i) for i in node.flat_input_ids]
            if any(v is None for v in inputs):
                continue  # a branch not fed by the critic's input (constants): Lipschitz 0
            layer = node.layer
            name = prefix + layer.name
            if isinstance(layer, tf.keras.Model) and getattr(layer, "_is_graph_network", False):
                factor = _bound_graph(layer, records, prefix=name + "/")
                note = "nested model"
                out = factor * inputs[0]
            else:
                in_shapes = [t.shape for t in tf.nest.flatten(node.keras_inputs)]
                out_shape = tf.nest.flatten(node.outputs)[0].shape
                factor, note = _layer_factor(layer, in_shapes, out_shape)
                if factor is None:  # merge: combine the incoming bounds
                    out = _merge(type(layer).__name__, inputs)
                    records.append({"layer": name, "type": type(layer).__name__, "factor": None, "note": f"{note}: combines inputs"})
                    for oid in node.flat_output_ids:
                        lips[oid] = out
                    continue
                out = factor * inputs[0]
            records.append({"layer": name, "type": type(layer).__name__, "factor": factor, "note": note})
            for oid in node.flat_output_ids:
                lips[oid] = out
    return lips[str(id(model.outputs[0]))]


def critic_lipschitz_bound(critic: tf.keras.Model, input_hw: Optional[Sequence[int]] = None) -> Dict:
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
        if static.rank != 4:
            raise ValueError(f"input_hw applies to image critics [N, H, W, C], the critic takes {static}")
        hw = _check_hw(input_hw, (1, 1))
        if None in (static[1], static[2]):
            clone = tf.keras.models.clone_model(critic, input_tensors=tf.keras.Input(shape=(hw[0], hw[1], static[3])))
            clone.set_weights(critic.get_weights())
            critic = clone
        elif (int(static[1]), int(static[2])) != hw:
            raise ValueError(f"input_hw {hw} differs from the critic's input size {(int(static[1]), int(static[2]))}")
    records: List[Dict] = []
    bound = _bound_graph(critic, records)
    return {
        "bound": float(bound),
        "layers": records,
        "unbounded": [r["layer"] for r in records if r["factor"] is not None and math.isinf(r["factor"])],
        "note": ("l2 upper bound: product of per-layer norms (sum at skip connections); convolutions by the "
                 "circular-convolution norm (Sedghi et al. 2019), on the zero-padded grid for 'same' padding"),
    }


VERIFY_CASES = (((3, 3, 3, 64), (32, 32)), ((3, 3, 64, 64), (16, 16)), ((3, 3, 2, 3), (6, 6)), ((5, 5, 1, 2), (8, 8)))


def verify_random_kernels(cases=VERIFY_CASES, iterations: int = 200, seed: int = 0) -> List[Dict]:
    """For He-initialised random kernels: the DFT formula, power iteration and (tiny sizes) dense SVD.

    Returns one dict per (kernel shape, input_hw) with ``dft``, ``power_iteration``, ``dense_svd`` (None
    when the operator has more than 400 inputs) and the seconds each took.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for shape, hw in cases:
        kernel = (rng.normal(size=shape) * np.sqrt(2.0 / np.prod(shape[:3]))).astype(np.float32)
        operator = lambda x, k=kernel: circular_conv2d(x, k)  # noqa: E731
        start = time.perf_counter()
        dft = conv_lipschitz(kernel, hw)
        dft_seconds = time.perf_counter() - start
        start = time.perf_counter()
        power = power_iteration(operator, (*hw, shape[2]), iterations, seed)
        power_seconds = time.perf_counter() - start
        dense = None
        if hw[0] * hw[1] * shape[2] <= 400:
            dense = float(np.linalg.svd(dense_matrix(operator, (*hw, shape[2])), compute_uv=False)[0])
        rows.append({"kernel": list(shape), "input_hw": list(hw), "dft": dft, "power_iteration": power,
                     "dense_svd": dense, "dft_seconds": dft_seconds, "power_seconds": power_seconds})
    return rows


def max_gradient_norm(critic: tf.keras.Model, num: int = 64, seed: int = 0) -> float:
    """max_i ||dD(x_i)||_2 over ``num`` inputs uniform in [-1, 1]: a lower bound on the l2 Lipschitz constant."""
    num = int(num)
    if num < 1:
        raise ValueError(f"num must be a positive integer, got {num!r}")
    shape = [num] + [int(d) for d in critic.inputs[0].shape[1:]]
    x = tf.random.stateless_uniform(shape, seed=[int(seed), 0], minval=-1.0, maxval=1.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(tf.cast(critic(x), tf.float32))
    grads = tf.reshape(tape.gradient(total, x), [num, -1])
    return float(tf.reduce_max(tf.norm(grads, axis=1)))
