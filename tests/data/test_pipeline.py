"""bwgan_tf.data: TFDS (mocked), npz (real CIFAR-10 subset), folders, toys, determinism, errors, MirroredStrategy."""
import logging
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from bwgan_tf import data
from bwgan_tf.data import toy


def _first(spec, n=2, **kwargs):
    it = iter(data.load(spec, **kwargs))
    return [next(it).numpy() for _ in range(n)]


# ------------------------------------------------------------------------------------------------ TFDS (mocked)
@pytest.mark.parametrize("spec,shape", [("cifar10", (32, 32, 3)), ("celeb_a", (64, 64, 3)),
                                        ("lsun_bedroom", (64, 64, 3))])
def test_tfds_mock_shapes_range_dtype(spec, shape):
    import tensorflow_datasets as tfds
    with tfds.testing.mock_data(num_examples=12):
        batch = next(iter(data.load(spec, batch_size=4, seed=1)))
    assert batch.dtype == tf.float32
    assert tuple(batch.shape) == (4,) + shape == (4,) + data.sample_shape(spec)
    values = batch.numpy()
    assert values.min() >= -1.0 and values.max() <= 1.0 and values.std() > 0.05


def test_celeb_a_uses_the_central_108_crop():
    """A mock face whose central 108x108 is white and the rest black must come out all white (+1)."""
    import tensorflow_datasets as tfds
    image = np.zeros((218, 178, 3), np.uint8)
    image[55:163, 35:143] = 255

    def as_dataset(self, *args, **kwargs):
        return tf.data.Dataset.from_tensors({"image": image, "attributes": {}, "landmarks": {}}).repeat(8)

    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        batch = next(iter(data.load("celeb_a", batch_size=2))).numpy()
    assert np.allclose(batch, 1.0, atol=1e-3)


def test_celeb_a_official_crop_is_128_at_row_50_column_25_resized_bilinearly():
    import tensorflow_datasets as tfds
    image = np.random.default_rng(0).integers(0, 256, (218, 178, 3), np.uint8)

    def as_dataset(self, *args, **kwargs):
        return tf.data.Dataset.from_tensors({"image": image, "attributes": {}, "landmarks": {}}).repeat(4)

    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        batch = next(iter(data.load("celeb_a:crop=official", batch_size=2, image_size=64, shuffle=False))).numpy()
    crop = image[50:178, 25:153].astype(np.float64)
    # bilinear 128 -> 64 with half-pixel centres: each output pixel is the mean of a 2x2 block
    expected = crop.reshape(64, 2, 64, 2, 3).mean(axis=(1, 3)) / 127.5 - 1
    np.testing.assert_allclose(batch[0], expected, atol=1e-5)
    with pytest.raises(ValueError, match="crop=official or crop=central"):
        data.load("celeb_a:crop=tight")


def test_missing_tfds_dataset_offline_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        data.load("cifar10", data_dir=str(tmp_path))
    message = str(info.value)
    assert "cifar10" in message and str(tmp_path) in message and "tfds build" in message
    with pytest.raises(FileNotFoundError, match="manual"):
        data.load("celeb_a", data_dir=str(tmp_path))


# ------------------------------------------------------------------------------------------------ npz
def test_npz_real_cifar_subset_range_and_channel_means(cifar_subset_path):
    with np.load(cifar_subset_path) as archive:
        raw, raw_test = archive["x_train"], archive["x_test"]
    spec = f"npz:{cifar_subset_path}"
    full = next(iter(data.load(spec, batch_size=len(raw), repeat=False, shuffle=False))).numpy()
    assert full.shape == raw.shape and full.dtype == np.float32
    assert full.min() >= -1.0 and full.max() <= 1.0 and full.min() < -0.99 and full.max() > 0.99
    expected = raw.reshape(-1, 3).astype(np.float64).mean(0) / 127.5 - 1.0
    np.testing.assert_allclose(full.reshape(-1, 3).astype(np.float64).mean(0), expected, atol=1e-6)
    shuffled = next(iter(data.load(spec, batch_size=2000, seed=3))).numpy()  # a seeded random 2000
    np.testing.assert_allclose(shuffled.reshape(-1, 3).mean(0), expected, atol=0.03)
    assert not np.array_equal(shuffled[:10], full[:10])
    test = next(iter(data.load(spec, split="test", batch_size=len(raw_test), shuffle=False))).numpy()
    np.testing.assert_allclose(test, raw_test / 127.5 - 1.0, atol=1e-6)


