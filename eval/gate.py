"""The regression gate: minimum quality of the main retriever, per question set.

`eval/thresholds.json` records, per question set, floors (hit@5 overall and on English
questions, MRR@10, answer accuracy, abstention recall) and a ceiling (the share of answerable
questions the system declined), set a little below a measured run, plus that run's date,
commit, measured values and per-question outcome. When a metric falls through its limit the
gate reports which questions got worse than in the reference run, so a failure says what to
look at, not only that a number dropped.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from eval.dataset import Question
from eval.metrics import QuestionResult, summarize

THRESHOLDS_FILE = Path(__file__).with_name("thresholds.json")
MARGIN = 0.02
"""How far below the measured value a floor sits (above, for a ceiling): two points."""
FLOORS = ("hit_at_5", "hit_at_5_english", "mrr_at_10", "answer_accuracy", "abstention_recall")
CEILINGS = ("answerable_null_rate",)
MAX_LISTED = 40


@dataclass(frozen=True)
class SetThresholds:
    """Limits for one question set, and the reference run they were derived from."""

    floors: dict[str, float]
    ceilings: dict[str, float]
    measured: dict[str, float | None]
    reference: dict[str, tuple[int | None, bool]]
    """Per question id: (first hit rank, answer correct) in the reference run."""


@dataclass(frozen=True)
class Check:
    """One metric against its limit."""

    metric: str
    value: float | None
    limit: float
    kind: str  # "min" or "max"

    @property
    def passed(self) -> bool:
        if self.value is None:
            return True  # undefined for this set (e.g. no English question)
        return self.value >= self.limit if self.kind == "min" else self.value <= self.limit


@dataclass(frozen=True)
class GateResult:
    """The checks of one question set and the questions that got worse than the reference."""

    set_name: str
    checks: tuple[Check, ...]
    worse: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    def render(self) -> str:
        """A readable report: every check, then (on failure) the questions that got worse."""
        lines = [f"gate {'passed' if self.passed else 'FAILED'} on {self.set_name}:"]
        for c in self.checks:
            op = ">=" if c.kind == "min" else "<="
            value = "n/a" if c.value is None else f"{c.value:.3f}"
            mark = "ok  " if c.passed else "FAIL"
            lines.append(f"  {mark} {c.metric:22s} {value} (limit {op} {c.limit:.2f})")
        if not self.passed:
            lines.append(f"  questions worse than the reference run ({len(self.worse)}):")
            lines += [f"    {w}" for w in self.worse[:MAX_LISTED]]
            if len(self.worse) > MAX_LISTED:
                lines.append(f"    … and {len(self.worse) - MAX_LISTED} more")
        return "\n".join(lines)


def held_out_answerer(engine: Any, questions: Sequence[Question]) -> Any:
    """The seed questions answered with the parameters fitted without their article
    (`eval.heldout`); HeldOutError when `index/rank/params.json` has no per-fold parameters."""
    from eval.heldout import HeldOutAnswerer
    from eval.sets import unit_of

    units = {q.id: unit_of(q, "seed", {}) for q in questions}
    return HeldOutAnswerer(engine, questions, units)


def measure(results: Sequence[QuestionResult]) -> dict[str, float | None]:
    """The gated metrics of one run."""
    summary = summarize(results)
    overall = summary["all"]
    english = summary.get("english")
    return {
        "hit_at_5": overall.hit_at_5,
        "hit_at_5_english": english.hit_at_5 if english is not None else None,
        "mrr_at_10": overall.mrr_at_10,
        "answer_accuracy": overall.answer_accuracy,
        "abstention_recall": overall.abstention_recall,
        "answerable_null_rate": overall.answerable_null_rate,
    }


def check_gate(
    set_name: str,
    results: Sequence[QuestionResult],
    questions: Sequence[Question],
    thresholds: SetThresholds,
) -> GateResult:
    """Compare one run to its set's limits; list questions worse than the reference run."""
    values = measure(results)
    checks = [Check(m, values[m], limit, "min") for m, limit in thresholds.floors.items()]
    checks += [Check(m, values[m], limit, "max") for m, limit in thresholds.ceilings.items()]
    return GateResult(
        set_name, tuple(checks), tuple(worse_than_reference(results, questions, thresholds))
    )


