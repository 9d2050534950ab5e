"""Argument checks shared by the package: each returns the value normalised or raises a ValueError whose message
starts with the argument's name and says what is allowed (the tools turn it into exit code 2)."""
import contextlib
import math
import numbers
from typing import Iterable


def integer(value, name: str, minimum: int = 1) -> int:
    """An int >= minimum (numeric strings are accepted, booleans are not)."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def positive_int(value, name: str) -> int:
    """An int >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def number(value, name: str, *, positive: bool = False, non_negative: bool = False) -> float:
    """A finite float (numeric strings are accepted), optionally > 0 or >= 0."""
    kind = "a positive" if positive else "a non-negative" if non_negative else "a"
    try:
        result = float(value)
    except (TypeError, ValueError):
        result = math.nan
    if isinstance(value, bool) or not math.isfinite(result) or (positive and result <= 0) or (
            non_negative and result < 0):
        raise ValueError(f"{name} must be {kind} finite number, got {value!r}")
    return result


def number_or_auto(value, name: str, *, positive: bool = False):
    """'auto' or a finite number (> 0 with positive, else >= 0)."""
    if value == "auto":
        return "auto"
    try:
        return number(value, name, positive=positive, non_negative=not positive)
    except ValueError:
        kind = "positive" if positive else "non-negative"
        raise ValueError(f"{name} must be a {kind} number or 'auto', got {value!r}") from None


def boolean(value, name: str, allow_auto: bool = False):
    """True/False from a bool or 'true'/'false'/'1'/'0'/'yes'/'no' (and 'auto' when allowed)."""
    if isinstance(value, str):
        lowered = value.strip().lower()
        if allow_auto and lowered == "auto":
            return "auto"
        value = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}.get(lowered, value)
    if not isinstance(value, bool) and type(value).__name__ != "bool_":
        raise ValueError(f"{name} must be true or false{' or auto' if allow_auto else ''}, got {value!r}")
    return bool(value)


def one_of(value, name: str, allowed: Iterable):
    """value if it is among `allowed` (a registry dict's keys, a tuple)."""
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(str(a) for a in allowed)}, got {value!r}")
    return value


@contextlib.contextmanager
def named(name: str):
    """Prefixes `name: ` (a flag) to the message of a ValueError or FileNotFoundError raised inside, unless the
    message already starts with a flag: errors of a data spec then say which flag gave the spec."""
    try:
        yield
    except (ValueError, FileNotFoundError) as error:
        if str(error).startswith("--"):
            raise
        raise (ValueError if isinstance(error, ValueError) else FileNotFoundError)(f"{name}: {error}") from error