def test_npz_float_arrays_checked_and_single_array(tmp_path):
    path = tmp_path / "f.npz"
    values = np.linspace(-1, 1, 4 * 8 * 8 * 1, dtype=np.float32).reshape(4, 8, 8, 1)
    np.savez(path, images=values)
    out = next(iter(data.load(f"npz:{path}", batch_size=4, shuffle=False))).numpy()
    np.testing.assert_array_equal(out, values)
    assert data.sample_shape(f"npz:{path}") == (8, 8, 1)
    np.savez(tmp_path / "bad.npz", images=values * 3)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        data.load(f"npz:{tmp_path / 'bad.npz'}")
    np.savez(tmp_path / "train_only.npz", x_train=values)
    with pytest.raises(ValueError, match="x_test"):
        data.load(f"npz:{tmp_path / 'train_only.npz'}", split="test")


def test_empty_or_foreign_npz_is_a_value_error_naming_the_file(tmp_path):
    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "text.npz").write_text("not an archive")
    with pytest.raises(ValueError, match=r"npz spec: .*empty.npz.* is empty \(0 bytes\)"):
        data.load(f"npz:{tmp_path / 'empty.npz'}")
    with pytest.raises(ValueError, match=r"npz spec: .*text.npz.* is not a NumPy .npz archive"):
        data.sample_shape(f"npz:{tmp_path / 'text.npz'}")


def test_float_npz_inside_0_1_is_refused_unless_the_spec_states_its_range(tmp_path):
    values = np.linspace(0, 1, 4 * 2 * 2 * 3, dtype=np.float32).reshape(4, 2, 2, 3)
    np.savez(tmp_path / "unit.npz", x_train=values)
    path = tmp_path / "unit.npz"
    with pytest.raises(ValueError, match=f"state its range: npz:{path}:range=0,1"):
        data.load(f"npz:{path}")
    as_unit = next(iter(data.load(f"npz:{path}:range=0,1", batch_size=4, shuffle=False))).numpy()
    np.testing.assert_allclose(as_unit, values * 2 - 1, atol=1e-6)
    as_is = next(iter(data.load(f"npz:{path}:range=-1,1", batch_size=4, shuffle=False))).numpy()
    np.testing.assert_array_equal(as_is, values)
    assert data.sample_shape(f"npz:{path}:range=0,1") == (2, 2, 3)
    with pytest.raises(ValueError, match="range must be one of 0,1, -1,1"):
        data.load(f"npz:{path}:range=0,255")
    np.savez(tmp_path / "wide.npz", x_train=values * 2 - 0.5)  # [-0.5, 1.5]: outside the stated range
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        data.load(f"npz:{tmp_path / 'wide.npz'}:range=0,1")
    np.savez(tmp_path / "bytes.npz", x_train=np.zeros((2, 2, 2, 3), np.uint8))
    with pytest.raises(ValueError, match="range= applies to float arrays"):
        data.load(f"npz:{tmp_path / 'bytes.npz'}:range=0,1")


def test_repeat_warning_when_the_data_is_smaller_than_one_step(tmp_path):
    np.savez(tmp_path / "few.npz", x_train=np.zeros((100, 2, 2, 3), np.uint8))
    spec = f"npz:{tmp_path / 'few.npz'}"
    assert data.num_images(spec) == 100 and data.num_images("cifar10") is None
    message = data.repeat_warning(spec, data.num_images(spec), batch_size=64, n_critic=5)
    assert message == (f"warning: dataset {spec} has 100 images, fewer than one training step reads (batch_size 64 "
                       "x n_critic 5 = 320), so images repeat within a step")
    assert data.repeat_warning(spec, 100, batch_size=20, n_critic=5) is None  # exactly one step
    assert data.repeat_warning("cifar10", None, batch_size=64, n_critic=5) is None  # size unknown


