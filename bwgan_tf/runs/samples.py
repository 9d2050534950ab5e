"""Images of a generator for people and for other tools: N samples of a seed (a PNG grid, an .npz), one PNG per seed
(the input of pytorch-fid, clean-fid and torch-fidelity) and interpolation strips. Latents follow bwgan_tf.latents,
so the same seed gives the same images from a run directory and from its export."""
import io
import os
from typing import Optional

import numpy as np

from bwgan_tf import latents
from bwgan_tf.io import files, images, progress
from bwgan_tf.metrics import sampling


def parse_seeds(text: str) -> list:
    """'0-3,7' -> [0, 1, 2, 3, 7]; ValueError naming --seeds."""
    seeds = []
    for part in filter(None, (p.strip() for p in str(text).split(","))):
        first, dash, last = part.partition("-")
        try:
            low, high = int(first), int(last if dash else first)
        except ValueError:
            raise ValueError(f"--seeds: {part!r} is not a seed or a range A-B of seeds >= 0") from None
        if low < 0 or high < low:
            raise ValueError(f"--seeds: {part!r} must be a seed >= 0 or a range A-B with 0 <= A <= B")
        seeds.extend(range(low, high + 1))
    if not seeds:
        raise ValueError("--seeds: give seeds such as 0-49999 or 1,5,9")
    return seeds


def uint8_images(sampler: sampling.Sampler, z) -> np.ndarray:
    """The generator's images of latents z as uint8 (quantised as bwgan_tf.io.images.to_uint8)."""
    return images.to_uint8(np.asarray(sampler.generate(z), np.float32))


def samples_uint8(sampler: sampling.Sampler, num: int = 64, seed: int = 0, limit: Optional[int] = None,
                  source: str = "the export") -> np.ndarray:
    """uint8 [num, H, W, C]: the images of latents.for_seed(seed, num); `limit` (the max_samples of the export
    `source`) is checked first."""
    if limit is not None and num > limit:
        raise ValueError(f"--num: {source} serves at most {limit} samples (its max_samples), got {num}; ask for "
                         f"fewer or export again with tools/export.py --max_samples={num}")
    return uint8_images(sampler, latents.for_seed(seed, num, sampler.latent_dim))


def write_npz(path: str, batch: np.ndarray, seed: int) -> None:
    """images (uint8 [N, H, W, C]) and their seed in a compressed .npz, written atomically."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, images=batch, seed=seed)
    files.write_bytes_atomically(path, buffer.getvalue())


def write_seed_folder(sampler: sampling.Sampler, seeds, outdir: str, batch_size: int = 256) -> int:
    """seedKKKKKK.png in outdir for each seed k (its first latent vector, latents.for_seeds); returns the number
    written."""
    if os.path.isfile(outdir):
        raise ValueError(f"--outdir: {outdir!r} is a file; give a folder")
    os.makedirs(outdir, exist_ok=True)
    width = max(6, len(str(max(seeds))))
    report = progress.Progress(f"images of {len(seeds)} seeds", len(seeds))
    for start in range(0, len(seeds), batch_size):
        chunk = seeds[start:start + batch_size]
        for k, image in zip(chunk, uint8_images(sampler, latents.for_seeds(chunk, sampler.latent_dim))):
            images.write_png(os.path.join(outdir, f"seed{k:0{width}d}.png"), image)
        report.update(len(chunk))
    report.done()
    return len(seeds)


def interpolation_strip(sampler: sampling.Sampler, seeds, frames: int = 8) -> np.ndarray:
    """One grid row of `frames` images per segment along the spherical paths between the seeds' latents (A to B,
    then on to C ...), each segment's first frame shared with the previous segment's last."""
    if len(seeds) < 2:
        raise ValueError("--interpolate takes two or more seeds (A,B)")
    ends = latents.for_seeds(seeds, sampler.latent_dim).numpy()
    path = np.concatenate([latents.slerp(a, b, np.linspace(0, 1, frames))[(1 if i else 0):]
                           for i, (a, b) in enumerate(zip(ends, ends[1:]))]).astype(np.float32)
    return images.grid(uint8_images(sampler, path), columns=len(path))
