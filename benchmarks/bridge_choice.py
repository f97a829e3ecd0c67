"""`python -m benchmarks.bridge_choice`: choose the word bridge's numbers on training folds only.

The bridge (`index.rank.wordbridge`) has three numbers (`AnswerParams.bridge_threshold`,
`bridge_passages`, `bridge_pairs`). For each article-held-out fold of `ragqa eval tune`
(same sets, same folds), every candidate setting is scored by an inner cross-validation on
the *other* folds only: the answer weights (``w_*`` with ``w_bridge``) are fitted listwise on
three of them and the English answer accuracy (best sentence holds an answer) is measured on
the fourth. The setting with the best inner score is then fitted on all training folds and
measured on the held-out fold. It prints, per fold, the chosen setting and its held-out
English answer accuracy, and the same for the answer weights without the bridge feature.

The ranking is today's (the documented defaults): the bridge only changes the answer choice.
"""

from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from eval import tune as t
from eval import tune_report as r
from eval.fitting import Groups, fit_listwise, top1_accuracy

THRESHOLDS = (0.80, 0.83, 0.86, 0.89, 0.92)
PASSAGES = (1, 3)
PAIRS = (True, False)
"""The grid; ``--thresholds 0.86,0.89 --passages 3 --pairs on`` runs a part of it."""


def _grid(argv: Sequence[str]) -> tuple[tuple[float, ...], tuple[int, ...], tuple[bool, ...]]:
    options = dict(zip(argv[::2], argv[1::2], strict=False))
    unknown = sorted(set(options) - {"--thresholds", "--passages", "--pairs"})
    if unknown or len(argv) % 2:
        raise SystemExit(
            "usage: python -m benchmarks.bridge_choice [--thresholds 0.83,0.86] "
            "[--passages 1,3] [--pairs on,off]"
        )

    def split(key: str) -> list[str]:
        return options[key].split(",")

    thresholds = (
        tuple(float(v) for v in split("--thresholds")) if "--thresholds" in options else THRESHOLDS
    )
    passages = tuple(int(v) for v in split("--passages")) if "--passages" in options else PASSAGES
    pairs = tuple(v == "on" for v in split("--pairs")) if "--pairs" in options else PAIRS
    return thresholds, passages, pairs


def _setting_items(items: Sequence[t.Item], pairs: bool) -> list[t.Item]:
    """The items with their phrase vectors cut to the content words when `pairs` is off
    (`english_phrases` lists the words first, then the pairs)."""
    if pairs:
        return list(items)
    from index.rank.wordbridge import english_phrases

    out = []
    for item in items:
        vectors = item.query.phrase_vectors
        if vectors is None:
            out.append(item)
            continue
        n = len(english_phrases(item.question.question, pairs=False))
        query = replace(item.query, phrase_vectors=vectors[:n] if n else None)
        out.append(replace(item, query=query))
    return out


def _groups(items: Sequence[t.Item], answering: object, ranking: object) -> list[Groups]:
    """One `Groups` per answerable item (so folds can be stacked cheaply)."""
    return [
        t.answer_groups([item], ranking, answering)  # type: ignore[arg-type]
        for item in items
        if item.question.answerable
    ]


def _stack(groups: Sequence[Groups], d: int) -> Groups:
    return Groups.stack([(g.x, g.y) for g in groups if len(g.y)], d)


def _accuracy(groups: Sequence[Groups], w: Sequence[float], d: int) -> float:
    """Share of questions whose best-scoring sentence holds an answer (no sentence: wrong)."""
    hits = [top1_accuracy(g, w) if len(g.y) else 0.0 for g in groups]
    return statistics.mean(hits) if hits else 0.0


