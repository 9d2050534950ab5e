"""The sample-quality estimators written out in numpy/scipy float64, without TF-GAN.

They compute what TF-GAN 2.1's eval module computes (tests/metrics/test_formulas.py checks them against its recorded
outputs), so `estimators` and `swd` use them where tensorflow_gan does not import (TF >= 2.16):

- classifier score (Salimans et al. 2016, "Improved techniques for training GANs", sec. 4)
- Frechet distance (Heusel et al. 2017, "GANs trained by a two time-scale update rule ...", sec. on FID)
- kernel distance (Binkowski et al. 2018, "Demystifying MMD GANs", KID) as TF-GAN's block estimator (Zaremba et al.
  2013, arXiv:1307.1954)
- sliced Wasserstein distance over a Laplacian pyramid (Karras et al. 2018, "Progressive growing of GANs", appendix D)

SWD draws its patches and directions from its own numpy Generator (`seed`), so its values are not TF-GAN's draw for
draw (TF-GAN uses numpy's global generator and TensorFlow's); its pieces (`laplacian_pyramid`, `extract_patches`,
`normalize_patches`, `sliced_distance`) are, given the same draws.
"""
import numpy as np
import scipy.ndimage
import scipy.special

SQRT_EPS = 1e-10  # eigenvalues of magnitude below this are kept, not square-rooted (as TF-GAN's trace_sqrt_product)
_BINOMIAL = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0  # 1-D factor of the 5x5 Gaussian of cv2.pyrDown / pyrUp


# ------------------------------------------------------------------ input checks