# ------------------------------------------------------------------------------------------------ folders
def test_folder_mixed_sizes_and_corrupt_file(tmp_path, caplog):
    from PIL import Image
    rng = np.random.default_rng(0)
    (tmp_path / "sub").mkdir()
    for i, (h, w) in enumerate([(40, 60), (100, 50), (64, 64), (33, 90)]):
        ext = "png" if i % 2 else "jpg"
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(tmp_path / "sub" / f"{i}.{ext}")
    Image.fromarray(rng.integers(0, 256, (20, 20), dtype=np.uint8)).save(tmp_path / "gray.png")  # 1 channel
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    (tmp_path / "notes.txt").write_text("ignored")
    with caplog.at_level(logging.WARNING, logger="bwgan_tf.data"):
        ds = data.load(f"folder:{tmp_path}", batch_size=5, image_size=16, repeat=False)
    assert "skipped 1" in caplog.text
    batches = [b.numpy() for b in ds]
    assert len(batches) == 1 and batches[0].shape == (5, 16, 16, 3)
    assert batches[0].min() >= -1.0 and batches[0].max() <= 1.0


def test_folder_files_are_opened_once_per_process_with_progress_lines(tmp_path, monkeypatch, capsys):
    from PIL import Image

    from bwgan_tf.data import sources
    for i in range(3):
        Image.fromarray(np.full((8, 8, 3), i, np.uint8)).save(tmp_path / f"{i}.png")
    opened = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda file, *a, **k: opened.append(file) or real_open(file, *a, **k))
    monkeypatch.setattr(sources, "PROGRESS_EVERY_S", 0.0)
    for _ in range(2):  # e.g. the lam/gamma heuristic's read, then training's
        assert len(sources.folder_files(str(tmp_path))) == 3
    assert sorted(opened) == sorted(str(tmp_path / f"{i}.png") for i in range(3))
    assert f"checking the images of folder {tmp_path}: 3/3 images" in capsys.readouterr().err


def test_center_crop_of_a_wide_image_keeps_the_middle(tmp_path):
    from PIL import Image
    image = np.zeros((32, 96, 3), np.uint8)
    image[:, 32:64] = 255  # white middle third: the central square after resizing 32 -> 16 rows
    Image.fromarray(image).save(tmp_path / "wide.png")
    out = next(iter(data.load(f"folder:{tmp_path}", batch_size=1, image_size=16))).numpy()[0]
    assert np.allclose(out[:, 2:-2], 1.0, atol=1e-3)


def test_take_counts_exactly(tmp_path):
    np.savez(tmp_path / "a.npz", x_train=np.random.default_rng(0).integers(0, 256, (300, 2, 2, 3), np.uint8))
    spec = f"npz:{tmp_path / 'a.npz'}"
    assert data.take(spec, 257, seed=1).shape == (257, 2, 2, 3)
    everything = data.take(spec, 1000, seed=1)  # fewer available: all 300, each once
    assert everything.shape == (300, 2, 2, 3)
    assert len({row.tobytes() for row in everything}) == 300
    np.testing.assert_array_equal(data.take(spec, 5, seed=2), data.take(spec, 5, seed=2))


def test_empty_folder_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="no readable"):
        data.load(f"folder:{tmp_path}")


# ------------------------------------------------------------------------------------------------ determinism
@pytest.mark.parametrize("kind", ["npz", "toy"])
def test_same_seed_same_batches_different_seed_different(kind, tmp_path):
    if kind == "npz":
        np.savez(tmp_path / "a.npz", x_train=np.random.default_rng(0).integers(0, 256, (50, 4, 4, 3), np.uint8))
        spec = f"npz:{tmp_path / 'a.npz'}"
    else:
        spec = "toy:25gaussians"
    a, b, c = (_first(spec, 3, batch_size=8, seed=s) for s in (7, 7, 8))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])
    assert not np.array_equal(a[0], a[1])


