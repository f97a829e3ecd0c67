"""What `ragqa eval tune` fits on: every question of a set read once through the pipeline.

`collect` runs stages 0-3 of each question (`index.rank.pipeline.Pipeline`, stopping after the
sentence evidence) and keeps, per question, an `Item`: its query, its fused top passages, their
re-scoring features (the stage's own, `Trace.rescored`) and which of them are relevant.
`VectorCache` keeps the query vectors on disk (`CachedEncoder` reads it first), so a second run
does not re-encode; `units_of` names the article each question is held out with. The fitting
itself is `eval.tune`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from eval.dataset import Question, contains_answer
from eval.sets import NamedSet, unit_of

if TYPE_CHECKING:
    from index.engine import Engine
    from index.rank.types import Query


@dataclass
class Item:
    """One question, read once: its query and fused candidates (fixed by the structural
    ranking numbers), and the re-scoring features of its top fused passages."""

    question: Question
    set_name: str
    unit: str
    fold: int
    engine: Engine
    query: Query
    chunks: np.ndarray
    """The fused top `rerank_depth` passages."""
    rerank_x: np.ndarray
    relevant: np.ndarray
    """1.0 where the passage is of the question's own article and holds an answer."""


class VectorCache:
    """Query vectors on disk, keyed by model, encoder variant and question text."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._vectors: dict[str, np.ndarray] = {}
        if path.is_file():
            with np.load(path, allow_pickle=False) as data:
                self._vectors = {k: data[k] for k in data.files}
        self._dirty = False

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def vectors(self, engine: Engine, texts: Sequence[str]) -> list[np.ndarray]:
        missing = [t for t in dict.fromkeys(texts) if self.key(t) not in self._vectors]
        if missing:
            for text, vector in zip(missing, engine.embedder.encode_queries(missing), strict=True):
                self._vectors[self.key(text)] = np.asarray(vector, dtype=np.float32)
            self._dirty = True
        return [self._vectors[self.key(t)] for t in texts]

    def save(self) -> None:
        if self._dirty:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".part.npz")
            np.savez(tmp, **self._vectors)  # type: ignore[arg-type]
            tmp.replace(self.path)
            self._dirty = False


class CachedEncoder:
    """The engine's encoder reading `VectorCache` first (every text of a set is encoded in one
    call before the pipeline runs, so each question's vectors are the batch's)."""

    def __init__(self, engine: Engine, cache: VectorCache) -> None:
        self.engine = engine
        self.cache = cache
        self.name = engine.embedder.name
        self.dim = engine.embedder.dim

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.cache.vectors(self.engine, texts), dtype=np.float32)


def collect(
    engine: Engine,
    named: NamedSet,
    questions: Sequence[Question],
    cache: VectorCache,
    folds: dict[str, int],
    units: dict[str, str],
) -> list[Item]:
    """Every question of a set read once through stages 0-3 (query, candidates, fusion,
    sentence evidence): the features of the re-scoring stage are its own (`Trace.rescored`)."""
    from index.rank.pipeline import EVIDENCE, Pipeline, RetrievalConfig
    from index.rank.query import encoder_texts

    params = engine.ranking
    fitting = Pipeline(
        engine.index,
        CachedEncoder(engine, cache),
        RetrievalConfig("hybrid+rerank", "weighted"),
        params,
        engine.answering,
        None,
        glossary=engine.glossary,
        fitting=True,
    )
    texts = [
        encoder_texts(engine.index, q.question, engine.answering, fitting=True) for q in questions
    ]
    cache.vectors(engine, [t for group in texts for t in group])
    items = []
    for question in questions:
        trace = fitting.run(question.question, None, stop_after=EVIDENCE)
        assert trace.query is not None
        rescored = trace.rescored  # None only for a question with nothing searchable
        ranked = rescored.passages.passages if rescored is not None else ()
        chunks = np.asarray([c for c, _ in ranked], dtype=np.int64)
        features = rescored.features if rescored is not None else np.empty((0, 4))
        relevant = np.asarray(
            [
                1.0
                if question.answerable
                and engine.index.passage(c)[0].source == question.source
                and contains_answer(_passage_text(engine, c), question.answers)
                else 0.0
                for c in chunks.tolist()
            ]
        )
        unit = units[question.id]
        items.append(
            Item(
                question,
                named.name,
                unit,
                folds[unit],
                engine,
                trace.query,
                chunks,
                features,
                relevant,
            )
        )
    return items


def _passage_text(engine: Engine, chunk: int) -> str:
    doc, start, end = engine.index.passage(chunk)
    return doc.text[start:end]


def units_of(named: NamedSet, questions: Sequence[Question]) -> dict[str, str]:
    topics = named.topics()
    return {q.id: unit_of(q, named.corpus, topics) for q in questions}
