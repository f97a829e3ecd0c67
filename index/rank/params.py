"""Every number the ranking and the answer choice use, named, documented, in two objects.

`RankingParams` decides which passages come back and in what order (candidates, fusion,
re-scoring); `AnswerParams` decides which sentence of the top passages is the answer. No
weight is shared between the two: the re-scoring stage's sentence weight and the answer
choice's similarity weight are separate fields even where their defaults are equal, so one
can be fitted without moving the other. The abstention model (`index.rank.abstain`) is the third,
separate piece.

The defaults are the values the engine has shipped with. Fitted values, when present, live in
one file, `index/rank/params.json` (``{"ranking": {...}, "answer": {...}}``); a field missing from
the file keeps its default, an unknown field is an error naming it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

PARAMS_FILE = Path(__file__).with_name("params.json")


@dataclass(frozen=True)
class RankingParams:
    """Candidates, fusion and re-scoring: which passages, in which order."""

    # -- candidates ---------------------------------------------------------------------
    depth: int = 50
    """Passages taken from each candidate source (dense, BM25), and kept after dense scoring."""
    dense_pool: int = 100
    """Nearest passages FAISS returns; the best-sentence mix re-orders them and keeps `depth`.
    Only these passages' sentences are scored: the query never scans every sentence."""
    bridge_share: float = 1.0
    """Lexical trust (0..1) for an English question read through the pinyin/glossary bridge."""
    focus_window: int = 6
    """Characters on each side of the question word whose words are the question's focus."""

    # -- dense scoring ------------------------------------------------------------------
    passage_vs_sentence: float = 0.5
    """Dense score = this × passage similarity + the rest × best-sentence similarity."""
    sentence_floor_gap: float = 0.1
    """The best-sentence similarity counts as at least passage similarity minus this, so a
    passage whose sentences are all short or generic is not sunk by them."""

    # -- fusion ---------------------------------------------------------------------------
    dense_weight: float = 0.5
    """Weighted fusion: share of the dense score when BM25 can read the whole question; the
    lexical share (1 - this) is scaled by how much of the question BM25 can read."""
    rrf_k: int = 60
    """Reciprocal rank fusion constant: score = sum of 1 / (rrf_k + rank)."""

    # -- re-scoring (hybrid+rerank) -------------------------------------------------------
    rerank_depth: int = 30
    """Fused passages re-scored by their sentence evidence."""
    rerank_fused: float = 0.4
    """Weight of the fused score (divided by the best fused score) in the re-scored score."""
    rerank_sentence: float = 1.0
    """Weight of the passage's best sentence similarity."""
    rerank_keywords: float = 0.4
    """Weight of the IDF-weighted share of the question's keywords in title + passage."""
    rerank_numbers: float = 0.2
    """Weight of the share of the question's numbers in title + passage."""


@dataclass(frozen=True)
class AnswerParams:
    """Answer choice: which sentence of the top passages answers, scored linearly."""

    passages: int = 3
    """Answers are sought in this many top passages."""
    w_similarity: float = 1.0
    """Weight of the sentence's cosine similarity with the question."""
    w_keywords: float = 0.4
    """Weight of the IDF-weighted share of the question's keywords in the sentence."""
    w_beyond_title: float = 0.0
    """Weight of the same share counting only the keywords the document's title lacks."""
    w_context: float = 0.0
    """Weight of the same share in the sentence's passage (title + passage)."""
    w_focus: float = 0.2
    """Weight of the share of the focus words (next to the question word) in the sentence."""
    w_subject: float = 0.2
    """Weight of the share of the non-focus keywords (the subject) in the passage."""
    w_answer_type: float = 0.3
    """Weight of "holds the kind of thing asked for" (a number, a person, a date), 0 or 1."""
    w_novelty: float = 0.2
    """Weight of how much the sentence says beyond the question (see `novelty_full`)."""
    novelty_full: float = 0.4
    """A sentence with this share of characters not in the question counts as fully novel."""
    w_passage: float = 0.2
    """Weight of the passage's rank prior: 1 for the first passage, falling linearly."""
    w_bridge: float = 0.0
    """Weight of the share of an English question's bridged Chinese words in the sentence
    (`index.rank.wordbridge`). 0 until `ragqa eval tune` fits it: a hand-set value is not
    measured."""

    # -- the English→Chinese word bridge (`index.rank.wordbridge`; benchmarks/bridge_choice.py) --
    bridge_threshold: float = 0.89
    """Least cosine between an English word (or word pair) and a Chinese word of the top
    passages for the Chinese word to count as bridged."""
    bridge_passages: int = 3
    """The bridge matches against the vocabulary words of this many top passages."""
    bridge_pairs: bool = True
    """Match adjacent pairs of the question's content words too ("body length" → 体长)."""


def _from_json(cls: type[Any], data: dict[str, Any], where: str) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{where}: unknown parameter(s) {', '.join(unknown)}")
    return cls(**data)


def load_params(path: Path = PARAMS_FILE) -> tuple[RankingParams, AnswerParams]:
    """The fitted parameters in `path`, or the defaults when the file does not exist."""
    if not path.exists():
        return RankingParams(), AnswerParams()
    return params_from(json.loads(path.read_text(encoding="utf-8")), path)


def params_from(data: dict[str, Any], path: Path) -> tuple[RankingParams, AnswerParams]:
    """The ranking and answer parameters of a parameters file's JSON (`path` names it in
    errors)."""
    return (
        _from_json(RankingParams, data.get("ranking", {}), f"{path} ranking"),
        _from_json(AnswerParams, data.get("answer", {}), f"{path} answer"),
    )
