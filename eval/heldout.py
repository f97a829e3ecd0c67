"""Answering each question with parameters that never saw its article.

`ragqa eval tune` writes, beside the final parameters, the parameters fitted *without* each
fold and which fold every article (seed file, CMRC paragraph) belongs to. `HeldOutAnswerer`
answers a question with the parameters of its article's fold, so `ragqa eval run --held-out`
and `ragqa eval gate` report out-of-article figures for the very parameters that ship
(`today` runs the documented defaults and the abstention model of today's code beside it).
A question whose article was not in any fitting set (a new question file) is answered with
the final parameters: those never saw it either.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.dataset import Question
from eval.runner import EngineAnswerer, Reply
from index.rank.params import PARAMS_FILE

if TYPE_CHECKING:
    from eval.tune import Fitted
    from index.engine import Engine

DEFAULT_PARAMS = PARAMS_FILE
"""The fit of `ragqa eval tune` the gate reads: the engine's own `index/rank/params.json`, whose
per-fold parameters are kept beside the final ones for this."""


class HeldOutError(ValueError):
    """The parameters file has no per-fold parameters (not written by `ragqa eval tune`)."""


def read_folds(path: Path = DEFAULT_PARAMS) -> tuple[dict[str, int], list[Fitted], Fitted]:
    """(unit → fold, parameters fitted without each fold, final parameters) of `path`."""
    from eval.tune_report import fitted_from_json

    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HeldOutError(f"{path} not found: run `ragqa eval tune` first") from None
    folds = data.get("folds", {})
    if not folds.get("fitted_without") or not folds.get("fold_of"):
        raise HeldOutError(f"{path} has no per-fold parameters: re-run `ragqa eval tune`")
    return (
        {str(k): int(v) for k, v in folds["fold_of"].items()},
        [fitted_from_json(f) for f in folds["fitted_without"]],
        fitted_from_json(data),
    )


class HeldOutAnswerer:
    """The engine answering each question with the parameters fitted without its fold."""

    gives_answers = True

    def __init__(
        self,
        engine: Engine,
        questions: Sequence[Question],
        units: dict[str, str],
        path: Path = DEFAULT_PARAMS,
    ) -> None:
        fold_of, fits, final = read_folds(path)
        per_fold = [_engine(engine, f) for f in fits]
        self._final = EngineAnswerer(_engine(engine, final))
        self._by_text: dict[str, EngineAnswerer] = {}
        for q in questions:
            fold = fold_of.get(units.get(q.id, ""))
            chosen = EngineAnswerer(per_fold[fold]) if fold is not None else self._final
            self._by_text.setdefault(q.question, chosen)

    def ask(self, question: str, top_k: int) -> Reply:
        return self._by_text.get(question, self._final).ask(question, top_k)


def _engine(engine: Engine, fitted: Fitted) -> Engine:
    copy = engine.with_params(fitted.ranking, fitted.answering)
    copy.abstention = fitted.abstention
    return copy
