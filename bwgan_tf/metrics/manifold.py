"""k-nearest-neighbour manifold metrics of two feature sets, computed block by block in float64.

Each real feature x_i gets the ball B(x_i, NND_k(x_i)) whose radius is the distance to its k-th nearest other
real feature (likewise for generated features y_j).

- Improved precision and recall (Kynkaanniemi et al. 2019, eq. 1-2, k = 3): precision is the fraction of
  generated features inside at least one real ball (closed, as in the paper's f(phi, Phi)); recall is the
  fraction of real features inside at least one generated ball.
- Density and coverage (Naeem et al. 2020, eq. 3-4, k = 5): density = 1/(kM) sum_j sum_i 1[y_j in B(x_i)],
  coverage = 1/N sum_i 1[exists j: y_j in B(x_i)], with open balls as in the authors' code.

Distances are computed in blocks of `block` rows, so memory is O(block * N) besides the features themselves, from
|a|^2 + |b|^2 - 2 a.b in float64: a point exactly on a ball's boundary (a tie, e.g. a set compared with itself) is
inside or outside as rounding decides.
"""
import numpy as np

PRECISION_RECALL_K = 3
DENSITY_COVERAGE_K = 5
DEFAULT_BLOCK = 1024


def _squared_norms(x):
    return np.einsum("ij,ij->i", x, x)


def _distance_blocks(queries, centres, block):
    """(start, distances [b, N]) for consecutive blocks of query rows against every centre."""
    centre_norms = _squared_norms(centres)
    for start in range(0, len(queries), block):
        part = queries[start:start + block]
        squared = _squared_norms(part)[:, None] - 2.0 * part @ centres.T + centre_norms[None, :]
        yield start, np.sqrt(np.maximum(squared, 0.0))


def _as_rows(features, what: str, k: int):
    x = np.asarray(features, np.float64)
    if x.ndim != 2:
        raise ValueError(f"{what} must have shape [N, D], got {x.shape}")
    if len(x) <= k:
        raise ValueError(f"{what}: the k-th nearest neighbour (k={k}) needs more than {k} rows, got {len(x)}")
    return x


def kth_neighbour_radii(features, k: int, block: int = DEFAULT_BLOCK):
    """Distance of every row to its k-th nearest other row (the row itself, at distance 0, is not counted)."""
    x = _as_rows(features, "features", k)
    radii = np.empty(len(x))
    for start, distances in _distance_blocks(x, x, block):
        rows = np.arange(len(distances))
        distances[rows, start + rows] = -1.0  # the row itself sorts first, so the k-th other is at index k
        radii[start:start + len(distances)] = np.partition(distances, k, axis=1)[:, k]
    return radii


def ball_membership(queries, centres, radii, *, closed: bool, block: int = DEFAULT_BLOCK):
    """(per query: how many centre balls contain it [M], per centre: whether any query is inside [N])."""
    counts = np.zeros(len(queries), np.int64)
    reached = np.zeros(len(centres), bool)
    for start, distances in _distance_blocks(queries, centres, block):
        inside = distances <= radii[None, :] if closed else distances < radii[None, :]
        counts[start:start + len(distances)] = inside.sum(axis=1)
        reached |= inside.any(axis=0)
    return counts, reached


def precision_recall(real, fake, k: int = PRECISION_RECALL_K, block: int = DEFAULT_BLOCK):
    """Improved precision and recall (Kynkaanniemi et al. 2019) -> (precision, recall)."""
    real, fake = _as_rows(real, "real features", k), _as_rows(fake, "generated features", k)
    fake_in_real, _ = ball_membership(fake, real, kth_neighbour_radii(real, k, block), closed=True, block=block)
    real_in_fake, _ = ball_membership(real, fake, kth_neighbour_radii(fake, k, block), closed=True, block=block)
    return float(np.mean(fake_in_real > 0)), float(np.mean(real_in_fake > 0))


def density_coverage(real, fake, k: int = DENSITY_COVERAGE_K, block: int = DEFAULT_BLOCK):
    """Density and coverage (Naeem et al. 2020) -> (density, coverage)."""
    real, fake = _as_rows(real, "real features", k), _as_rows(fake, "generated features", k)
    counts, reached = ball_membership(fake, real, kth_neighbour_radii(real, k, block), closed=False, block=block)
    return float(counts.sum() / (k * len(fake))), float(np.mean(reached))
