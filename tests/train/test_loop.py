"""The training application: presets, run directory, resume, non-finite stop, mirrored = single device."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from bwgan_tf import compat, data, parameters, train
from bwgan_tf.runs import generators
from bwgan_tf.train import hparams
from bwgan_tf.train import run_dir as run_dir_lib

TINY_TOY = dict(dataset="toy:8gaussians", architecture="toy_mlp", width=16, latent_dim=2, space="l2", lam=10.0,
                gamma=1.0, batch_size=32, n_critic=2, lr=1e-3, lr_decay=False, log_every=5, checkpoint_every=10,
                sample_every=10, xla=False)


def quiet(*args, **kwargs):
    pass


def is_png(path) -> bool:
    with open(path, "rb") as f:
        header = f.read(8)
    return header == b"\x89PNG\r\n\x1a\n" and tf.io.decode_png(tf.io.read_file(str(path))).shape.rank == 3


def event_tags(run_dir) -> set:
    tags = set()
    for root, _, files in os.walk(os.path.join(run_dir, "tensorboard")):
        for name in files:
            for event in tf.compat.v1.train.summary_iterator(os.path.join(root, name)):
                tags.update(value.tag for value in event.summary.value)
    return tags


def plugins_and_values(run_dir) -> dict:
    """{tag: (plugin name, tensor value)} of every summary in a run's event files (TensorFlow's own reader)."""
    found = {}
    for root, _, files in os.walk(run_dir):
        for name in files:
            if name.startswith("events."):
                for event in tf.compat.v1.train.summary_iterator(os.path.join(root, name)):
                    for value in event.summary.value:
                        found[value.tag] = (value.metadata.plugin_data.plugin_name, tf.make_ndarray(value.tensor))
    return found


def test_without_tensorboard_hparams_are_skipped_with_one_notice_and_summaries_are_still_written(tmp_path,
                                                                                             monkeypatch):
    monkeypatch.setattr(compat, "hparams_api", lambda: None)  # as where tensorboard is not installed
    monkeypatch.setattr(hparams, "_told", [])
    writer = tf.summary.create_file_writer(str(tmp_path))
    config = train.make_config(steps=2, output_dir=str(tmp_path / "run"), **TINY_TOY)
    lines = []
    assert hparams.write(writer, config, lambda *a, **k: lines.append(a[0])) is False
    assert hparams.write(writer, config, lambda *a, **k: lines.append(a[0])) is False
    assert len(lines) == 1 and "tensorboard is not installed" in lines[0] and "HParams" in lines[0]
    picture = np.arange(2 * 4 * 5 * 3, dtype=np.uint8).reshape(2, 4, 5, 3)
    with writer.as_default(step=3):
        compat.summary_scalar("train/x", 2.5)
        compat.summary_image("samples", picture, max_outputs=8)
    writer.flush()
    found = plugins_and_values(str(tmp_path))
    assert found["train/x"][0] == "scalars" and float(found["train/x"][1]) == 2.5
    plugin, value = found["samples"]  # TensorBoard's image record: width, height, then PNGs
    assert plugin == "images" and list(value[:2]) == [b"5", b"4"] and len(value) == 4
    np.testing.assert_array_equal(tf.io.decode_png(value[3]).numpy(), picture[1])


def found_scalars(run_dir) -> set:
    return {tag for tag, (plugin, _) in plugins_and_values(run_dir).items() if plugin == "scalars"}


def hparams_of(run_dir) -> dict:
    """The hyperparameters of the HParams plugin's session-start record in a run's event files ({} without
    tensorboard: then there is none, checked through TensorFlow's own reader)."""
    if compat.hparams_api() is None:
        assert "hparams" not in {plugin for plugin, _ in plugins_and_values(run_dir).values()}
        return {}
    from tensorboard.plugins.hparams import plugin_data_pb2
    found = {}
    for root, _, files in os.walk(os.path.join(run_dir, "tensorboard")):
        for name in files:
            for event in tf.compat.v1.train.summary_iterator(os.path.join(root, name)):
                for value in event.summary.value:
                    if value.metadata.plugin_data.plugin_name == "hparams":
                        data = plugin_data_pb2.HParamsPluginData.FromString(value.metadata.plugin_data.content)
                        for key, v in data.session_start_info.hparams.items():
                            found[key] = getattr(v, v.WhichOneof("kind"))
    return found


# ------------------------------------------------------------------------------------------------ presets
def test_presets_carry_the_papers_settings():
    l10 = train.make_config("cifar10_l10")
    assert (l10.space, l10.lam, l10.gamma, l10.lr, l10.n_critic, l10.batch_size, l10.steps) == (
        "lp:p=10", "auto", "auto", 2e-4, 5, 64, 100_000)
    assert train.make_config("cifar10_sobolev").space == "sobolev:s=-1.5,p=2,c=5"
    assert train.make_config("cifar10_l10").generator_batch_factor == 2  # 128 latents per generator step
    assert (l10.train_split, l10.flip, l10.dequantize, l10.drift, l10.ema_decay) == ("all", True, True, 1e-5, 0.999)
    gp = train.make_config("cifar10_wgan_gp")  # gan_cifar_resnet.py
    assert (gp.space, gp.lam, gp.gamma, gp.drift, gp.ema_decay, gp.generator_batch_size) == ("lp:p=2", 10.0, 1.0,
                                                                                            0.0, 0.0, 128)
    assert (gp.train_split, gp.flip, gp.dequantize) == ("train", False, True)
    wgan = train.make_config("lsun_wgan")
    assert (wgan.lipschitz, wgan.clip, wgan.lr, wgan.architecture) == ("weight_clipping", 0.01, 5e-5, "dcgan")
    assert (wgan.drift, wgan.ema_decay, wgan.lr_decay) == (0.0, 0.0, False)  # Algorithm 1: no drift, no average
    assert train.make_config("lsun_wgan_mlp").architecture == "mlp/dcgan"
    celeba = train.make_config("celeba_sobolev")  # adler-j/bwgan's loader: 128 crop at (50, 25), all, flip, dequantise
    assert (celeba.dataset, celeba.image_size, celeba.train_split, celeba.flip, celeba.dequantize) == (
        "celeb_a:crop=official", 64, "all", True, True)
    toy = train.make_config("toy_8gaussians")  # gan_toy.py
    assert (toy.lam, toy.gamma, toy.lr, toy.adam_beta1, toy.adam_beta2, toy.batch_size, toy.n_critic, toy.width,
            toy.lr_decay) == (0.1, 1.0, 1e-4, 0.5, 0.9, 256, 5, 512, False)
    demo = train.make_config("demo_8gaussians")
    assert (demo.lam, demo.adam_beta1, demo.lr, demo.width, demo.ema_decay) == (10.0, 0.0, 5e-4, 256, 0.99)
    model = train.build_model(train.make_config("toy_8gaussians", width=4))
    for optimizer in (model.generator_optimizer, model.critic_optimizer):
        assert (float(optimizer.beta_1), float(optimizer.beta_2)) == (0.5, 0.9)
    for name in train.PRESETS:
        assert train.make_config(name, steps=7).steps == 7  # flags override presets


@pytest.mark.parametrize("overrides,key", [
    (dict(space="l3"), "space"), (dict(dataset="imagenet"), "dataset"), (dict(n_critic=0), "n_critic"),
    (dict(lam="big"), "lam"), (dict(lipschitz="spectral"), "lipschitz"), (dict(architecture="vgg"), "architecture"),
    (dict(ema_decay=1.5), "ema_decay"), (dict(strategy="tpu"), "strategy"), (dict(xla="maybe"), "xla"),
    (dict(critic_normalization="batch"), "critic_normalization"), (dict(bogus=1), "unknown config keys"),
    (dict(generator_batch_size=100), "generator_batch_size: must be a multiple of batch_size 256, got 100"),
    (dict(adam_beta1=1.0), "adam_beta1"), (dict(gamma_rule="mine"), "gamma_rule"),
])
def test_bad_settings_raise_value_errors_naming_the_key(overrides, key):
    with pytest.raises(ValueError, match=key):
        train.make_config("toy_8gaussians", **overrides)


def test_unknown_dataset_and_space_list_the_known_ones():
    with pytest.raises(ValueError, match="cifar10.*celeb_a"):
        train.make_config(dataset="imagenet")
    with pytest.raises(ValueError, match="sobolev"):
        train.make_config(space="besov")


# ------------------------------------------------------------------------------------------------ runs
def test_toy_run_directory_holds_config_metrics_checkpoints_samples_and_tensorboard(tmp_path):
    run_dir = train.train(train.make_config(steps=20, output_dir=str(tmp_path / "toy"), **TINY_TOY),
                               print_fn=quiet)
    config = json.loads((tmp_path / "toy" / "config.json").read_text())
    assert config["lam"] == 10.0 and config["steps"] == 20 and config["space"] == "lp:p=2"
    records = run_dir_lib.read_metrics(run_dir)
    assert [r["step"] for r in records] == [1, 5, 10, 15, 20]
    for key in ("critic_loss", "generator_loss", "wasserstein", "penalty", "grad_norm", "lam", "gamma", "lr",
                "steps_per_s"):
        assert all(np.isfinite(r[key]) for r in records), key
    assert sorted(os.listdir(tmp_path / "toy" / "samples")) == ["step_0000010.png", "step_0000020.png"]
    assert all(is_png(tmp_path / "toy" / "samples" / name) for name in os.listdir(tmp_path / "toy" / "samples"))
    assert tf.train.latest_checkpoint(str(tmp_path / "toy" / "checkpoints")).endswith("ckpt-20")
    assert {"train/critic_loss", "train/steps_per_s", "samples"} <= event_tags(run_dir)
    # critic health at every log step, by its definition from the logged terms, in TensorBoard under health/
    assert config["drift_mode"] == "paper" and config["drift"] == 1e-5
    for r in records:
        total = abs(r["wasserstein"]) + r["penalty"] + r["drift"]
        assert r["w_over_gamma"] == r["wasserstein"]
        assert r["grad_norm_over_gamma"] == pytest.approx(r["grad_norm"] / r["gamma"])
        assert (r["drift_share"], r["penalty_share"]) == pytest.approx((r["drift"] / total, r["penalty"] / total))
    assert {"health/w_over_gamma", "health/drift_share", "health/penalty_share"} <= event_tags(run_dir)
    model, _ = train.load_model(run_dir)
    assert int(model.generator_steps.numpy()) == 20
    # A finished run trained again does nothing more.
    train.train(train.make_config(steps=20, output_dir=run_dir, **TINY_TOY), print_fn=quiet)
    assert len(run_dir_lib.read_metrics(run_dir)) == len(records)


def test_cifar_subset_run_resolves_lambda_gamma_and_logs_gradient_images(tmp_path, cifar_subset_path):
    config = train.make_config(
        dataset=f"npz:{cifar_subset_path}", space="sobolev:s=-1,p=2", lam="auto", gamma="auto", architecture="resnet",
        width=8, latent_dim=16, batch_size=4, n_critic=2, steps=2, log_every=1, sample_every=2, checkpoint_every=2,
        output_dir=str(tmp_path / "cifar"), xla=False)
    run_dir = train.train(config, print_fn=quiet)
    saved = run_dir_lib.read_config(run_dir)
    lam, gamma = saved["lam"], saved["gamma"]
    real = data.take(f"npz:{cifar_subset_path}", 2000)
    assert (lam, gamma) == pytest.approx(parameters.heuristic_lambda_gamma("sobolev:s=-1,p=2", real), rel=1e-5)
    assert saved["lam_gamma_source"] == {"lam": "heuristic", "gamma": "heuristic"}
    assert is_png(os.path.join(run_dir, "samples", "step_0000002.png"))
    logged = hparams_of(run_dir)  # the HParams plugin's session: the sweep's table in TensorBoard
    if compat.hparams_api() is not None:  # without tensorboard hparams_of checked that there is no such record
        assert (logged["s"], logged["p"], logged["lam"], logged["space"]) == (-1.0, 2.0, pytest.approx(lam),
                                                                              "sobolev:s=-1,p=2,c=5")
        assert (logged["width"], logged["lipschitz"], logged["mixed_precision"]) == (8, "gradient_penalty",
                                                                                     saved["mixed_precision"])
    assert found_scalars(run_dir) >= {"train/wasserstein", "train/critic_loss"}
    reals = tf.io.decode_png(tf.io.read_file(os.path.join(run_dir, "samples", "reals.png"))).numpy()
    first = data.take(f"npz:{cifar_subset_path}", 64, seed=config.seed + 1)[0]  # the grid's top-left image
    np.testing.assert_array_equal(reals[1:33, 1:33], np.clip(np.round((first + 1) * 127.5), 0, 255).astype(np.uint8))
    assert reals.shape == (8 * 33 + 1, 8 * 33 + 1, 3)
    tags = event_tags(run_dir)
    assert {"dD/raw_gradient", "dD/direction_in_B", "samples"} <= tags
    generator, _ = generators.load_generator(run_dir)
    assert generator(tf.zeros([1, 16])).shape == (1, 32, 32, 3)


def test_a_changed_model_setting_refuses_to_resume(tmp_path):
    train.train(train.make_config(steps=2, output_dir=str(tmp_path / "r"), **TINY_TOY), print_fn=quiet)
    with pytest.raises(ValueError, match="width"):
        train.train(train.make_config(steps=4, output_dir=str(tmp_path / "r"), **dict(TINY_TOY, width=8)),
                         print_fn=quiet)


def test_a_nan_in_the_data_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    real_load = data.load

    def poisoned(*args, **kwargs):
        clean = real_load(*args, **kwargs)
        bad_step = tf.constant(12, tf.int64)
        return clean.enumerate().map(lambda i, x: tf.where(i + 1 == bad_step, x * np.nan, x))

    monkeypatch.setattr(data, "load", poisoned)
    run_dir = str(tmp_path / "nan")
    # read on log and checkpoint steps only: seen at step 15 (log_every 5), last finite at 10
    with pytest.raises(train.NonFiniteLossError, match=r"generator step 15: \w+ is nan \(finite at step 10\).*ckpt-10"):
        train.train(train.make_config(steps=30, output_dir=run_dir, **TINY_TOY), print_fn=quiet)
    assert tf.train.latest_checkpoint(os.path.join(run_dir, "checkpoints")).endswith("ckpt-10")
    records = run_dir_lib.read_metrics(run_dir)
    assert max(r["step"] for r in records) == 10
    assert all(np.isfinite(v) for r in records for v in r.values() if isinstance(v, float))


MIRRORED_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from bwgan_tf import data, train
    settings = json.loads(sys.argv[1])
    result = {}
    for name in ("default", "mirrored"):
        # The training step itself, with plain SGD: Adam divides near-zero gradients (exact cancellations such as
        # the score bias) by their own size and so amplifies summation-order noise to full steps.
        config = train.make_config(output_dir=f"{sys.argv[2]}/sgd-{name}", strategy=name, **settings)
        strategy = tf.distribute.MirroredStrategy() if name == "mirrored" else tf.distribute.get_strategy()
        with strategy.scope():
            model = train.build_model(config)
            model.compile(tf.keras.optimizers.SGD(0.01), tf.keras.optimizers.SGD(0.01), jit_compile=False)
        dataset = data.load(config.dataset, batch_size=config.batch_size * config.n_critic, seed=3)
        model.fit(dataset, steps_per_epoch=config.steps, epochs=1, verbose=0)
        result["sgd-" + name] = [w.numpy().tolist() for w in model.generator.weights + model.critic.weights]
        # The whole trainer with the paper's optimizers runs under the strategy and resumes from its checkpoint.
        run_dir = train.train(config.replace(output_dir=f"{sys.argv[2]}/{name}"), print_fn=lambda *a, **k: None)
        model, _ = train.load_model(run_dir)
        result["steps-" + name] = int(model.generator_steps.numpy())
        result["lam-" + name] = json.loads(open(run_dir + "/metrics.jsonl").readlines()[-1])["lam"]
        result["replicas-" + name] = strategy.num_replicas_in_sync
    print(json.dumps(result))
""")


def test_mirrored_strategy_on_two_cpus_matches_one_device(tmp_path, project_root):
    settings = dict(TINY_TOY, steps=2, sample_every=0, checkpoint_every=2)
    result = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT, json.dumps(settings), str(tmp_path)],
                            capture_output=True, text=True, timeout=300, cwd=project_root)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["replicas-mirrored"] == 2 and out["replicas-default"] == 1
    assert out["steps-mirrored"] == out["steps-default"] == 2
    assert out["lam-mirrored"] == out["lam-default"] == 10.0  # logged scalars: means over replicas, not sums
    single, mirrored = out["sgd-default"], out["sgd-mirrored"]
    assert len(single) == len(mirrored) > 0
    # Summation order, and multi-threaded CPU kernels that differ in the last bits from run to run under load
    # (BUILD_NOTES.md): a wrong split of the batch would move the weights by the size of the updates.
    for a, b in zip(single, mirrored):
        np.testing.assert_allclose(np.array(b), np.array(a), rtol=1e-3, atol=3e-4)
    initial = train.build_model(train.make_config(**dict(settings, output_dir=str(tmp_path / "x"))))
    updates = [np.abs(np.array(a) - w.numpy()).max() for a, w in zip(single, initial.generator.weights +
                                                                     initial.critic.weights)]
    assert sum(u > 0 for u in updates) > len(updates) // 2 and max(updates) > 30 * 3e-4  # equality is not trivial


def test_mixed_precision_trains_with_float32_norms(tmp_path):
    run_dir = train.train(train.make_config(steps=3, output_dir=str(tmp_path / "mp"), mixed_precision=True,
                                                      **TINY_TOY), print_fn=quiet)
    assert tf.keras.mixed_precision.global_policy().name == "float32"  # restored after the run
    records = run_dir_lib.read_metrics(run_dir)
    assert all(np.isfinite(r["critic_loss"]) for r in records)


def test_training_evaluates_with_a_stand_in_classifier_and_the_tool_evaluates_the_run(tmp_path, cifar_subset_path,
                                                                                    project_root):
    from bwgan_tf import metrics
    classifier = metrics.save_classifier(metrics.build_classifier(width=4, feature_dim=8), str(tmp_path / "tiny.keras"))
    config = train.make_config(
        dataset=f"npz:{cifar_subset_path}", architecture="resnet", width=8, latent_dim=16, lam=10.0, gamma=1.0,
        batch_size=4, n_critic=1, steps=2, sample_every=0, log_every=1, eval_every=2, eval_metrics="is,fid",
        eval_num_samples=20, eval_classifier=classifier, output_dir=str(tmp_path / "run"), xla=False)
    run_dir = train.train(config, print_fn=quiet)
    evaluations = run_dir_lib.evaluations(run_dir)
    assert evaluations and evaluations[-1]["step"] == 2
    assert np.isfinite(evaluations[-1]["fd20_tiny"]) and evaluations[-1]["fd20_tiny"] > 0
    assert not any(k.startswith("fid") for k in evaluations[-1])  # a stand-in's distance is never called FID
    result = subprocess.run([sys.executable, str(project_root / "tools" / "evaluate.py"), f"--run_dir={run_dir}",
                             f"--classifier={classifier}", f"--reference=npz:{cifar_subset_path}", "--metrics=fid",
                             "--num_samples=20", f"--cache_dir={tmp_path / 'cache'}"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert np.isfinite(report["fd20_tiny"])