def main(argv: Sequence[str] = ()) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    _grid(argv)  # a bad option fails before anything is loaded
    from eval.cli import DEFAULT_CACHE, DEFAULT_INDEX
    from eval.opening import _cmrc_engine, _load_engine, _load_named
    from eval.sets import named_set
    from index.rank.params import AnswerParams, RankingParams

    named = [named_set(n) for n in t.DEFAULT_SETS]
    loaded = {s.name: _load_named(s) for s in named}
    seed = _load_engine(DEFAULT_INDEX, True)
    _, _, cmrc = _cmrc_engine(DEFAULT_CACHE, seed.embedder, True, True)
    engines = {"seed": seed, "cmrc": cmrc}
    units = {s.name: t.units_of(s, loaded[s.name]) for s in named}
    k = t.DEFAULT_FOLDS
    fold_of = t.assign_folds([u for m in units.values() for u in m.values()], k)
    vectors = t.VectorCache(DEFAULT_CACHE / f"query-vectors-{r.cache_slug(seed)}.npz")
    items: list[t.Item] = []
    for s in named:
        items += t.collect(engines[s.corpus], s, loaded[s.name], vectors, fold_of, units[s.name])
    vectors.save()
    answerable = [i for i in items if i.question.answerable]
    english = np.asarray([i.question.is_english for i in answerable])
    folds = np.asarray([i.fold for i in answerable])
    ranking = RankingParams()
    d = len(t.ANSWER_FIELDS)
    base = AnswerParams()
    prior = [float(getattr(base, n)) for n in t.ANSWER_FIELDS]
    thresholds, passages, with_pairs = _grid(argv)
    settings = [(tau, n, pairs) for tau in thresholds for n in passages for pairs in with_pairs]
    groups = {}
    for tau, n, pairs in settings:
        answering = replace(base, bridge_threshold=tau, bridge_passages=n, bridge_pairs=pairs)
        groups[(tau, n, pairs)] = _groups(_setting_items(items, pairs), answering, ranking)
        print(f"features of bridge_threshold={tau} passages={n} pairs={pairs}", file=sys.stderr)
    no_bridge = [i for i, name in enumerate(t.ANSWER_FIELDS) if name != "w_bridge"]

    def fit_on(gs: list[Groups], mask: np.ndarray, columns: list[int]) -> list[float]:
        chosen = [g for g, m in zip(gs, mask.tolist(), strict=True) if m]
        sub = [Groups(g.x[:, columns], g.y, g.group) for g in chosen]
        w = fit_listwise(_stack(sub, len(columns)), [prior[c] for c in columns])
        full = [0.0] * d
        for c, value in zip(columns, w, strict=True):
            full[c] = value
        return full

    def english_accuracy(gs: list[Groups], mask: np.ndarray, w: list[float]) -> float:
        return _accuracy([g for g, m in zip(gs, (mask & english).tolist(), strict=True) if m], w, d)

    every = list(range(d))
    held, held_base, chosen = [], [], []
    for f in range(k):
        train = folds != f
        inner: dict[tuple[float, int, bool], float] = {}
        for setting in settings:
            gs = groups[setting]
            scores = []
            for g in range(k):
                if g == f:
                    continue
                w = fit_on(gs, train & (folds != g), every)
                scores.append(english_accuracy(gs, folds == g, w))
            inner[setting] = statistics.mean(scores)
        best = max(settings, key=lambda s: (inner[s], -settings.index(s)))
        chosen.append(best)
        w = fit_on(groups[best], train, every)
        held.append(english_accuracy(groups[best], folds == f, w))
        w0 = fit_on(groups[best], train, no_bridge)
        held_base.append(english_accuracy(groups[best], folds == f, w0))
        print(
            f"fold {f + 1}/{k}: chose threshold={best[0]} passages={best[1]} pairs={best[2]} "
            f"(inner English answer {100 * inner[best]:.1f}); held-out English answer "
            f"{100 * held[-1]:.1f} with the bridge, {100 * held_base[-1]:.1f} without"
        )
    n_en = [int(((folds == f) & english).sum()) for f in range(k)]
    total = sum(n_en)
    with_bridge = sum(a * n for a, n in zip(held, n_en, strict=True)) / total
    without = sum(a * n for a, n in zip(held_base, n_en, strict=True)) / total
    print(
        f"held-out English answer (best sentence of today's top passages), {total} questions: "
        f"{100 * without:.1f} without the bridge -> {100 * with_bridge:.1f} with it"
    )
    votes = {s: chosen.count(s) for s in settings}
    pick = max(settings, key=lambda s: (votes[s], -settings.index(s)))
    print(
        f"chosen in {votes[pick]} of {k} folds: "
        f"threshold={pick[0]} passages={pick[1]} pairs={pick[2]}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
