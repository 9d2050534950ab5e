"""The reference-statistics cache never returns a stale number: an npz file or an image folder edited in place
misses it, generated sets are never cached under a data spec's key, a hit names its file on stderr, and the cache
is bounded without touching files the package did not write."""
import os
import re
import time

import numpy as np
import pytest
from metric_fakes import tiny_extractor
from PIL import Image

from bwgan_tf import metrics
from bwgan_tf.runs import export, scoring


def images(seed, n=12):
    return np.random.default_rng(seed).integers(0, 256, size=(n, 8, 8, 3), dtype=np.uint8)


def direct_mean(extractor, uint8_images):
    feats, _ = extractor(uint8_images.astype(np.float32) / 127.5 - 1.0)
    return np.asarray(feats, np.float64).mean(0)


def same_size_and_mtime_rewrite(path, write):
    """Rewrites `path` in place with `write(path)` and gives it back its old mtime (as a copy tool or an editor
    that keeps timestamps would): only the content tells that it changed."""
    stat = os.stat(path)
    write(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert os.path.getsize(path) == stat.st_size


def test_an_npz_edited_in_place_misses_the_cache_and_a_hit_names_its_file(tmp_path, capsys):
    path, cache, extractor = tmp_path / "set.npz", tmp_path / "cache", tiny_extractor([])
    np.savez(path, x_train=images(0))
    spec = f"npz:{path}"
    first = metrics.reference_statistics(spec, extractor, num=metrics.ALL, cache_dir=cache, what="--samples")
    assert not first.from_cache
    np.testing.assert_allclose(first.mean, direct_mean(extractor, images(0)), rtol=1e-5)
    capsys.readouterr()
    again = metrics.reference_statistics(spec, extractor, num=metrics.ALL, cache_dir=cache, what="--samples")
    (entry,) = os.listdir(cache)
    assert again.from_cache
    hit = capsys.readouterr().err.strip().splitlines()
    assert len(hit) == 1 and hit[0].startswith(f"--samples: statistics of {spec} (12 images) read from the cache ")
    assert hit[0].endswith(str(cache / entry))
    same_size_and_mtime_rewrite(path, lambda p: np.savez(p, x_train=images(1)))
    edited = metrics.reference_statistics(spec, extractor, num=metrics.ALL, cache_dir=cache, what="--samples")
    assert not edited.from_cache
    np.testing.assert_allclose(edited.mean, direct_mean(extractor, images(1)), rtol=1e-5)
    assert np.abs(edited.mean - first.mean).max() > 1e-3
    assert "computed from other contents" in capsys.readouterr().err
    assert os.listdir(cache) == [entry]  # the stale entry was replaced, not kept beside the new one
    assert metrics.reference_statistics(spec, extractor, num=metrics.ALL, cache_dir=cache).from_cache


def test_a_folder_whose_images_were_replaced_misses_the_cache(tmp_path):
    folder, cache, extractor = tmp_path / "samples", tmp_path / "cache", tiny_extractor([])
    folder.mkdir()

    def save(path, image):  # uncompressed PNG: every 8x8 image gives a file of the same size
        Image.fromarray(image).save(path, compress_level=0)

    for i, image in enumerate(images(0, 6)):
        save(folder / f"seed{i:06d}.png", image)
    spec = f"folder:{folder}"
    first = scoring.set_statistics(spec, extractor, cache_dir=cache, image_size=8)
    assert not first.from_cache and scoring.set_statistics(spec, extractor, cache_dir=cache, image_size=8).from_cache
    for i, image in enumerate(images(1, 6)):  # regenerated: the same names, sizes and mtimes, other images
        same_size_and_mtime_rewrite(folder / f"seed{i:06d}.png", lambda p, im=image: save(p, im))
    regenerated = scoring.set_statistics(spec, extractor, cache_dir=cache, image_size=8)
    assert not regenerated.from_cache
    np.testing.assert_allclose(regenerated.mean, direct_mean(extractor, images(1, 6)), rtol=1e-5)
    save(folder / "seed000099.png", images(2, 1)[0])  # one more image
    grown = scoring.set_statistics(spec, extractor, cache_dir=cache, image_size=8)
    assert not grown.from_cache and grown.count == 7


def test_generated_sets_are_never_cached_under_a_data_spec_key(tmp_path):
    path, cache, extractor = tmp_path / "set.npz", tmp_path / "cache", tiny_extractor([])
    np.savez(path, x_train=images(0))
    spec = f"npz:{path}"
    generated = [images(5).astype(np.float32) / 127.5 - 1.0]  # other images, named like the data spec
    named = metrics.reference_statistics(generated, extractor, num=12, cache_dir=cache, name=spec)
    real = metrics.reference_statistics(spec, extractor, num=12, cache_dir=cache)
    assert not real.from_cache
    np.testing.assert_allclose(real.mean, direct_mean(extractor, images(0)), rtol=1e-5)
    assert np.abs(real.mean - named.mean).max() > 1e-3
    # a generator scored through scoring (run directory or export) is never cached at all
    import tensorflow as tf
    gen = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(8 * 8 * 3, activation="tanh"),
                               tf.keras.layers.Reshape((8, 8, 3))])
    exported = export.export_generator(gen, str(tmp_path / "export"), latent_dim=4)
    other_cache = tmp_path / "other_cache"
    stats = scoring.set_statistics(exported, extractor, num=10, cache_dir=other_cache)
    assert stats.count == 10 and not os.path.exists(other_cache)
    result = scoring.score(exported, spec, "fid", extractor, num_samples=10, cache_dir=other_cache)
    (entry,) = os.listdir(other_cache)  # the data set's statistics alone
    with np.load(other_cache / entry) as cached:
        assert spec in str(cached["key"])
    assert result["fd10_tiny"] > 0


