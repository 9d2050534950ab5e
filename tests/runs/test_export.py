"""The exported generator: signatures callable from plain TensorFlow, same seed same images, atomic writes."""
import json
import os
import pathlib
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from bwgan_tf import train
from bwgan_tf.runs import export, generators, scoring

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


def test_the_export_folder_has_the_modes_of_a_folder_the_user_makes(trained_run, tmp_path):
    previous = os.umask(0o027)
    try:
        model, config = train.load_model(trained_run)
        exported = export.export_generator(model.ema_generator, str(tmp_path / "e"), latent_dim=config.latent_dim)
        (tmp_path / "made").mkdir()
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(exported).st_mode) == stat.S_IMODE(os.stat(tmp_path / "made").st_mode) == 0o750


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


def tiny_generator(latent_dim=4):
    return tf.keras.Sequential([tf.keras.Input((latent_dim,)), tf.keras.layers.Dense(8 * 8 * 3, activation="tanh"),
                                tf.keras.layers.Reshape((8, 8, 3))])


def test_overwrite_replaces_only_an_earlier_export(tmp_path, monkeypatch):
    gen = tiny_generator()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    with pytest.raises(ValueError, match=r"^export_dir: .*mine' is not an export of bwgan_tf .*nothing was touched"):
        export.export_generator(gen, str(mine), latent_dim=4, overwrite=True)
    assert os.listdir(mine) == ["thesis.tex"] and os.listdir(tmp_path) == ["mine"]  # no staging folder left
    target = export.export_generator(gen, str(tmp_path / "export"), latent_dim=4)
    assert export.is_export(target)
    (tmp_path / "plain").write_text("a file")
    os.symlink(target, tmp_path / "link")
    for path, kind in ((tmp_path / "plain", "a file"), (tmp_path / "link", "a symbolic link")):
        with pytest.raises(ValueError, match=f"^export_dir: .* is {kind}; --overwrite replaces only an earlier"):
            export.export_generator(gen, str(path), latent_dim=4, overwrite=True)
    # an export (or any folder) that holds the working directory or the run directory is never replaced
    monkeypatch.chdir(tmp_path / "export" / "variables")
    for path in (target, str(tmp_path), "..", "../.."):
        with pytest.raises(ValueError, match=r"^export_dir: .* holds the working directory"):
            export.export_generator(gen, path, latent_dim=4, overwrite=True)
    monkeypatch.chdir(tmp_path / "mine")
    with pytest.raises(ValueError, match=r"^export_dir: .* holds the run directory"):
        export.export_generator(gen, target, latent_dim=4, overwrite=True, run_dir=str(tmp_path / "export" / "assets"))
    with pytest.raises(ValueError, match=r"^--export_dir: .* holds this checkout"):
        export.check_export_dir(os.path.join(os.path.dirname(export.__file__), "..", ".."), True, name="--export_dir")
    assert sorted(os.listdir(tmp_path)) == ["export", "link", "mine", "plain"]
    assert (mine / "thesis.tex").read_text() == "years of work" and (tmp_path / "plain").read_text() == "a file"
    export.export_generator(gen, target, latent_dim=4, max_samples=8, overwrite=True)  # an earlier export: replaced
    assert tf.saved_model.load(target).signatures["latent"]()["max_samples"].numpy() == 8
    assert sorted(os.listdir(tmp_path)) == ["export", "link", "mine", "plain"]


def _ancestors(op):
    seen, stack = set(), [op]
    while stack:
        current = stack.pop()
        for parent in [t.op for t in current.inputs] + list(current.control_inputs):
            if parent.name not in seen:
                seen.add(parent.name)
                stack.append(parent)
                yield parent


def test_the_sample_bounds_are_checked_before_any_work(tmp_path):
    gen = tiny_generator()
    module = export.GeneratorModule(gen, latent_dim=4, max_samples=8)
    for function in (module.sample, module.generate):
        graph = function.get_concrete_function().graph
        work = [op for op in graph.get_operations() if op.type.startswith("StatelessRandomNormal")
                or op.type == "MatMul"]  # drawing the latents, the generator's first layer
        assert work, [op.type for op in graph.get_operations()]
        for op in work:  # each waits for the bound checks (an Assert upstream), so a huge request fails first
            assert any(parent.type == "Assert" for parent in _ancestors(op)), (function, op.name)
    path = export.export_generator(gen, str(tmp_path / "export"), latent_dim=4, max_samples=8)
    loaded = tf.saved_model.load(path)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"num_samples must be in 1\.\.8 \(max_samples\)"):
        loaded.signatures["serving_default"](num_samples=tf.constant(2**31 - 1, tf.int32),
                                             seed=tf.constant(0, tf.int64))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"z must have at most 8 rows \(max_samples\)"):
        loaded.signatures["generate"](z=tf.zeros([9, 4]))
    z = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    from bwgan_tf import metrics  # a sampler of the export calls generate in chunks of max_samples rows
    np.testing.assert_allclose(metrics.as_sampler(path).generate(z), gen(z, training=False), atol=1e-5)