def worse_than_reference(
    results: Sequence[QuestionResult], questions: Sequence[Question], thresholds: SetThresholds
) -> list[str]:
    """One line per question whose rank or answer is worse than in the reference run."""
    text = {q.id: q.question for q in questions}
    lines = []
    for r in results:
        if r.question_id not in thresholds.reference:
            continue
        rank_before, correct_before = thresholds.reference[r.question_id]
        rank_worse = _rr(r.first_hit_rank) < _rr(rank_before)
        answer_worse = correct_before and not r.answer_correct
        if rank_worse or answer_worse:
            lines.append(
                f"{r.question_id} [{','.join(r.tags)}] rank {_rank(rank_before)} -> "
                f"{_rank(r.first_hit_rank)}, answer {_ok(correct_before)} -> "
                f"{_ok(r.answer_correct)}: {text.get(r.question_id, '')}"
            )
    return lines


def derive_thresholds(results: Sequence[QuestionResult], margin: float = MARGIN) -> SetThresholds:
    """Limits `margin` below (floors) or above (ceilings) a measured run, on whole points."""
    values = measure(results)
    floors = {
        m: max(0.0, math.floor((v - margin) * 100 + 1e-9) / 100)
        for m in FLOORS
        if (v := values[m]) is not None
    }
    ceilings = {
        m: min(1.0, math.ceil((v + margin) * 100 - 1e-9) / 100)
        for m in CEILINGS
        if (v := values[m]) is not None
    }
    reference = {r.question_id: (r.first_hit_rank, r.answer_correct) for r in results}
    return SetThresholds(floors, ceilings, values, reference)


def never_looser(new: SetThresholds, old: SetThresholds | None) -> SetThresholds:
    """`new` with each limit kept at least as strict as in `old`: `--update` after an
    intended change raises floors (and lowers ceilings) to the new run, never the other way.
    A limit the new run does not reach stays, so the gate fails until someone edits it by hand
    and says why."""
    if old is None:
        return new
    floors = {m: max(v, old.floors.get(m, v)) for m, v in new.floors.items()}
    ceilings = {m: min(v, old.ceilings.get(m, v)) for m, v in new.ceilings.items()}
    return replace(new, floors=floors, ceilings=ceilings)


def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict[str, SetThresholds]:
    """Per question-set file name, its thresholds."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        name: SetThresholds(
            floors=entry["min"],
            ceilings=entry["max"],
            measured=entry["measured"],
            reference={qid: (v[0], bool(v[1])) for qid, v in entry["reference"].items()},
        )
        for name, entry in data["sets"].items()
    }


def thresholds_json(
    sets: dict[str, SetThresholds], *, variant: str, date: str, commit: str | None, index: Any
) -> dict[str, Any]:
    """The `thresholds.json` document for `sets`, with where the measurement came from."""
    return {
        "about": (
            f"Regression gate for the {variant!r} retriever on the seed index (tests/eval/"
            f"test_regression_gate.py), held out: every question answered with the parameters "
            "of index/rank/params.json fitted without its article. Floors sit "
            f"{round(MARGIN * 100)} points below the "
            "measured values (rounded down), ceilings as far above (rounded up), never looser "
            "than before. Regenerate with `ragqa eval gate --update` after an intended change."
        ),
        "variant": variant,
        "measured_at": date,
        "commit": commit,
        "index": index,
        "sets": {
            name: {
                "min": t.floors,
                "max": t.ceilings,
                "measured": {
                    k: (None if v is None else round(v, 4)) for k, v in t.measured.items()
                },
                "reference": {qid: list(v) for qid, v in t.reference.items()},
            }
            for name, t in sets.items()
        },
    }


def render_thresholds(doc: dict[str, Any]) -> str:
    """`thresholds.json` text: indented, but each reference entry on one line."""
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    return re.sub(r"\[\n\s*([^\s,\[\]]+),\n\s*([^\s,\[\]]+)\n\s*\]", r"[\1, \2]", text) + "\n"


def _rr(rank: int | None) -> float:
    return 1.0 / rank if rank is not None and rank <= 10 else 0.0


def _rank(rank: int | None) -> str:
    return "miss" if rank is None or rank > 10 else str(rank)


def _ok(correct: bool) -> str:
    return "ok" if correct else "wrong"
