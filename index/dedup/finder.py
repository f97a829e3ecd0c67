"""Finding the stored copy of a new article: one `MinHashLSH` per collection, in memory.

The LSH holds the fingerprint of every stored document; `first_copy` asks it for candidates
and keeps the most similar copy (`copy_similarity`: at or over `THRESHOLD`, the same figures;
the LSH's candidates are checked, since banding lets some lower ones through). It is state
derived from the store, like the index views: the library rebuilds it from the stored
fingerprints whenever the store's generation is not the one it was built at (at open, after
another process wrote), and keeps it in step with its own writes. Duplicates are looked for
within a collection only: a collection is a corpus of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from datasketch import MinHashLSH

from index.dedup.fingerprint import NUM_PERM, THRESHOLD, Fingerprint, copy_similarity


@dataclass
class DuplicateFinder:
    """The fingerprints of one store's documents, by collection."""

    generation: int = -1
    """The store generation it agrees with (-1: none; rebuild before use)."""
    _lsh: dict[str, MinHashLSH] = field(default_factory=dict)
    _hashes: dict[str, dict[str, Fingerprint]] = field(default_factory=dict)

    def insert(self, collection: str, doc_id: str, value: Fingerprint) -> None:
        """Add (or replace) the fingerprint of a document."""
        self.remove(collection, doc_id)
        lsh = self._lsh.get(collection)
        if lsh is None:
            lsh = self._lsh[collection] = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
        lsh.insert(doc_id, value.minhash)
        self._hashes.setdefault(collection, {})[doc_id] = value

    def remove(self, collection: str, doc_id: str) -> None:
        hashes = self._hashes.get(collection, {})
        if doc_id in hashes:
            self._lsh[collection].remove(doc_id)
            del hashes[doc_id]

    def first_copy(self, collection: str, value: Fingerprint) -> tuple[str, float] | None:
        """The stored document `value` is a copy of, and the similarity (None: no copy).
        The most similar wins; among equals, the smallest id (a stable answer)."""
        lsh = self._lsh.get(collection)
        if lsh is None:
            return None
        hashes = self._hashes[collection]
        scored = [(copy_similarity(value, hashes[key]), key) for key in lsh.query(value.minhash)]
        found = [(-score, key) for score, key in scored if score is not None]
        if not found:
            return None
        score, key = min(found)
        return key, -score

    def __len__(self) -> int:
        return sum(len(h) for h in self._hashes.values())