def split_sizes(num: int, splits: int) -> list:
    """Sizes of `splits` consecutive splits of `num` samples, the larger first (numpy's array_split)."""
    if splits < 1 or num < splits:
        raise ValueError(f"splits must be in [1, num_samples={num}], got {splits}")
    return [num // splits + (i < num % splits) for i in range(splits)]


def check_logits(logits) -> np.ndarray:
    """logits as float64 [N, K]; ValueError naming them otherwise."""
    logits = np.asarray(logits, np.float64)
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape [N, K], got {logits.shape}")
    return logits


def check_moments(mean1, cov1, mean2, cov2) -> tuple:
    """The four moments as float64, means [D] and covariances [D, D]; ValueError otherwise."""
    mean1, cov1, mean2, cov2 = (np.asarray(x, np.float64) for x in (mean1, cov1, mean2, cov2))
    d = mean1.shape[0] if mean1.ndim == 1 else None
    if d is None or mean2.shape != (d,) or cov1.shape != (d, d) or cov2.shape != (d, d):
        raise ValueError(f"means [D] and covariances [D, D] must match, got {mean1.shape}, {cov1.shape}, "
                         f"{mean2.shape}, {cov2.shape}")
    return mean1, cov1, mean2, cov2


def check_activations(activations1, activations2) -> tuple:
    """Both as float64 [N, D] and [M, D] with N, M >= 2; ValueError otherwise."""
    a, b = np.asarray(activations1, np.float64), np.asarray(activations2, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"activations must be [N, D] and [M, D], got {a.shape} and {b.shape}")
    if min(len(a), len(b)) < 2:
        raise ValueError(f"activations: need at least 2 activations on each side, got {len(a)} and {len(b)}")
    return a, b


# ------------------------------------------------------------------ classifier score

def split_score(logits) -> float:
    """exp(E_x KL(p(y|x) || p(y))) of one split [N, K], p(y) being the split's mean prediction (Salimans 2016)."""
    log_p = scipy.special.log_softmax(check_logits(logits), axis=1)
    p = np.exp(log_p)
    return float(np.exp(np.mean(np.sum(p * (log_p - np.log(p.mean(0))), axis=1))))


def classifier_score(logits, splits: int = 10) -> tuple:
    """(mean, std) of split_score over `splits` consecutive splits (split_sizes)."""
    logits = check_logits(logits)
    bounds = np.cumsum(split_sizes(len(logits), splits))[:-1]
    scores = [split_score(part) for part in np.split(logits, bounds)]
    return float(np.mean(scores)), float(np.std(scores))


# ------------------------------------------------------------------ Frechet distance

def _root(eigenvalues):
    """sign(l) |l|^(1/2), but l itself where |l| < SQRT_EPS: the square root TF-GAN takes through an SVD."""
    magnitude = np.abs(eigenvalues)
    return np.where(magnitude < SQRT_EPS, eigenvalues, np.sign(eigenvalues) * np.sqrt(magnitude))


def symmetric_sqrt(mat) -> np.ndarray:
    """The square root S of a symmetric positive semi-definite matrix (S S = mat), from its eigendecomposition."""
    w, v = np.linalg.eigh((mat + mat.T) / 2.0)
    return (v * _root(w)) @ v.T


def trace_sqrt_product(cov1, cov2) -> float:
    """Tr((C1 C2)^(1/2)) = Tr((A C2 A)^(1/2)) with A = C1^(1/2): C1 C2 and A C2 A share their eigenvalues, and the
    latter is symmetric, so the trace is the sum of the roots of its eigenvalues."""
    a = symmetric_sqrt(np.asarray(cov1, np.float64))
    product = a @ np.asarray(cov2, np.float64) @ a
    return float(np.sum(_root(np.linalg.eigvalsh((product + product.T) / 2.0))))


def frechet_distance(mean1, cov1, mean2, cov2) -> float:
    """|m1 - m2|^2 + Tr(C1 + C2 - 2 (C1 C2)^(1/2)): the Frechet distance of two Gaussians (Heusel et al. 2017)."""
    mean1, cov1, mean2, cov2 = check_moments(mean1, cov1, mean2, cov2)
    return float(np.sum((mean1 - mean2) ** 2) + np.trace(cov1) + np.trace(cov2)
                 - 2.0 * trace_sqrt_product(cov1, cov2))


def frechet_distance_from_activations(activations1, activations2) -> float:
    """frechet_distance of the activations' means and unbiased covariances."""
    a, b = check_activations(activations1, activations2)
    cov = lambda x: np.atleast_2d(np.cov(x, rowvar=False))
    return frechet_distance(a.mean(0), cov(a), b.mean(0), cov(b))


# ------------------------------------------------------------------ kernel distance

def kid_block_sizes(num: int, blocks: int) -> list:
    """TF-GAN's consecutive KID blocks of `num` rows: num // blocks rows each, the last num % blocks one row more."""
    small, extra = divmod(num, blocks)
    return [small] * (blocks - extra) + [small + 1] * extra


def kid_blocks(num1: int, num2: int, max_block_size: int) -> tuple:
    """(sizes1, sizes2): ceil(max(num1, num2) / max_block_size) blocks on each side; ValueError if one has < 2 rows."""
    if int(max_block_size) != max_block_size or max_block_size < 1:
        raise ValueError(f"max_block_size must be a positive integer, got {max_block_size}")
    blocks = -(-max(num1, num2) // int(max_block_size))
    sizes1, sizes2 = kid_block_sizes(num1, blocks), kid_block_sizes(num2, blocks)
    if min(sizes1 + sizes2) < 2:
        raise ValueError(f"KID needs at least 2 activations on each side in each of its {blocks} blocks (of <= "
                         f"max_block_size={max_block_size} rows), got {num1} and {num2} activations")
    return sizes1, sizes2


def kernel_distance(activations1, activations2, max_block_size: int = 1024) -> tuple:
    """(KID, its standard error): the mean over blocks of the unbiased MMD^2 estimate with the cubic polynomial kernel
    k(x, y) = (x.y / d + 1)^3 (Binkowski et al. 2018), and std(block estimates, ddof=1) / sqrt(blocks) (NaN for one
    block). The blocks are consecutive rows, so the rows should be in random order."""
    a, b = check_activations(activations1, activations2)
    sizes_a, sizes_b = kid_blocks(len(a), len(b), max_block_size)
    kernel = lambda x, y: (x @ y.T / a.shape[1] + 1.0) ** 3
    estimates = []
    for x, y in zip(np.split(a, np.cumsum(sizes_a)[:-1]), np.split(b, np.cumsum(sizes_b)[:-1])):
        kxx, kyy, m, n = kernel(x, x), kernel(y, y), len(x), len(y)
        estimates.append((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                         - 2.0 * kernel(x, y).mean())
    std = np.std(estimates, ddof=1) / np.sqrt(len(estimates)) if len(estimates) > 1 else np.nan
    return float(np.mean(estimates)), float(std)


def kid_jackknife_std(activations1, activations2) -> float:
    """The delete-one two-sample jackknife standard error (Arvesen 1969) of the one-block unbiased MMD^2 with KID's
    kernel: sqrt((m-1)/m sum_i (t_-i - t_.)^2 + (n-1)/n sum_j (t_-j - t_.)^2), each t_-i the estimate without row i
    of its side (from the kernel's row sums, no recomputation). Needs >= 3 rows a side."""
    a, b = check_activations(activations1, activations2)
    m, n = len(a), len(b)
    if min(m, n) < 3:
        raise ValueError(f"the KID jackknife needs at least 3 activations on each side, got {m} and {n}")
    kernel = lambda x, y: (x @ y.T / a.shape[1] + 1.0) ** 3
    kxx, kyy, kxy = kernel(a, a), kernel(b, b), kernel(a, b)
    rows_xx, rows_yy = kxx.sum(1) - np.diag(kxx), kyy.sum(1) - np.diag(kyy)  # off-diagonal row sums
    sum_xx, sum_yy, sum_xy = rows_xx.sum(), rows_yy.sum(), kxy.sum()
    without_x = ((sum_xx - 2 * rows_xx) / ((m - 1) * (m - 2)) + sum_yy / (n * (n - 1))
                 - 2 * (sum_xy - kxy.sum(1)) / ((m - 1) * n))
    without_y = (sum_xx / (m * (m - 1)) + (sum_yy - 2 * rows_yy) / ((n - 1) * (n - 2))
                 - 2 * (sum_xy - kxy.sum(0)) / (m * (n - 1)))
    variance = (m - 1) / m * np.sum((without_x - without_x.mean()) ** 2) + (n - 1) / n * np.sum(
        (without_y - without_y.mean()) ** 2)
    return float(np.sqrt(variance))


# ------------------------------------------------------------------ sliced Wasserstein distance

def _blur(images, gain: float) -> np.ndarray:
    """The 5x5 binomial filter (times gain) over height and width, borders mirrored without repeating the edge."""
    for axis in (1, 2):
        images = scipy.ndimage.correlate1d(images, _BINOMIAL, axis=axis, mode="mirror")
    return gain * images


def laplacian_pyramid(images, num_levels: int) -> list:
    """num_levels bands of images [N, H, W, C], finest first: each level minus the upsampled next (cv2.pyrDown:
    blur, keep even pixels; cv2.pyrUp: zeros between pixels, blur x 4); the last is the low-pass image itself."""
    levels = [np.asarray(images, np.float64)]
    for _ in range(1, num_levels):
        down = _blur(levels[-1], 1.0)[:, ::2, ::2]
        up = np.zeros_like(levels[-1])
        up[:, ::2, ::2] = down
        levels[-1] = levels[-1] - _blur(up, 4.0)
        levels.append(down)
    return levels


def patch_centres(rng: np.random.Generator, count: int, height: int, width: int, patch_size: int = 7) -> tuple:
    """(rows, columns) of `count` uniform centres of patches that lie inside a height x width image."""
    half = patch_size // 2
    return rng.integers(half, height - half, count), rng.integers(half, width - half, count)


def extract_patches(level, rows, columns, patches_per_image: int, patch_size: int = 7) -> np.ndarray:
    """Patches [count, size, size, C] of level [N, H, W, C] at the centres; patches_per_image consecutive per image."""
    offsets = np.arange(patch_size) - patch_size // 2
    image = (np.arange(len(rows)) // patches_per_image)[:, None, None]
    return np.asarray(level)[image, np.asarray(rows)[:, None, None] + offsets[None, :, None],
                             np.asarray(columns)[:, None, None] + offsets[None, None, :]]


def normalize_patches(patches) -> np.ndarray:
    """Descriptors [count, size * size * C]: each patch minus its mean, over its std, as TF-GAN normalises them
    (Karras et al.'s code normalises each channel over all patches instead)."""
    flat = np.asarray(patches, np.float64).reshape(len(patches), -1)
    return (flat - flat.mean(1, keepdims=True)) / flat.std(1, keepdims=True)


def sliced_distance(a, b, directions, chunk: int = 32) -> float:
    """Mean over the directions (columns, normalised here) of the Wasserstein-1 distance between the 1-D projections
    of equally many rows of a and b: mean |sorted(a.u) - sorted(b.u)|."""
    a, b, directions = (np.asarray(x, np.float64) for x in (a, b, directions))
    if a.ndim != 2 or a.shape != b.shape or directions.shape[:1] != a.shape[1:]:
        raise ValueError(f"descriptors a and b must be [N, D] of one shape and directions [D, K], got {a.shape}, "
                         f"{b.shape} and {directions.shape}")
    directions = directions / np.sqrt(np.sum(directions ** 2, axis=0, keepdims=True))
    total = 0.0
    for start in range(0, directions.shape[1], chunk):  # a few directions at a time: rows can be millions
        u = directions[:, start:start + chunk]
        total += np.abs(np.sort(a @ u, axis=0) - np.sort(b @ u, axis=0)).sum()
    return float(total / (len(a) * directions.shape[1]))


def sliced_wasserstein(real, fake, seed: int = 0, resolution_min: int = 16, patches_per_image: int = 64,
                       patch_size: int = 7, num_directions: int = None) -> list:
    """[(real vs real, real vs fake)] per Laplacian level, finest (full size) first, down to resolution_min.

    At each level two patch draws of the real images and one of the fake ones are normalised (normalize_patches) and
    compared by sliced_distance along num_directions (default: the descriptor size) Gaussian directions, fresh for
    each comparison; real vs real is the floor set by the sampling. All draws come from np.random.default_rng(seed)."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if real.ndim != 4 or real.shape != fake.shape or min(real.shape[1:3]) < max(resolution_min, patch_size):
        raise ValueError(f"real and fake must be images [N, H, W, C] of one shape, at least resolution_min="
                         f"{resolution_min} and patch_size={patch_size} on a side, got {real.shape} and {fake.shape}")
    rng = np.random.default_rng(seed)
    num_levels = int(np.log2(real.shape[1])) - int(np.log2(resolution_min)) + 1
    dims = patch_size * patch_size * real.shape[3]

    def draw(level):
        rows, columns = patch_centres(rng, len(level) * patches_per_image, *level.shape[1:3], patch_size)
        return normalize_patches(extract_patches(level, rows, columns, patches_per_image, patch_size))

    scores = []
    for real_level, fake_level in zip(laplacian_pyramid(real, num_levels), laplacian_pyramid(fake, num_levels)):
        reference = draw(real_level)
        floor = sliced_distance(reference, draw(real_level), rng.standard_normal((dims, num_directions or dims)))
        to_fake = sliced_distance(reference, draw(fake_level), rng.standard_normal((dims, num_directions or dims)))
        scores.append((floor, to_fake))
    return scores