def test_the_cache_is_bounded_and_deletes_only_its_own_entries(tmp_path, monkeypatch):
    from bwgan_tf.metrics import reference_cache
    cache, extractor = tmp_path / "cache", tiny_extractor([])
    cache.mkdir()
    np.savez(cache / "ref-mine-0123456789.npz", weights=np.arange(3))  # named like an entry, but not one
    np.savez(cache / "data.npz", mean=np.zeros(2), cov=np.eye(2))
    (cache / "notes.txt").write_bytes(b"keep me")
    foreign = set(os.listdir(cache))
    for i in range(4):
        np.savez(tmp_path / f"set{i}.npz", x_train=images(i))

    def stats(i):
        time.sleep(0.05)  # distinct mtimes, whatever the file system's clock granularity
        return metrics.reference_statistics(f"npz:{tmp_path / f'set{i}.npz'}", extractor, num=12, cache_dir=cache)

    def kept():
        return sorted(re.search(r"set\d", os.path.basename(p)).group() for p, _ in reference_cache.entries(str(cache)))

    stats(0)
    (entry_size,) = {size for _, size in reference_cache.entries(str(cache))}
    monkeypatch.setenv(reference_cache.LIMIT_ENV, str(2.5 * entry_size / 2**20))  # room for two entries
    for i in range(1, 4):
        stats(i)
    assert kept() == ["set2", "set3"]
    assert foreign <= set(os.listdir(cache)) and (cache / "notes.txt").read_bytes() == b"keep me"
    assert stats(2).from_cache  # a hit makes an entry the most recently used: set3's is now the oldest
    stats(0)
    assert kept() == ["set0", "set2"]
    assert foreign <= set(os.listdir(cache))
    monkeypatch.setenv(reference_cache.LIMIT_ENV, "lots")
    with pytest.raises(ValueError, match=f"^{reference_cache.LIMIT_ENV} must be a number"):
        reference_cache.limit_bytes()