def test_folder_and_tfds_deterministic(tmp_path):
    import tensorflow_datasets as tfds
    from PIL import Image
    rng = np.random.default_rng(1)
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    spec = f"folder:{tmp_path}"
    np.testing.assert_array_equal(_first(spec, batch_size=4, image_size=8, seed=5)[1],
                                  _first(spec, batch_size=4, image_size=8, seed=5)[1])
    assert not np.array_equal(_first(spec, 1, batch_size=4, image_size=8, seed=5)[0],
                              _first(spec, 1, batch_size=4, image_size=8, seed=6)[0])
    with tfds.testing.mock_data(num_examples=40):
        first = _first("cifar10", batch_size=8, seed=2)
        again = _first("cifar10", batch_size=8, seed=2)
        other = _first("cifar10", batch_size=8, seed=3)
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])


def _ten_images_spec(kind, tmp_path, seed):
    """A spec of 10 random 4x4 images as an npz or a folder of PNGs, or the 8-gaussians toy."""
    from PIL import Image
    images = np.random.default_rng(seed).integers(0, 256, (10, 4, 4, 3), np.uint8)
    if kind == "npz":
        np.savez(tmp_path / "a.npz", x_train=images)
        return f"npz:{tmp_path / 'a.npz'}"
    if kind == "folder":
        for i, image in enumerate(images):
            Image.fromarray(image).save(tmp_path / f"{i}.png")
        return f"folder:{tmp_path}"
    return "toy:8gaussians"


@pytest.mark.parametrize("kind", ["npz", "folder", "toy"])
def test_start_batch_continues_the_stream_where_a_resumed_run_left_it(kind, tmp_path):
    spec = _ten_images_spec(kind, tmp_path, seed=2)
    # batch 4 over 10 images: batches cross epoch boundaries, and start_batch=3 starts inside the second epoch
    augment = {} if kind == "toy" else dict(flip=True, dequantize=True)  # the augmentation is keyed by batch too
    stream = _first(spec, 8, batch_size=4, seed=5, image_size=4, **augment)
    resumed = _first(spec, 5, batch_size=4, seed=5, image_size=4, start_batch=3, **augment)
    for x, y in zip(stream[3:], resumed):
        np.testing.assert_array_equal(x, y)
    if kind != "toy":  # each epoch holds every image once, in a new order
        flat = np.concatenate(_first(spec, 8, batch_size=4, seed=5, image_size=4))[:30].reshape(3, 10, -1)
        for epoch in flat:
            assert len({row.tobytes() for row in epoch}) == 10
        assert not np.array_equal(flat[0], flat[1])


@pytest.mark.parametrize("kind", ["npz", "folder", "toy"])
def test_worker_shards_are_the_contiguous_parts_of_the_batch_one_process_loads(kind, tmp_path):
    spec = _ten_images_spec(kind, tmp_path, seed=4)
    settings = dict(batch_size=6, seed=5, image_size=4, start_batch=2)  # batches cross epochs; a resumed stream
    settings.update({} if kind == "toy" else dict(flip=True, dequantize=True))  # drawn for the whole batch
    whole = _first(spec, 3, **settings)
    parts = [_first(spec, 3, shard=(i, 3), **settings) for i in range(3)]
    for step, batch in enumerate(whole):
        assert all(part[step].shape[0] == 2 for part in parts)
        np.testing.assert_array_equal(np.concatenate([part[step] for part in parts]), batch)
    with pytest.raises(ValueError, match="batch_size 6 must be a multiple of the 4 workers"):
        data.load(spec, batch_size=6, shard=(0, 4))
    with pytest.raises(ValueError, match=r"shard index must be in \[0, 2\), got 2"):
        data.load(spec, batch_size=6, shard=(2, 2))


