"""The query path: memory-mapped or not, the same results; sentences scored only for the
passages a query looks at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from eval.dataset import load_questions
from index.engine import Engine
from index.rank.params import RankingParams

EVAL = Path(__file__).resolve().parents[2] / "eval"
DEV = [q.question for q in load_questions(EVAL / "dev_questions.jsonl")]


def test_search_and_ask_are_identical_memory_mapped_or_loaded(
    index_dir: Path, embedder: Any
) -> None:
    mapped = Engine.load(index_dir, embedder=embedder, mmap=True)
    loaded = Engine.load(index_dir, embedder=embedder, mmap=False)
    assert isinstance(mapped.data.sentence_vectors, np.memmap)
    assert not isinstance(loaded.data.sentence_vectors, np.memmap)
    for question in DEV:
        a, b = mapped.ask(question, top_k=10), loaded.ask(question, top_k=10)
        assert (a.answer, a.passages) == (b.answer, b.passages), question
        assert mapped.search(question, top_k=10) == loaded.search(question, top_k=10)


def test_a_query_scores_the_sentences_of_a_bounded_number_of_passages(engine: Any) -> None:
    params = RankingParams(depth=10, dense_pool=10, rerank_depth=5)
    small = engine.with_params(ranking=params)
    bound = params.dense_pool + params.rerank_depth + small.answering.passages
    assert bound < engine.n_passages / 5
    for question in DEV:
        retrieved = small.retrieve(question, top_k=10)
        assert 0 < retrieved.query.sentences.passages_scored <= bound, question
