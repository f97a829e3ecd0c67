"""Question sets for offline evaluation: the JSONL format, its validation, and answer matching.

One JSON object a line::

    {"id": "q001", "question": "…", "answers": ["29项"], "source": "000_….txt", "tags": []}

``answers`` lists accepted verbatim strings; an empty list marks a question the corpus cannot
answer, whose ``source`` must then be null. ``id`` and ``tags`` are optional so that plain sets
(such as ``dev_questions.jsonl``) load too: a missing id becomes ``"{file stem}-{line}"`` and
missing tags are inferred (``english`` for an English question, ``unanswerable`` for an empty
answer list).

Answers are compared after :func:`normalize` (Unicode NFKC, then every whitespace character
removed), so a full-width ``，`` matches ``,`` and an answer printed across a raw line break
still matches the text once the break is gone.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_WHITESPACE = re.compile(r"\s+")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_CJK = re.compile(r"[\u3400-\u9fff]")


class QuestionSetError(ValueError):
    """A question file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Question:
    """One evaluation question with its accepted answers and the seed file that holds them."""

    id: str
    question: str
    answers: tuple[str, ...]
    source: str | None
    tags: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        """True when the corpus states an answer (the answer list is not empty)."""
        return bool(self.answers)

    @property
    def is_english(self) -> bool:
        """True when the question is written in English rather than Chinese."""
        return is_english(self.question)


def normalize(text: str) -> str:
    """NFKC-fold ``text`` and drop all whitespace: the form in which answers are compared."""
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", text))


def contains_answer(text: str, answers: Sequence[str]) -> bool:
    """Whether ``text`` contains any accepted answer, both compared in :func:`normalize` form."""
    haystack = normalize(text)
    return any(needle and needle in haystack for needle in (normalize(a) for a in answers))


def is_english(question: str) -> bool:
    """Heuristic: more ASCII letters than CJK characters means an English question."""
    return len(_ASCII_LETTER.findall(question)) > len(_CJK.findall(question))


def infer_tags(question: str, answers: Sequence[str]) -> tuple[str, ...]:
    """The minimal tags a line without ``tags`` gets: ``english`` and/or ``unanswerable``."""
    tags: list[str] = []
    if is_english(question):
        tags.append("english")
    if not answers:
        tags.append("unanswerable")
    return tuple(tags)


def load_questions(path: Path) -> list[Question]:
    """Read and validate a JSONL question set; :class:`QuestionSetError` on the first bad line.

    Blank lines are skipped. Each error names the file and the 1-based line number.
    """
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QuestionSetError(f"{path}: question file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionSetError(f"{path}: cannot read question file ({exc})") from None
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for line_no, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{line_no}"
        question = parse_question(line, where=where, default_id=f"{path.stem}-{line_no}")
        if question.id in seen:
            raise QuestionSetError(
                f"{where}: duplicate id {question.id!r} (first used on line {seen[question.id]})"
            )
        seen[question.id] = line_no
        questions.append(question)
    return questions


def parse_question(line: str, *, where: str, default_id: str) -> Question:
    """Validate one JSONL line into a :class:`Question`; ``where`` prefixes every error."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise QuestionSetError(f"{where}: invalid JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise QuestionSetError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    text = obj.get("question")
    if not isinstance(text, str) or not text.strip():
        raise QuestionSetError(f"{where}: 'question' must be a non-empty string")
    answers = _string_list(obj, "answers", where, required=True)
    source = obj.get("source")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        raise QuestionSetError(f"{where}: 'source' must be a file name or null")
    if answers and source is None:
        raise QuestionSetError(f"{where}: answerable question needs a 'source' file name")
    qid = obj.get("id", default_id)
    if not isinstance(qid, str) or not qid.strip():
        raise QuestionSetError(f"{where}: 'id' must be a non-empty string")
    tags = (
        _string_list(obj, "tags", where, required=False)
        if "tags" in obj
        else infer_tags(text, answers)
    )
    return Question(id=qid, question=text, answers=answers, source=source, tags=tags)


def _string_list(obj: dict[str, Any], key: str, where: str, *, required: bool) -> tuple[str, ...]:
    value = obj.get(key)
    if value is None and not required:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise QuestionSetError(f"{where}: {key!r} must be a list of strings")
    if any(not v.strip() for v in value):
        # An empty accepted answer would match every passage.
        raise QuestionSetError(f"{where}: {key!r} must not contain empty strings")
    return tuple(value)