def test_tfds_shards_split_the_examples_between_workers():
    import tensorflow_datasets as tfds
    with tfds.testing.mock_data(num_examples=8):
        parts = [np.concatenate(_first("cifar10", 2, batch_size=4, shard=(i, 2), shuffle=False, repeat=False))
                 for i in range(2)]
        whole = np.concatenate(_first("cifar10", 2, batch_size=4, shuffle=False, repeat=False))
    assert parts[0].shape == parts[1].shape == (4, 32, 32, 3)
    rows = lambda x: {r.tobytes() for r in x}  # noqa: E731
    assert rows(parts[0]) | rows(parts[1]) == rows(whole) and not rows(parts[0]) & rows(parts[1])


def test_flips_mirror_about_half_the_images_and_dequantisation_adds_uniform_noise_of_one_level(tmp_path):
    images = np.random.default_rng(3).integers(0, 256, (512, 8, 8, 3), np.uint8)
    np.savez(tmp_path / "a.npz", x_train=images)
    spec = f"npz:{tmp_path / 'a.npz'}"
    plain = _first(spec, 1, batch_size=512, seed=4, shuffle=False)[0]
    flipped = _first(spec, 1, batch_size=512, seed=4, shuffle=False, flip=True)[0]
    same = np.all(flipped == plain, axis=(1, 2, 3))
    mirrored = np.all(flipped == plain[:, :, ::-1], axis=(1, 2, 3))
    assert np.all(same | mirrored) and 0.4 < mirrored.mean() < 0.6
    noisy = _first(spec, 1, batch_size=512, seed=4, shuffle=False, dequantize=True)[0]
    noise = noisy - plain
    assert noise.min() >= 0 and noise.max() < 2 / 256  # U[0, 1/256) in [0, 1] units
    assert noise.mean() == pytest.approx(1 / 256, rel=0.01) and noise.std() == pytest.approx(2 / 256 / 12 ** 0.5,
                                                                                           rel=0.01)
    with pytest.raises(ValueError, match="flip and dequantize apply to images"):
        data.load("toy:8gaussians", flip=True)


def test_split_all_is_every_image_of_the_archive(tmp_path):
    train, test = (np.full((n, 4, 4, 3), v, np.uint8) for n, v in ((10, 0), (5, 255)))
    np.savez(tmp_path / "a.npz", x_train=train, x_test=test)
    spec = f"npz:{tmp_path / 'a.npz'}"
    epoch = np.concatenate(_first(spec, 3, batch_size=5, seed=1, split="all"))
    assert (epoch[:, 0, 0, 0] == 1).sum() == 5 and (epoch[:, 0, 0, 0] == -1).sum() == 10
    assert data.num_images(spec, "all") == 15


# ------------------------------------------------------------------------------------------------ toys
def test_8gaussians_within_3_std_of_a_centre_and_all_used():
    centres, std = data.toy_modes("toy:8gaussians")
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 2 / 1.414, rtol=1e-6)
    assert std == pytest.approx(0.02 / 1.414)
    points = data.take("toy:8gaussians", 4000, seed=0)
    distance = np.linalg.norm(points[:, None] - centres[None], axis=2)
    # 3 std per coordinate; |N(0, I_2)| > 3 * sqrt(2)  has probability exp(-9) ~ 1e-4
    assert np.all(distance.min(1) < 3 * std * np.sqrt(2))
    counts = np.bincount(distance.argmin(1), minlength=8)
    assert np.all(counts > 4000 / 8 * 0.8)
    per_coordinate = (points - centres[distance.argmin(1)]).std(0)
    np.testing.assert_allclose(per_coordinate, std, rtol=0.1)


def test_toy_batch_i_is_the_stateless_draw_for_seed_i():
    batches = _first("toy:swissroll", 3, batch_size=16, seed=11)
    for i, batch in enumerate(batches):
        np.testing.assert_array_equal(batch, toy.sample("swissroll", 16, [11, i]).numpy())


