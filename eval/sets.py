"""Named question sets: what `ragqa eval run --set NAME` and `ragqa eval tune` read.

Each set names its questions and the corpus they are asked over. The seed sets are asked over
the index of the bundled articles (`--index`); the CMRC sets over the CMRC index, built from
`eval/outside/cmrc2018_trial.json` under the evaluation cache (`eval.cmrc.cmrc_index`).

A set's *unit* is what the fitting folds hold out whole (`eval.folds`): a seed file (an
article page) for the seed sets, a paragraph for the CMRC sets. An unanswerable question has
no source; its unit is the article or paragraph it was written about when the file says so
(``context_id``), else the question itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from eval.cmrc import CMRC_EN_FILE, CMRC_FILE, CMRC_UNANSWERABLE_FILE, load_cmrc_questions
from eval.dataset import Question, QuestionSetError, load_questions

HERE = Path(__file__).resolve().parent
Corpus = Literal["seed", "cmrc"]


@dataclass(frozen=True)
class NamedSet:
    """A question file, the corpus its questions are asked over, and a one-line description."""

    name: str
    path: Path
    corpus: Corpus
    description: str

    def load(self) -> list[Question]:
        """The questions (QuestionSetError on a bad file)."""
        if self.path == CMRC_FILE:
            return load_cmrc_questions(self.path)
        return load_questions(self.path)

    def topics(self) -> dict[str, str]:
        """Question id → the article/paragraph an unanswerable question is about, if stated."""
        if self.path.suffix != ".jsonl":
            return {}
        found: dict[str, str] = {}
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                if isinstance(row.get("context_id"), str) and isinstance(row.get("id"), str):
                    found[row["id"]] = row["context_id"]
        return found


SETS: dict[str, NamedSet] = {
    s.name: s
    for s in (
        NamedSet(
            "dev",
            HERE / "dev_questions.jsonl",
            "seed",
            "41 development questions on the seed articles (30 Chinese, 8 English, 3 unanswerable)",
        ),
        NamedSet(
            "own",
            HERE / "questions.jsonl",
            "seed",
            "the project's 300 questions on the seed articles, tagged by kind",
        ),
        NamedSet("cmrc", CMRC_FILE, "cmrc", "CMRC 2018 trial: 1,002 Chinese questions"),
        NamedSet("cmrc-en", CMRC_EN_FILE, "cmrc", "English versions of CMRC questions"),
        NamedSet(
            "cmrc-unanswerable",
            CMRC_UNANSWERABLE_FILE,
            "cmrc",
            "questions about CMRC topics that no paragraph answers",
        ),
    )
}


def named_set(name: str) -> NamedSet:
    """The set called `name`; ValueError listing the known names otherwise."""
    try:
        return SETS[name]
    except KeyError:
        raise ValueError(f"unknown question set {name!r}: choose from {', '.join(SETS)}") from None


def unit_of(question: Question, corpus: Corpus, topics: dict[str, str]) -> str:
    """The unit a fold holds out whole: ``corpus:source`` (or the topic, or the question)."""
    if question.source is not None:
        return f"{corpus}:{question.source}"
    topic = topics.get(question.id)
    if topic is not None:
        return f"{corpus}:{topic}.txt" if corpus == "cmrc" else f"{corpus}:{topic}"
    return f"{corpus}:question:{question.id}"


__all__ = ["SETS", "NamedSet", "QuestionSetError", "named_set", "unit_of"]
