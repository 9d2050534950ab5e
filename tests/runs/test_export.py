"""The exported generator: signatures callable from plain TensorFlow, same seed same images, atomic writes."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from bwgan_tf.runs import generators, scoring
from bwgan_tf import train
from bwgan_tf.runs import export

CLIENT = textwrap.dedent("""
    import json, sys
    sys.modules["bwgan_tf"] = None  # this client has plain TensorFlow only: bwgan_tf cannot be imported
    try:
        import bwgan_tf  # noqa: F401
        importable = True
    except ImportError:
        importable = False
    import numpy as np, tensorflow as tf
    loaded = tf.saved_model.load(sys.argv[1])
    serve = loaded.signatures["serving_default"]
    a = serve(num_samples=tf.constant(5, tf.int32), seed=tf.constant(7, tf.int64))["images"].numpy()
    b = serve(num_samples=tf.constant(5, tf.int32), seed=tf.constant(7, tf.int64))["images"].numpy()
    c = serve(num_samples=tf.constant(5, tf.int32), seed=tf.constant(8, tf.int64))["images"].numpy()
    z = np.asarray(json.loads(sys.argv[2]), np.float32)
    generated = loaded.signatures["generate"](z=tf.constant(z))["images"].numpy()
    info = {k: v.numpy().tolist() for k, v in loaded.signatures["latent"]().items()}
    try:
        serve(num_samples=tf.constant(2000, tf.int32), seed=tf.constant(0, tf.int64))
        error = None
    except tf.errors.InvalidArgumentError as e:
        error = e.message
    print(json.dumps({"importable": importable, "a": a.tolist(), "a_dtype": str(a.dtype), "same": bool((a == b).all()),
                      "differs": bool((a != c).any()), "generated": generated.tolist(), "info": info, "error": error}))
