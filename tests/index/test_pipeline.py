"""The ranking pipeline: stage lists per retriever, the allowed restriction, named parameters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.rank import candidates, evidence, fusion, pipeline
from index.rank.params import AnswerParams, RankingParams, load_params
from index.rank.pipeline import RETRIEVERS, RetrievalConfig
from index.search.view import overlap_runs
from index.types import Allowed

QUESTION = "白银炉能耗降低了多少"


def test_each_retriever_is_a_list_of_stages() -> None:
    stages = {r: pipeline.ranking_stages(RetrievalConfig(retriever=r)) for r in RETRIEVERS}
    assert stages["bm25"].candidates == (candidates.lexical_candidates,)
    assert stages["bm25"].fusion is fusion.lexical_only
    assert stages["dense"].candidates == (candidates.dense_candidates,)
    assert stages["dense"].fusion is fusion.dense_only
    assert stages["hybrid"].fusion is fusion.weighted_fusion
    assert stages["hybrid"].rescoring == ()
    assert stages["hybrid+rerank"].rescoring == (evidence.sentence_evidence,)
    rrf = pipeline.ranking_stages(RetrievalConfig(retriever="hybrid", fusion="rrf"))
    assert rrf.fusion is fusion.rrf_fusion


def test_a_query_restricted_to_one_document_sees_only_that_document(engine: Any) -> None:
    docs = engine.contents.documents()
    target = next(i for i, d in enumerate(docs) if d.source == "000_0ad1dae646fc90f2.txt")
    allowed = Allowed.only(len(docs), [target])
    result = engine.ask(QUESTION, top_k=10, allowed=allowed)
    assert result.passages
    assert {p.doc_id for p in result.passages} == {docs[target].doc_id}
    assert result.answer is not None and result.answer.doc_id == docs[target].doc_id


def test_a_restriction_that_allows_nothing_gives_no_passages_and_no_answer(engine: Any) -> None:
    allowed = Allowed.only(len(engine.contents.documents()), [])
    result = engine.ask(QUESTION, top_k=5, allowed=allowed)
    assert result.passages == []
    assert result.answer is None
    assert engine.search("How many task forces did Lanzhou New Area set up?", allowed=allowed) == []


def test_a_restriction_that_allows_everything_changes_nothing(engine: Any) -> None:
    everything = Allowed(np.ones(len(engine.contents.documents()), dtype=np.bool_))
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


STAGE_MODULES = ("query", "candidates", "fusion", "evidence", "answer", "abstain")


def _stage_entries(run: Any) -> list[str]:
    """The stage modules (`index/rank/<stage>.py`) that `run()` enters from another module, in
    order: a call whose caller lives in another file."""
    import sys

    rank = Path(__file__).resolve().parents[2] / "index" / "rank"
    files = {str(rank / f"{name}.py"): name for name in STAGE_MODULES}
    entries: list[str] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event != "call":
            return
        name = files.get(frame.f_code.co_filename)
        caller = frame.f_back
        if name is not None and (
            caller is None or caller.f_code.co_filename != frame.f_code.co_filename
        ):
            entries.append(name)

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return entries


@pytest.mark.parametrize(
    "question",
    [QUESTION, "How many investment-attraction task forces did Lanzhou New Area set up?"],
)
def test_a_question_walks_through_each_stage_module_once_in_order(
    engine: Any, question: str
) -> None:
    engine.ask(question)  # warm: the phrase cache and lazily loaded parts
    assert _stage_entries(lambda: engine.ask(question)) == list(STAGE_MODULES)


def test_the_trace_holds_every_stage_and_resuming_it_gives_the_same_answer(engine: Any) -> None:
    from index.rank.pipeline import ABSTENTION, EVIDENCE

    whole = engine.pipeline.run(QUESTION)
    assert whole.stage == ABSTENTION
    assert whole.query is not None and whole.candidates is not None and whole.fused is not None
    assert whole.rescored is not None and whole.ranking == whole.rescored.ranking
    assert whole.rescored.features.shape == (len(whole.rescored.passages.passages), 4)
    assert whole.choice is not None and whole.answer == whole.choice
    half = engine.pipeline.run(QUESTION, stop_after=EVIDENCE)
    assert half.stage == EVIDENCE and half.choice is None
    resumed = engine.pipeline.resume(half)
    assert resumed.ranking == whole.ranking and resumed.answer is not None
    assert (resumed.answer.sentence, resumed.answer.score) == (
        whole.answer.sentence,
        whole.answer.score,
    )
