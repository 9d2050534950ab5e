"""Banach spaces of images: norms, duals and spec strings (Adler & Lunz 2018, section 3).

Every space is an immutable value with
  * ``norm(x)``: per-sample norms, shape [N], of x with shape [N, H, W, C] (or [N, D] where the space
    allows vectors), computed in float32 and differentiable everywhere (also at x = 0);
  * ``dual``: the dual space w.r.t. the Euclidean pairing <g, x> = sum_i g_i x_i, which is how
    ``tf.GradientTape`` represents the Frechet derivative dD. So ||dD||_{B*} = space.dual.norm(grad);
  * ``str(space)``: a spec that ``parse`` turns back into an equal space.

Spec grammar (see ``parse``)::

    l1 | l2 | linf | lp:p=10
    sobolev:s=-1.5,p=2,c=5
    weighted:w=1/0.5/2:<base spec>                per-channel weights (Appendix A)
    product:p=2,groups=1/2:<spec>;<spec>          channel groups, l^p-combined (Appendix A)
"""
import dataclasses
import fractions
import math
from typing import Tuple, Union

import numpy as np
import tensorflow as tf

from bwgan_tf import checks, norms
from bwgan_tf.norms import sobolev_filter, sobolev_symbol  # noqa: F401  (public names of spaces)

Number = Union[int, float]


# ------------------------------ Validation and formatting helpers
def _exponent(p, name: str = "p") -> float:
    """Validates a Lebesgue exponent 1 <= p <= inf (numeric strings are accepted)."""
    try:
        value = math.nan if isinstance(p, bool) else float(p)
    except (TypeError, ValueError):
        value = math.nan
    if math.isnan(value) or value < 1:
        raise ValueError(f"{name} must be a number in [1, inf], got {p!r}")
    return value


def conjugate_exponent(p: float) -> float:
    """q with 1/p + 1/q = 1 (1 <-> inf), computed on the nearest simple fraction so that q's q is p."""
    p = _exponent(p)
    if p == 1.0:
        return math.inf
    if math.isinf(p):
        return 1.0
    exact = fractions.Fraction(p).limit_denominator(10**6)
    return float(exact / (exact - 1))


def _fmt(value: float) -> str:
    if math.isinf(value):
        return "inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


