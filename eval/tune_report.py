"""The parameters file of `ragqa eval tune` and the figures it prints.

`params_document` is the JSON of `index/rank/params.json`: the final fit (`fitted_json`, read
back by `fitted_from_json`), what it is valid for (`fitted_for`), the data sets, the folds and
the parameters fitted without each, and the held-out figures; `write_params` writes it whole.
`render_table` prints the held-out figures, today's parameters next to the fitted ones.
`cache_slug` names the query-vector cache by what a vector depends on. The fit is `eval.tune`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpus import paths
from eval.sets import NamedSet
from eval.tune import Figures, Fitted
from index.rank.params import PARAMS_FILE as RANK_PARAMS_FILE

if TYPE_CHECKING:
    from index.engine import Engine


PARAMS_FILE = RANK_PARAMS_FILE
"""The file the engine reads (tracked in git): `ragqa eval tune --install` writes the fit here."""
TUNED_FILE = paths.VAR_DIR / "tuned" / "params.json"
"""Where `ragqa eval tune` writes the fit by default: beside the indexes, untracked, so that a
trial fit never changes the shipped parameters unless asked (`--install`)."""


def cache_slug(engine: Engine) -> str:
    """File-name-safe id of what a query vector depends on (model, encoder variant, and the
    weights it runs: `Embedder.weights`)."""
    info = fitted_for(engine)
    raw = f"{info['model']}-{info['encoder']}"
    weights = getattr(engine.embedder, "weights", None)
    if weights:
        raw += f"-{weights}"
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def fitted_for(engine: Engine) -> dict[str, Any]:
    """What parameters fitted on this engine's index are valid for."""
    manifest = engine.manifest
    return {
        "model": manifest.model,
        "encoder": str(getattr(engine.embedder, "encoder", "fp32")),
        "chunk_size": manifest.chunking.get("size"),
        "chunk_overlap": manifest.chunking.get("overlap"),
        "embed_titles": manifest.embed_titles,
        "config_id": manifest.config_id,
    }


def params_document(
    final: Fitted,
    engine: Engine,
    sets: Sequence[NamedSet],
    counts: dict[str, int],
    commit: str | None,
    k: int,
    max_null: float,
    today: dict[str, Figures],
    tuned: dict[str, Figures],
    fits: Sequence[Fitted] = (),
    fold_of: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The JSON of `index/rank/params.json`: the final parameters, and per fold the parameters
    fitted without it (so `ragqa eval gate` and `eval run --held-out` answer every question
    with parameters that never saw its article)."""
    return {
        "about": (
            "Fitted by `ragqa eval tune` (eval/tune.py). ranking and answer are separate "
            "objects (index.rank.params); abstention is the logistic model of index.rank.abstain. "
            "held_out figures: each fold answered with parameters fitted on the other folds, "
            "folds holding out whole seed files and CMRC paragraphs."
        ),
        "fitted_for": fitted_for(engine),
        "fitted_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "data_sets": [
            {"name": s.name, "file": s.path.name, "questions": counts[s.name]} for s in sets
        ],
        "folds": {
            "k": k,
            "unit": "seed file / CMRC paragraph",
            "max_answerable_null": max_null,
            "fold_of": dict(sorted((fold_of or {}).items())),
            "fitted_without": [fitted_json(f) for f in fits],
        },
        **fitted_json(final),
        "held_out": {
            "today": {n: asdict(f) for n, f in sorted(today.items())},
            "fitted": {n: asdict(f) for n, f in sorted(tuned.items())},
        },
    }


def fitted_json(fitted: Fitted) -> dict[str, Any]:
    """``ranking``, ``answer`` and ``abstention`` of one fit."""
    model = fitted.abstention
    return {
        "ranking": asdict(fitted.ranking),
        "answer": asdict(fitted.answering),
        "abstention": {
            "features": list(model.features),
            "mean": list(model.mean),
            "scale": list(model.scale),
            "weights": list(model.weights),
            "bias": model.bias,
            "threshold": model.threshold,
        },
    }


def fitted_from_json(data: dict[str, Any]) -> Fitted:
    """The inverse of `fitted_json`."""
    from index.rank.abstain import AbstentionModel
    from index.rank.params import AnswerParams, RankingParams

    model = data["abstention"]
    return Fitted(
        RankingParams(**data["ranking"]),
        AnswerParams(**data["answer"]),
        AbstentionModel.from_json(model, "fitted parameters"),
    )


def render_table(today: dict[str, Figures], tuned: dict[str, Figures]) -> str:
    """Held-out figures, today's parameters next to the fitted ones."""
    cols = ("hit_at_1", "hit_at_5", "answer", "answerable_null", "unanswerable_recall")
    head = "| set | n | " + " | ".join(f"{c} today → fitted" for c in cols) + " |"
    lines = [head, "|" + "---|" * (len(cols) + 2)]
    for name in sorted(tuned):
        cells = []
        for c in cols:
            a, b = getattr(today[name], c), getattr(tuned[name], c)
            cells.append("n/a" if b is None else f"{_pct(a)} → {_pct(b)}")
        lines.append(f"| {name} | {tuned[name].n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}"


def write_params(doc: dict[str, Any], path: Path) -> None:
    tmp = path.with_suffix(".part")
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
