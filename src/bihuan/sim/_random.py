"""Named random streams (the Starsim habit): one generator per component.

Each stream is seeded from the user's seed plus a stable hash of its name, so a change in
one component never shifts the draws of another, and two processes agree bit for bit.
"""

from __future__ import annotations

import hashlib

import numpy as np


def stable_hash(name: str) -> int:
    """A 64-bit hash of a stream name that is the same in every process (unlike ``hash()``)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "little")


def stream(seed: int, name: str) -> np.random.Generator:
    """The random generator of the component called ``name`` for this seed."""
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stable_hash(name)])))


def choice_cdf(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    """Draw ``size`` category indices with the given (unnormalised) weights; int64 result."""
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    cdf /= cdf[-1]
    return np.searchsorted(cdf, rng.random(size), side="right").astype(np.int64)
