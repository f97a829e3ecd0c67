"""The arithmetic of `ragqa eval tune`: article-held-out folds, listwise fits of linear score
weights, and the abstention threshold. Pure numpy over plain arrays, so it tests without an
index.

**Folds.** Every question belongs to a *unit* that is held out whole: its seed file or CMRC
paragraph (unanswerable questions: the article or paragraph they are about, else themselves;
`eval.sets.unit_of`). Units are dealt round-robin to the k folds in a fixed pseudo-random
order, separately per corpus and kind, so every fold gets one of the five seed files and a
fifth of the CMRC paragraphs.

**Linear weights.** The re-scoring stage and the answer choice both score a candidate
(a passage, a sentence) as a weighted sum of features and keep the best. Their weights are
fitted by a listwise softmax loss: for each question, the probability mass the softmax over
its candidates' scores puts on the good candidates (a passage of the right article holding
an answer; a sentence holding an answer) is maximised, with a small L2 pull towards the
current defaults. Questions whose candidates are all good or all bad say nothing and are
skipped.

**Threshold.** The abstention model gives P(answerable); the threshold is the highest one at
which at most `max_answerable_null` of the training folds' answerable questions fall below
it, which maximises unanswerable recall under that ceiling.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


def assign_folds(units: Sequence[str], k: int) -> dict[str, int]:
    """Unit → fold in 0..k-1, round-robin per group (``corpus:`` prefix and kind)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for unit in dict.fromkeys(units):
        corpus = unit.split(":", 1)[0]
        kind = "question" if ":question:" in unit else "article"
        groups[f"{corpus}/{kind}"].append(unit)
    folds: dict[str, int] = {}
    for members in groups.values():
        ordered = sorted(members, key=lambda u: hashlib.sha256(u.encode()).hexdigest())
        for i, unit in enumerate(ordered):
            folds[unit] = i % k
    return folds


@dataclass(frozen=True)
class Groups:
    """Candidates of many questions stacked: features, labels and the question of each row."""

    x: Array
    """(n, d) features."""
    y: Array
    """(n,) 1.0 for a good candidate."""
    group: npt.NDArray[np.int64]
    """(n,) question number of each row, 0..g-1, rows of a question contiguous."""

    @classmethod
    def stack(cls, items: Sequence[tuple[Array, Array]], d: int) -> Groups:
        """From per-question (features, labels); questions with no candidates are dropped."""
        kept = [(x, y) for x, y in items if len(y)]
        if not kept:
            return cls(np.empty((0, d)), np.empty(0), np.empty(0, dtype=np.int64))
        x = np.concatenate([np.asarray(x, dtype=np.float64).reshape(-1, d) for x, _ in kept])
        y = np.concatenate([np.asarray(y, dtype=np.float64) for _, y in kept])
        group = np.concatenate(
            [np.full(len(y), i, dtype=np.int64) for i, (_, y) in enumerate(kept)]
        )
        return cls(x, y, group)

    def informative(self) -> Groups:
        """Only the questions with at least one good and one bad candidate."""
        if not len(self.y):
            return self
        n = int(self.group.max()) + 1
        good = np.bincount(self.group, weights=self.y, minlength=n)
        size = np.bincount(self.group, minlength=n)
        keep_group = (good > 0) & (good < size)
        keep = keep_group[self.group]
        renumber = np.cumsum(keep_group) - 1
        return Groups(self.x[keep], self.y[keep], renumber[self.group[keep]].astype(np.int64))


def _group_max(values: Array, group: npt.NDArray[np.int64], n: int) -> Array:
    out = np.full(n, -np.inf)
    np.maximum.at(out, group, values)
    return out


def listwise_loss(w: Array, data: Groups, prior: Array, l2: float) -> tuple[float, Array]:
    """Mean over questions of -log(softmax mass on good candidates), plus L2 to `prior`."""
    n = int(data.group.max()) + 1
    s = data.x @ w
    s = s - _group_max(s, data.group, n)[data.group]
    e = np.exp(s)
    total = np.bincount(data.group, weights=e, minlength=n)
    good = np.bincount(data.group, weights=e * data.y, minlength=n)
    loss = float(np.mean(np.log(total) - np.log(good))) + l2 * float(np.sum((w - prior) ** 2))
    p_all = e / total[data.group]
    p_good = e * data.y / good[data.group]
    grad = ((p_all - p_good)[:, None] * data.x).sum(axis=0) / n + 2 * l2 * (w - prior)
    return loss, grad


def fit_listwise(
    data: Groups, prior: Sequence[float], *, l2: float = 0.01, steps: int = 800, lr: float = 0.5
) -> tuple[float, ...]:
    """Weights maximising the softmax mass on good candidates (Adam, full batch), from `prior`."""
    start = np.asarray(prior, dtype=np.float64)
    data = data.informative()
    if not len(data.y):
        return tuple(start.tolist())
    w = start.copy()
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t in range(1, steps + 1):
        _, g = listwise_loss(w, data, start, l2)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        w -= lr * 0.1 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return tuple(float(round(x, 4)) for x in w)


def top1_accuracy(data: Groups, w: Sequence[float]) -> float:
    """Share of questions whose best-scoring candidate is a good one (ties: the first row)."""
    if not len(data.y):
        return 0.0
    s = data.x @ np.asarray(w, dtype=np.float64)
    n = int(data.group.max()) + 1
    best = np.full(n, -1)
    best_score = np.full(n, -np.inf)
    for row in range(len(s)):  # first row wins a tie, as a stable sort does
        g = data.group[row]
        if s[row] > best_score[g]:
            best_score[g], best[g] = s[row], row
    return float(np.mean(data.y[best]))


def choose_threshold(answerable: Sequence[float], max_answerable_null: float) -> float:
    """The highest threshold leaving at most that share of answerable probabilities below it."""
    probs = np.sort(np.asarray(answerable, dtype=np.float64))
    if not probs.size:
        return 0.5
    allowed = int(np.floor(max_answerable_null * probs.size + 1e-9))
    # abstain when p < threshold: the `allowed` lowest may fall below, the next must not
    return float(probs[allowed]) if allowed < probs.size else float(probs[-1]) + 1e-6