def test_25gaussians_swissroll_parallel_lines():
    centres, std = data.toy_modes("toy:25gaussians")
    assert centres.shape == (25, 2) and std == pytest.approx(0.05 / 2.828)
    np.testing.assert_allclose(sorted(set(np.round(centres[:, 0], 5))), np.array([-4, -2, 0, 2, 4]) / 2.828, atol=1e-5)
    points = data.take("toy:25gaussians", 2000, seed=1)
    assert len(np.unique(np.linalg.norm(points[:, None] - centres[None], axis=2).argmin(1))) == 25
    roll = data.take("toy:swissroll", 4000, seed=0)
    radius = np.linalg.norm(roll, axis=1) * 7.5  # |(t cos t, t sin t)| = t in [1.5 pi, 4.5 pi], plus noise
    assert radius.min() > 1.5 * np.pi - 1.5 and radius.max() < 4.5 * np.pi + 1.5
    lines = data.take("toy:parallel_lines:theta=0.5", 1000)
    assert np.all(lines[:, 0] == 0.5) and lines[:, 1].min() >= 0 and lines[:, 1].max() <= 1
    assert abs(lines[:, 1].mean() - 0.5) < 0.05
    assert np.all(data.take("toy:parallel_lines", 10)[:, 0] == 0.0)
    assert data.sample_shape("toy:swissroll") == (2,)
    with pytest.raises(ValueError, match="no discrete modes"):
        data.toy_modes("toy:swissroll")


# ------------------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("spec", ["mnist", "", None, "toy:9gaussians", "npz:", "folder", "toy:parallel_lines:phi=1"])
def test_bad_spec_is_a_value_error_listing_known_specs(spec):
    with pytest.raises(ValueError) as info:
        data.load(spec)
    message = str(info.value)
    assert "spec" in message
    if spec != "toy:parallel_lines:phi=1":
        assert "cifar10" in message and "toy:8gaussians" in message
    else:
        assert "theta" in message


@pytest.mark.parametrize("kwargs,name", [({"batch_size": 0}, "batch_size"), ({"split": "dev"}, "split"),
                                         ({"image_size": -4}, "image_size"), ({"seed": -1}, "seed"),
                                         ({"batch_size": 2.5}, "batch_size")])
def test_bad_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        data.load("toy:8gaussians", **kwargs)


def test_toy_modes_of_an_image_spec_and_missing_npz():
    with pytest.raises(ValueError, match="toy"):
        data.toy_modes("cifar10")
    with pytest.raises(ValueError, match="no such file"):
        data.load("npz:/nonexistent/file.npz")


# ------------------------------------------------------------------------------------------------ distribution
def test_mirrored_strategy_splits_the_global_batch_over_two_cpus(tmp_path):
    script = textwrap.dedent(f"""
        import numpy as np, tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from bwgan_tf import data
        np.savez({str(tmp_path / 'd.npz')!r}, x_train=np.arange(16 * 2 * 2 * 3, dtype=np.uint8).reshape(16, 2, 2, 3))
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        spec = "npz:" + {str(tmp_path / 'd.npz')!r}
        dist = iter(data.distribute(spec, strategy, global_batch_size=8, seed=4))
        plain = iter(data.load(spec, batch_size=8, seed=4))
        for _ in range(3):
            parts = strategy.experimental_local_results(next(dist))
            assert [tuple(p.shape) for p in parts] == [(4, 2, 2, 3)] * 2, parts
            np.testing.assert_array_equal(np.concatenate([p.numpy() for p in parts]), next(plain).numpy())
        toys = strategy.experimental_local_results(next(iter(data.distribute("toy:8gaussians", strategy, 6))))
        assert [tuple(p.shape) for p in toys] == [(3, 2)] * 2
        try:
            data.distribute(spec, strategy, global_batch_size=7)
        except ValueError as error:
            assert "global_batch_size" in str(error)
        else:
            raise SystemExit("no ValueError for an odd global batch")
        print("OK")
    """)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0 and "OK" in result.stdout, result.stderr[-3000:]