""")


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, cifar_subset_path):
    """A tiny ResNet trained for a few steps on the real CIFAR subset, with a non-trivial EMA."""
    run_dir = str(tmp_path_factory.mktemp("run") / "tiny")
    config = train.make_config(dataset=f"npz:{cifar_subset_path}", architecture="resnet", width=8, latent_dim=16,
                               lam=10.0, gamma=1.0, batch_size=4, n_critic=1, steps=3, ema_decay=0.5,
                               sample_every=0, output_dir=run_dir, xla=False)
    train.train(config, print_fn=lambda *a, **k: None)
    return run_dir


def test_signatures_called_from_a_process_without_bwgan_tf(trained_run, tmp_path):
    generator, config = generators.load_generator(trained_run)
    path = export.export_generator(generator, str(tmp_path / "export"), latent_dim=16, max_samples=100)
    z = np.random.default_rng(0).normal(size=(3, 16)).astype(np.float32)
    result = subprocess.run([sys.executable, "-I", "-c", CLIENT, path, json.dumps(z.tolist())],
                            capture_output=True, text=True, timeout=180, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["importable"] is False  # the client has plain TensorFlow only
    images = np.array(out["a"])
    assert out["a_dtype"] == "uint8" and images.shape == (5, 32, 32, 3)
    assert images.min() >= 0 and images.max() <= 255
    assert out["same"] and out["differs"]
    generated = np.array(out["generated"])
    np.testing.assert_allclose(generated, generator(z, training=False).numpy(), atol=1e-5)
    assert generated.min() >= -1 and generated.max() <= 1
    assert out["info"] == {"latent_dim": 16, "image_shape": [32, 32, 3], "max_samples": 100}
    assert "max_samples" in out["error"] and "1..100" in out["error"]
    # serving_default is the EMA generator on stateless normal latents for the seed.
    z7 = tf.random.stateless_normal([5, 16], seed=tf.constant([7, 0], tf.int64))
    expected = np.clip(np.round((generator(z7, training=False).numpy() + 1) * 127.5), 0, 255)
    assert np.abs(images - expected).max() <= 1
    with open(os.path.join(path, "assets", "generator.json")) as f:
        assert json.load(f)["latent_dim"] == 16


def test_the_exported_generator_is_the_ema_generator(trained_run):
    model, _ = train.load_model(trained_run)
    raw = [w.numpy() for w in model.generator.weights]
    ema = [w.numpy() for w in model.ema_generator.weights]
    assert len(raw) == len(ema) > 0
    assert any(not np.allclose(a, b) for a, b in zip(raw, ema))  # so exporting the EMA one is a real choice
    generator, _ = generators.load_generator(trained_run)
    for a, b in zip(generator.weights, model.ema_generator.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_saved_model_cli_lists_the_signatures(trained_run, tmp_path):
    generator, _ = generators.load_generator(trained_run)
    path = export.export_generator(generator, str(tmp_path / "export"), latent_dim=16)
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    result = subprocess.run([cli, "show", "--all", "--dir", path], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    for name in ("serving_default", "generate", "latent", "num_samples", "seed", "images"):
        assert name in result.stdout


def test_export_is_atomic_and_never_leaves_a_half_overwritten_export(trained_run, tmp_path, monkeypatch):
    generator, _ = generators.load_generator(trained_run)
    target = str(tmp_path / "export")
    export.export_generator(generator, target, latent_dim=16)
    before = sorted(os.listdir(target))
    with pytest.raises(ValueError, match="overwrite"):
        export.export_generator(generator, target, latent_dim=16)

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(tf.saved_model, "save", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        export.export_generator(generator, target, latent_dim=16, overwrite=True)
    assert sorted(os.listdir(target)) == before
    assert sorted(os.listdir(tmp_path)) == ["export"]  # no staging directory left behind
    monkeypatch.undo()
    export.export_generator(generator, target, latent_dim=16, max_samples=8, overwrite=True)
    assert tf.saved_model.load(target).signatures["latent"]()["max_samples"].numpy() == 8
    assert sorted(os.listdir(tmp_path)) == ["export"]


@pytest.mark.parametrize("kwargs,argument", [({"max_samples": 0}, "max_samples"), ({"latent_dim": 0}, "latent_dim")])
def test_bad_arguments_raise_value_errors(trained_run, tmp_path, kwargs, argument):
    generator, _ = generators.load_generator(trained_run)
    args = dict(latent_dim=16)
    args.update(kwargs)
    with pytest.raises(ValueError, match=argument):
        export.export_generator(generator, str(tmp_path / "e"), **args)


def test_export_and_sample_tools(trained_run, tmp_path, project_root, cifar_images):
    def tool(name, *args):
        return subprocess.run([sys.executable, str(project_root / "tools" / name), *args], capture_output=True,
                              text=True, timeout=180)

    target = str(tmp_path / "export")
    result = tool("export.py", f"--run_dir={trained_run}", f"--export_dir={target}")
    assert result.returncode == 0, result.stderr[-2000:]
    png, npz = str(tmp_path / "grid.png"), str(tmp_path / "samples.npz")
    result = tool("sample.py", f"--saved_model={target}", "--num=9", "--seed=4", f"--png={png}", f"--npz={npz}")
    assert result.returncode == 0, result.stderr[-2000:]
    grid = tf.io.decode_png(tf.io.read_file(png)).numpy()
    assert grid.shape == (3 * 33 + 1, 3 * 33 + 1, 3)
    with np.load(npz) as saved:
        from_export = saved["images"]
    assert from_export.shape == (9, 32, 32, 3) and from_export.dtype == np.uint8
    run_npz = str(tmp_path / "run.npz")
    assert tool("sample.py", f"--run_dir={trained_run}", "--num=9", "--seed=4", f"--npz={run_npz}").returncode == 0
    with np.load(run_npz) as saved:
        assert np.abs(saved["images"].astype(int) - from_export.astype(int)).max() <= 1
    folder = tmp_path / "per_seed"
    result = tool("sample.py", f"--saved_model={target}", "--seeds=0-4,9", f"--outdir={folder}", "--batch_size=4")
    assert result.returncode == 0, result.stderr[-2000:]
    names = sorted(os.listdir(folder))
    assert names == [f"seed{k:06d}.png" for k in (0, 1, 2, 3, 4, 9)]
    serve = tf.saved_model.load(target).signatures["serving_default"]
    for k, name in zip((0, 1, 2, 3, 4, 9), names):  # seed k's image is the export's one sample for seed k
        single = serve(num_samples=tf.constant(1, tf.int32), seed=tf.constant(k, tf.int64))["images"].numpy()[0]
        np.testing.assert_array_equal(tf.io.decode_png(tf.io.read_file(str(folder / name))).numpy(), single)
    from bwgan_tf import data  # the folder as a data set (what FID reads) holds exactly these images
    folder_images = data.take(f"folder:{folder}", 6, image_size=32)
    expected = np.stack([tf.io.decode_png(tf.io.read_file(str(folder / n))).numpy() for n in names])
    assert sorted(map(bytes, np.round((folder_images + 1) * 127.5).astype(np.uint8))) == sorted(map(bytes, expected))
    # FID sees the folder exactly as the generator in process: the same FID-network features for the same latents
    from bwgan_tf import latents, metrics
    network, loaded = metrics.fid_extractor(), tf.saved_model.load(target)
    z = latents.for_seeds((0, 1, 2, 3, 4, 9), int(loaded.signatures["latent"]()["latent_dim"]))
    in_process = metrics.reference_statistics([loaded.signatures["generate"](z=z)["images"]], network, num=6,
                                              kid_samples=6)
    assert scoring.image_size_for(f"folder:{folder}", target) == 32  # a folder takes the generator's size
    from_folder = scoring.set_statistics(f"folder:{folder}", network, kid_samples=6, image_size=32)
    assert from_folder.count == 6
    np.testing.assert_allclose(from_folder.head_features, in_process.head_features, rtol=1e-4, atol=1e-5)
    reference = metrics.reference_statistics([cifar_images[:6]], network, num=6, kid_samples=6)
    assert metrics.compare(from_folder, reference, "fid", network)["fid6"] == pytest.approx(
        metrics.compare(in_process, reference, "fid", network)["fid6"], rel=1e-3)
    strip = str(tmp_path / "strip.png")
    result = tool("sample.py", f"--saved_model={target}", "--interpolate=3,9", "--frames=4", f"--png={strip}")
    assert result.returncode == 0, result.stderr[-2000:]
    strip_image = tf.io.decode_png(tf.io.read_file(strip)).numpy()
    assert strip_image.shape == (34, 4 * 33 + 1, 3)
    np.testing.assert_array_equal(strip_image[1:33, 1:33], tf.io.decode_png(tf.io.read_file(
        str(folder / "seed000003.png"))).numpy())  # the path starts at seed 3 and ends at seed 9
    np.testing.assert_array_equal(strip_image[1:33, -33:-1], tf.io.decode_png(tf.io.read_file(
        str(folder / "seed000009.png"))).numpy())
    assert tool("sample.py", f"--saved_model={target}", "--seeds=5-2", f"--outdir={folder}").stderr.splitlines()[-2] \
        == "--seeds: '5-2' must be a seed >= 0 or a range A-B with 0 <= A <= B"
    assert tool("export.py", f"--run_dir={trained_run}", f"--export_dir={target}").returncode == 2  # exists
    assert tool("export.py", f"--export_dir={target}").returncode == 2  # --run_dir missing
    assert tool("sample.py", f"--saved_model={target}").returncode == 2  # neither --png nor --npz
    for name, args, message in (
            ("sample.py", [f"--saved_model={target}", "--num=1025", f"--npz={npz}"],
             f"--num: '{target}' serves at most 1024 samples (its max_samples), got 1025; ask for fewer or export "
             "again with tools/export.py --max_samples=1025"),
            ("sample.py", [f"--saved_model={target}", f"--png={tmp_path}"],
             f"--png: '{tmp_path}' is a directory; give the path of a file to write"),
            ("export.py", [f"--run_dir={trained_run}", f"--export_dir={tmp_path / 'other'}",
                           f"--checkpoint={trained_run}/checkpoints/ckpt-99"],
             f"--checkpoint: no checkpoint '{trained_run}/checkpoints/ckpt-99' (no ckpt-99.index); "
             f"{trained_run}/checkpoints holds ckpt-3, or leave --checkpoint out for the latest")):
        result = tool(name, *args)
        assert result.returncode == 2 and result.stderr.splitlines()[-2] == message, result.stderr[-2000:]


def test_check_saved_model_names_the_flag(tmp_path):
    with pytest.raises(ValueError, match=r"^--saved_model: no SavedModel at .* \(no such folder\)"):
        export.check_saved_model(str(tmp_path / "missing"))
    with pytest.raises(ValueError, match=r"^--samples: no SavedModel at .* \(no saved_model.pb in it\)"):
        export.check_saved_model(str(tmp_path), "--samples")
