"""An article's near-duplicate fingerprint: MinHash over character shingles (datasketch), and
its figures.

Chinese has no spaces between words, so the shingles are overlapping character n-grams of the
comparable text (`index.dedup.text`), not word n-grams: `SHINGLE_CHARS` characters each. Two
texts are copies when the Jaccard similarity of their shingle sets, as MinHash estimates it
from `NUM_PERM` permutations, is at least `THRESHOLD`; `MinHashLSH` (the same threshold) finds
the candidates without comparing every pair. And a copy never changes a figure: the figures
of one, in order, must be figures of the other (`index.dedup.text.same_figures`), which
keeps apart reports written from one template.

The numbers were chosen by measuring on the bundled seed corpus and on variants of its articles
(`python scripts/fit_duplicates.py` prints the table; docs/documents.md, "Duplicates", quotes
it): copies that differ in sign-off, furniture lines, whitespace, a changed headline or a
sentence or two of an editor's cut stay far above the threshold, while different articles,
including two seed articles on the same subject (金昌's nickel industry), stay far below it.
Changing any of them changes every stored signature: `PARAMS_KEY` records them in the store,
and a store whose signatures were computed with other numbers has them recomputed from the
stored texts when the library opens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from datasketch import MinHash

from index.dedup.text import comparable_text, figures, same_figures

SHINGLE_CHARS = 5
"""Characters per shingle (see the module docstring for how it was chosen)."""
NUM_PERM = 128
"""MinHash permutations: the estimate's standard error is sqrt(J(1-J)/128), 0.044 at J=0.5."""
THRESHOLD = 0.5
"""Estimated Jaccard similarity at or above which a new article is a copy of a stored one."""
SEED = 1
"""datasketch's permutation seed: signatures computed with another seed do not compare."""
SCHEME = "affine32"
"""datasketch's permutation scheme (its default since 2.0.0; hash values below 2**32)."""
PARAMS_KEY = f"minhash:{SCHEME},k={SHINGLE_CHARS},perm={NUM_PERM},seed={SEED};figures-in-order"
"""What the stored signatures were computed with (kept in the store's meta table)."""

_PERMUTATIONS = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations


@dataclass(frozen=True)
class Fingerprint:
    """What copies of one article share: the MinHash of its shingles, and its figures."""

    minhash: MinHash
    figures: tuple[str, ...]

    @property
    def signature(self) -> str:
        """The MinHash as stored: its hash values (each below 2**32) as hex of little-endian
        uint32, 8 characters per permutation."""
        return np.asarray(self.minhash.hashvalues, dtype="<u4").tobytes().hex()

    @property
    def figures_text(self) -> str:
        """The figures as stored: in order, space-separated."""
        return " ".join(self.figures)

    @classmethod
    def stored(cls, signature: str, figures_text: str) -> Fingerprint:
        """A stored fingerprint back (ValueError if the signature is not NUM_PERM values)."""
        values = np.frombuffer(bytes.fromhex(signature), dtype="<u4")
        if len(values) != NUM_PERM:
            raise ValueError(f"a signature of {len(values)} values, not {NUM_PERM}")
        value = MinHash(
            seed=SEED,
            scheme=SCHEME,
            hashvalues=values.astype(np.uint64),
            permutations=_PERMUTATIONS,
        )
        return cls(value, tuple(figures_text.split()))


def fingerprint(text: str) -> Fingerprint:
    """The fingerprint of an article's text."""
    words = comparable_text(text)
    value = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, permutations=_PERMUTATIONS)
    value.update_batch([s.encode("utf-8") for s in sorted(_shingles(words))])
    return Fingerprint(value, figures(words))


def copy_similarity(new: Fingerprint, stored: Fingerprint) -> float | None:
    """The estimated similarity of two texts if they are copies of one article, else None."""
    if not same_figures(new.figures, stored.figures):
        return None
    score = float(new.minhash.jaccard(stored.minhash))
    return score if score >= THRESHOLD else None


def shingles(text: str) -> set[str]:
    """The character n-grams of the comparable text of `text` (one shingle when shorter)."""
    return _shingles(comparable_text(text))


def _shingles(words: str) -> set[str]:
    if len(words) <= SHINGLE_CHARS:
        return {words} if words else set()
    return {words[i : i + SHINGLE_CHARS] for i in range(len(words) - SHINGLE_CHARS + 1)}


def minhash(text: str) -> MinHash:
    """The MinHash of `text`'s shingles."""
    return fingerprint(text).minhash


def similarity(a: MinHash, b: MinHash) -> float:
    """The estimated Jaccard similarity of two MinHashes (0..1)."""
    return float(a.jaccard(b))
