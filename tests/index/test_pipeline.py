"""The ranking pipeline: stage lists per retriever, the allowed restriction, named parameters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index import pipeline
from index.params import AnswerParams, RankingParams, load_params
from index.retrieval import RETRIEVERS, RetrievalConfig
from index.types import Allowed
from index.view import overlap_runs

QUESTION = "白银炉能耗降低了多少"


def test_each_retriever_is_a_list_of_stages() -> None:
    stages = {r: pipeline.ranking_stages(RetrievalConfig(retriever=r)) for r in RETRIEVERS}
    assert stages["bm25"].candidates == (pipeline.lexical_candidates,)
    assert stages["bm25"].fusion is pipeline.lexical_only
    assert stages["dense"].candidates == (pipeline.dense_candidates,)
    assert stages["dense"].fusion is pipeline.dense_only
    assert stages["hybrid"].fusion is pipeline.weighted_fusion
    assert stages["hybrid"].rescoring == ()
    assert stages["hybrid+rerank"].rescoring == (pipeline.sentence_evidence,)
    rrf = pipeline.ranking_stages(RetrievalConfig(retriever="hybrid", fusion="rrf"))
    assert rrf.fusion is pipeline.rrf_fusion


def test_a_query_restricted_to_one_document_sees_only_that_document(engine: Any) -> None:
    docs = engine.documents()
    target = next(i for i, d in enumerate(docs) if d.source == "000_0ad1dae646fc90f2.txt")
    allowed = Allowed.only(len(docs), [target])
    result = engine.ask(QUESTION, top_k=10, allowed=allowed)
    assert result.passages
    assert {p.doc_id for p in result.passages} == {docs[target].doc_id}
    assert result.answer is not None and result.answer.doc_id == docs[target].doc_id


def test_a_restriction_that_allows_nothing_gives_no_passages_and_no_answer(engine: Any) -> None:
    allowed = Allowed.only(len(engine.documents()), [])
    result = engine.ask(QUESTION, top_k=5, allowed=allowed)
    assert result.passages == []
    assert result.answer is None
    assert engine.search("How many task forces did Lanzhou New Area set up?", allowed=allowed) == []


def test_a_restriction_that_allows_everything_changes_nothing(engine: Any) -> None:
    everything = Allowed(np.ones(len(engine.documents()), dtype=np.bool_))
    assert engine.ask(QUESTION, top_k=10, allowed=everything).passages == (
        engine.ask(QUESTION, top_k=10).passages
    )


def test_sentences_overlapping_a_passage_are_one_run_of_rows() -> None:
    passages = np.array([[0, 0, 10], [0, 8, 20], [1, 0, 5]])
    sentences = np.array([[0, 0, 4], [0, 4, 9], [0, 9, 20], [1, 0, 5]])
    lo, hi = overlap_runs(passages, sentences)
    assert [list(range(a, b)) for a, b in zip(lo, hi, strict=True)] == [[0, 1, 2], [1, 2], [3]]
    lo, hi = overlap_runs(sentences, passages)
    assert [list(range(a, b)) for a, b in zip(lo, hi, strict=True)] == [[0], [0, 1], [0, 1], [2]]


def test_parameters_default_without_a_file_and_name_an_unknown_one(tmp_path: Path) -> None:
    assert load_params(tmp_path / "absent.json") == (RankingParams(), AnswerParams())
    path = tmp_path / "params.json"
    path.write_text(json.dumps({"ranking": {"depth": 80}, "answer": {"passages": 4}}))
    ranking, answering = load_params(path)
    assert (ranking.depth, ranking.rrf_k, answering.passages) == (80, 60, 4)
    path.write_text(json.dumps({"answer": {"w_sentence": 1.0}}))
    with pytest.raises(ValueError, match=r"unknown parameter.*w_sentence"):
        load_params(path)


def test_no_weight_is_shared_between_ranking_and_answer_parameters() -> None:
    ranking = set(RankingParams.__dataclass_fields__)
    answering = set(AnswerParams.__dataclass_fields__)
    assert ranking & answering == set()