class Space:
    """A Banach space of samples: ``norm``, ``dual`` and a spec string (``str``)."""

    def norm(self, x) -> tf.Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    @property
    def dual(self) -> "Space":  # pragma: no cover - interface
        raise NotImplementedError

    def spec(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def __str__(self) -> str:
        return self.spec()

    # (s, p) of W^{s,p}, L^p being s = 0: the axes of the paper's sweeps (Figs. 2, 3, 6); None for other spaces
    sweep_axes = property(lambda self: (None, None))


@dataclasses.dataclass(frozen=True, eq=True, repr=True)
class Lp(Space):
    """L^p: ||x|| = (sum_i |x_i|^p)^(1/p) over all pixels and channels, no 1/n factor (eq. 6)."""

    p: float

    def __post_init__(self):
        object.__setattr__(self, "p", _exponent(self.p, "p"))

    def norm(self, x) -> tf.Tensor:
        """Per-sample norms [N] of x, shape [N, D] or [N, H, W, C]."""
        return norms.lp_norm(norms.as_float_images(x, (2, 4), "[N, D] vectors or [N, H, W, C] images"), self.p)

    @property
    def dual(self) -> "Lp":
        return Lp(conjugate_exponent(self.p))

    def spec(self) -> str:
        return f"lp:p={_fmt(self.p)}"

    sweep_axes = property(lambda self: (0.0, self.p))


@dataclasses.dataclass(frozen=True, eq=True, repr=True)
class Sobolev(Space):
    """W^{s,p}: ||x|| = || F^-1[(1 + c|xi|^2)^(s/2) F x] ||_p (Adler & Lunz 2018, eq. 7).

    The dual is W^{-s,q}: the filter is self-adjoint, so sup <g, x> / ||M_s x||_p = ||M_{-s} g||_q.
    """

    s: float
    p: float = 2.0
    c: float = 5.0

    def __post_init__(self):
        object.__setattr__(self, "s", checks.number(self.s, "s"))
        object.__setattr__(self, "p", _exponent(self.p, "p"))
        c = checks.number(self.c, "c")
        if c <= 0:
            raise ValueError(f"c must be a positive finite number, got {self.c!r}")
        object.__setattr__(self, "c", c)

    def norm(self, x) -> tf.Tensor:
        """Per-sample norms [N] of images x, shape [N, H, W, C]."""
        return norms.lp_norm(sobolev_filter(x, self.s, self.c), self.p)

    @property
    def dual(self) -> "Sobolev":
        return Sobolev(-self.s if self.s else 0.0, conjugate_exponent(self.p), self.c)

    def spec(self) -> str:
        return f"sobolev:s={_fmt(self.s)},p={_fmt(self.p)},c={_fmt(self.c)}"

    sweep_axes = property(lambda self: (self.s, self.p))


@dataclasses.dataclass(frozen=True, eq=True, repr=True)
class Weighted(Space):
    """||f|| = ||A f||_base with A the per-channel multiplication by positive weights (Appendix A).

    The dual is ||A^{-T} g||_{base*}: Weighted(base.dual, 1 / weights). A scalar weight scales every
    channel.
    """

    base: Space
    weights: Tuple[float, ...]

    def __post_init__(self):
        if not isinstance(self.base, Space):
            raise ValueError(f"base must be a Space, got {self.base!r}")
        try:
            weights = tuple(float(w) for w in np.atleast_1d(np.asarray(self.weights, dtype=object)))
        except (TypeError, ValueError):
            weights = ()
        if not weights or not all(math.isfinite(w) and w > 0 for w in weights):
            raise ValueError(f"weights must be positive finite numbers, got {self.weights!r}")
        object.__setattr__(self, "weights", weights)

    def apply(self, x) -> tf.Tensor:
        """A x: multiplies the last (channel) axis by the weights."""
        x = norms.as_float_images(x, (2, 4), "[N, D] vectors or [N, H, W, C] images")
        if len(self.weights) not in (1, x.shape[-1]):
            raise ValueError(f"weights must have 1 or {x.shape[-1]} entries for inputs with {x.shape[-1]} channels, "
                             f"got {len(self.weights)}")
        return x * tf.constant(self.weights, tf.float32)

    def norm(self, x) -> tf.Tensor:
        return self.base.norm(self.apply(x))

    @property
    def dual(self) -> "Weighted":
        inverse = tuple(float(1 / fractions.Fraction(w).limit_denominator(10**6)) for w in self.weights)
        return Weighted(self.base.dual, inverse)

    def spec(self) -> str:
        return f"weighted:w={'/'.join(_fmt(w) for w in self.weights)}:{self.base.spec()}"


@dataclasses.dataclass(frozen=True, eq=True, repr=True)
class Product(Space):
    """Product over channel groups: ||x|| = || (||x_g||_{B_g})_g ||_p (Appendix A).

    ``groups`` gives the number of channels of each factor, in order. The dual is the l^q-product of
    the factors' duals.
    """

    spaces: Tuple[Space, ...]
    groups: Tuple[int, ...]
    p: float = 2.0

    def __post_init__(self):
        spaces = tuple(self.spaces)
        if not spaces or not all(isinstance(s, Space) for s in spaces):
            raise ValueError(f"spaces must be a non-empty sequence of Space, got {self.spaces!r}")
        try:
            groups = tuple(int(g) for g in self.groups)
        except (TypeError, ValueError):
            raise ValueError(f"groups must be positive channel counts, got {self.groups!r}") from None
        if len(groups) != len(spaces) or any(g < 1 for g in groups):
            raise ValueError(f"groups must give a positive channel count for each of the {len(spaces)} spaces, "
                             f"got {self.groups!r}")
        object.__setattr__(self, "spaces", spaces)
        object.__setattr__(self, "groups", groups)
        object.__setattr__(self, "p", _exponent(self.p, "p"))

    def norm(self, x) -> tf.Tensor:
        x = norms.as_float_images(x, (2, 4), "[N, D] vectors or [N, H, W, C] images")
        if x.shape[-1] != sum(self.groups):
            raise ValueError(f"groups {self.groups} cover {sum(self.groups)} channels, x has {x.shape[-1]}")
        parts = tf.split(x, list(self.groups), axis=-1)
        factor_norms = tf.stack([s.norm(part) for s, part in zip(self.spaces, parts)], axis=1)
        return norms.lp_norm(factor_norms, self.p)

    @property
    def dual(self) -> "Product":
        return Product(tuple(s.dual for s in self.spaces), self.groups, conjugate_exponent(self.p))

    def spec(self) -> str:
        head = f"product:p={_fmt(self.p)},groups={'/'.join(map(str, self.groups))}"
        return head + ":" + ";".join(s.spec() for s in self.spaces)


def dual_representation(space: Space, g) -> tf.Tensor:
    """The direction x in B that the Frechet derivative g in B* points along (Adler & Lunz 2018, Figs. 8-14).

    x satisfies <g, x> = ||g||_{B*}^2 and ||x||_B = ||g||_{B*}. For W^{s,p}: x = M_{-s} J_q(M_{-s} g) with M the
    Fourier multiplier of eq. 7 and J_q the L^q duality map; L^p is s = 0; for W^{s,2} this is the Riesz
    representer M_{-2s} g. Shapes: g [N, H, W, C] (or [N, D] for L^p).
    """
    q = conjugate_exponent(space.p) if isinstance(space, (Lp, Sobolev)) else None
    if isinstance(space, Lp):
        return norms.duality_map(norms.as_float_images(g, (2, 4), "[N, D] or [N, H, W, C]"), q)
    if isinstance(space, Sobolev):
        h = sobolev_filter(g, -space.s, space.c)
        return sobolev_filter(norms.duality_map(h, q), -space.s, space.c)
    raise ValueError(f"space must be an Lp or Sobolev space for dual_representation, got {space}")


# ------------------------------ Spec strings
KNOWN_SPECS = ("l1", "l2", "linf", "lp:p=P", "sobolev:s=S,p=P,c=C",
               "weighted:w=W1/W2/...:<spec>", "product:p=P,groups=G1/G2/...:<spec>;<spec>")


def _parse_params(text: str, allowed: Tuple[str, ...], spec: str) -> dict:
    params = {}
    for item in filter(None, text.split(",")):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in allowed:
            raise ValueError(f"space spec {spec!r}: unknown parameter {item!r}; allowed: {', '.join(allowed)}")
        params[key] = value.strip()
    return params


def _slash_list(text: str, kind: type, what: str, spec: str) -> tuple:
    """'1/0.5/2' -> (1.0, 0.5, 2.0) with `kind`; ValueError naming the spec and `what` otherwise."""
    try:
        return tuple(kind(item) for item in text.split("/"))
    except ValueError:
        raise ValueError(f"space spec {spec!r}: {what} separated by '/'") from None


def parse(spec: Union[str, Space]) -> Space:
    """Turns a spec string (or a Space, returned as is) into a Space; ``parse(str(s)) == s``."""
    if isinstance(spec, Space):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"space spec must be a non-empty string, got {spec!r}; known: {', '.join(KNOWN_SPECS)}")
    text = spec.strip().lower()
    aliases = {"l1": Lp(1), "l2": Lp(2), "linf": Lp(math.inf)}
    if text in aliases:
        return aliases[text]
    name, _, rest = text.partition(":")
    if name == "lp":
        params = _parse_params(rest, ("p",), spec)
        if "p" not in params:
            raise ValueError(f"space spec {spec!r}: lp needs p, e.g. lp:p=10")
        return Lp(_exponent(params["p"]))
    if name == "sobolev":
        params = _parse_params(rest, ("s", "p", "c"), spec)
        if "s" not in params:
            raise ValueError(f"space spec {spec!r}: sobolev needs s, e.g. sobolev:s=-1.5,p=2,c=5")
        return Sobolev(params["s"], _exponent(params.get("p", 2.0)), params.get("c", 5.0))
    if name == "weighted":
        head, _, base = rest.partition(":")
        params = _parse_params(head, ("w",), spec)
        if "w" not in params or not base:
            raise ValueError(f"space spec {spec!r}: expected weighted:w=W1/W2/...:<base spec>")
        return Weighted(parse(base), _slash_list(params["w"], float, "weights must be numbers", spec))
    if name == "product":
        head, _, factors = rest.partition(":")
        params = _parse_params(head, ("p", "groups"), spec)
        if "groups" not in params or not factors:
            raise ValueError(f"space spec {spec!r}: expected product:p=P,groups=G1/G2/...:<spec>;<spec>")
        groups = _slash_list(params["groups"], int, "groups must be integers", spec)
        if "product:" in factors:
            raise ValueError(f"space spec {spec!r}: nested products are not supported")
        return Product(tuple(parse(f) for f in factors.split(";")), groups, _exponent(params.get("p", 2.0)))
    raise ValueError(f"unknown space spec {spec!r}; known: {', '.join(KNOWN_SPECS)}")