def test_every_opened_generator_says_what_it_is(trained_run, tmp_path, cifar_subset_path):
    checkpoint = os.path.join(trained_run, "checkpoints", "ckpt-3")
    expected = {"kind": "run_dir", "run_dir": os.path.abspath(trained_run), "generator": "ema", "ema_decay": 0.5,
                "checkpoint": os.path.abspath(checkpoint), "step": 3}
    assert generators.open_generator(trained_run).description == expected
    assert generators.open_generator(trained_run, checkpoint).description == expected
    assert generators.open_images(run_dir=trained_run)[0].description == expected
    from bwgan_tf import metrics
    extractor = metrics.random_extractor((32, 32, 3), feature_dim=4)
    reference = f"npz:{cifar_subset_path}"
    scored = scoring.score(trained_run, reference, "fid", extractor, num_samples=8, reference_num=8)
    assert scored["generator"] == expected
    generator, config, source = generators.open_run(trained_run)
    target = export.export_generator(generator, str(tmp_path / "export"), latent_dim=16, metadata={"source": source})
    from_export = {"kind": "export", "path": target, "exported_from": expected}
    assert generators.open_generator(target).description == from_export
    assert generators.open_images(saved_model=target)[0].description == from_export
    both = scoring.score(trained_run, target, "fid", extractor, num_samples=8, reference_num=8)
    assert both["generator"] == expected and both["reference_generator"] == from_export


def test_tools_refuse_unsafe_folders_and_name_what_they_scored(trained_run, tmp_path, project_root, cifar_subset_path):
    def tool(name, *args, cwd=None):
        return subprocess.run([sys.executable, str(project_root / "tools" / name), *args], capture_output=True,
                              text=True, timeout=180, cwd=cwd)

    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("mine")
    result = tool("export.py", f"--run_dir={trained_run}", "--export_dir=.", "--overwrite", cwd=work)
    assert result.returncode == 2 and result.stderr.splitlines()[-2] == (
        f"--export_dir: '.' holds the working directory ({work}); --overwrite replaces only an earlier export, so "
        "nothing was touched"), result.stderr[-2000:]
    assert os.listdir(work) == ["notes.txt"] and sorted(os.listdir(tmp_path)) == ["work"]
    result = tool("export.py", f"--run_dir={trained_run}", f"--export_dir={work}", "--overwrite")
    assert result.returncode == 2 and result.stderr.splitlines()[-2].startswith(
        f"--export_dir: '{work}' is not an export of bwgan_tf"), result.stderr[-2000:]
    assert os.listdir(work) == ["notes.txt"] and sorted(os.listdir(tmp_path)) == ["work"]
    target = str(tmp_path / "export")
    result = tool("export.py", f"--run_dir={trained_run}", f"--export_dir={target}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "generator step 3" in result.stdout
    from bwgan_tf import metrics  # a small classifier stands in for the FID network (fast here)
    classifier = str(tmp_path / "clf.keras")
    metrics.save_classifier(metrics.build_classifier((32, 32, 3), width=2, feature_dim=3, seed=0), classifier)
    step = {"kind": "run_dir", "run_dir": os.path.abspath(trained_run), "generator": "ema", "ema_decay": 0.5,
            "checkpoint": os.path.abspath(os.path.join(trained_run, "checkpoints", "ckpt-3")), "step": 3}
    for flag, generator in ((f"--run_dir={trained_run}", step),
                            (f"--saved_model={target}", {"kind": "export", "path": target, "exported_from": step})):
        result = tool("evaluate.py", flag, f"--reference=npz:{cifar_subset_path}", f"--classifier={classifier}",
                      "--metrics=fid", "--num_samples=8", "--reference_num=8", "--cache_dir=")
        assert result.returncode == 0, result.stderr[-2000:]
        assert json.loads(result.stdout.strip().splitlines()[-1])["generator"] == generator


def test_sample_refuses_an_output_folder_it_cannot_write_before_any_work(trained_run, tmp_path, project_root):
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        (folder / "probe").write_text("")
        (folder / "probe").unlink()
        folder = pathlib.Path("/proc")  # root writes into read-only folders; nobody creates files in /proc
        if not (folder / "self").is_dir():
            pytest.skip("running as root without /proc: no folder here refuses writes")
    except OSError:
        pass
    for args, flag in (([f"--outdir={folder}", "--seeds=0-3"], "--outdir"),
                       ([f"--outdir={folder / 'new'}", "--seeds=0-3"], "--outdir"),
                       ([f"--png={folder / 'grid.png'}"], "--png"),
                       ([f"--png={folder / 'strip.png'}", "--interpolate=1,2"], "--png"),
                       ([f"--npz={folder / 'samples.npz'}"], "--npz")):
        result = subprocess.run([sys.executable, str(project_root / "tools" / "sample.py"), f"--run_dir={trained_run}",
                                 *args], capture_output=True, text=True, timeout=180)
        line = result.stderr.splitlines()[-2]  # the one line before the pointer to --helpshort
        assert result.returncode == 2 and line.startswith(f"{flag}: cannot write '{folder}"), result.stderr[-2000:]
        assert f"the folder '{folder}' is not writable" in line and "Traceback" not in result.stderr
    (tmp_path / "read_only").chmod(0o755)
