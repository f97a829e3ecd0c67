"""Deciding when the corpus does not say: a small logistic model over answer evidence.

No single score separates answerable from unanswerable questions well: an unanswerable
question about a city the corpus covers ("嘉峪关有多少人口") finds sentences as similar as an
answerable one does. What differs is the *support*: how much of what the question asks (its
IDF-weighted keywords, and the focus words next to its question word) the chosen passage
contains, combined with the answer score and the margin over the next candidate.

The model is fitted by `ragqa eval tune` with the ranking and answer weights, on folds that
hold out whole articles, its threshold the one that keeps the training folds' answerable
questions answered `null` under a ceiling (`eval.tune.DEFAULT_MAX_NULL`); it ships in
`index/params.json`. `abstention.json` beside this module is the model of the code before
that (fitted on the seed questions, its threshold set on the dev set's three unanswerable
questions): kept only as the engine's documented defaults and as the "today" column of
`ragqa eval tune` and `ragqa eval run --held-out`.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

DEFAULT_PATH = Path(__file__).with_name("abstention.json")
FEATURES: tuple[str, ...] = (
    "score",
    "similarity",
    "support",
    "focus_support",
    "margin",
    "lexical_share",
    "english",
    "has_focus",
    "answer_type",
    "name_support",
    "has_names",
)
"""Every input an abstention model may use; a model records the ones it was fitted on."""


@dataclass(frozen=True)
class Evidence:
    """What the answer step knows about its best candidate (the model's inputs)."""

    score: float
    similarity: float
    support: float
    """IDF-weighted share of the question's keywords in the best sentence's passage."""
    focus_support: float
    """The same for the words next to the question word."""
    margin: float
    """Best sentence score minus the runner-up's."""
    lexical_share: float
    english: float
    has_focus: float
    answer_type: float = 1.0
    """1 when the best sentence holds the kind of thing asked for (a number for 多少, a date
    for 哪一年: `index.answer.answer_type_match`). Added 2026-12-02: held out by article
    (`ragqa eval tune`), it took the seed unanswerable recall from 15% to 25% at the same 3%
    answerable-null budget."""
    name_support: float = 1.0
    """IDF-weighted share of the names an English question romanises (Jiayuguan → 嘉峪关,
    `index.crosslingual.PinyinBridge`) in the best sentence's title and passage: an answer
    about another city is not an answer. 1 when the question names nothing."""
    has_names: float = 0.0
    """1 when the question romanises a name of the corpus."""

    def vector(self, names: tuple[str, ...] = FEATURES) -> list[float]:
        return [float(getattr(self, name)) for name in names]


@dataclass(frozen=True)
class AbstentionModel:
    """Standardised logistic regression: P(answerable | evidence)."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    """Abstain when the probability is below this."""
    notes: str = ""
    features: tuple[str, ...] = FEATURES
    """The `Evidence` fields the model reads, in the order of its weights (a model fitted
    before an input existed keeps reading the ones it was fitted on)."""

    def probability(self, evidence: Evidence) -> float:
        z = self.bias
        for x, m, s, w in zip(
            evidence.vector(self.features), self.mean, self.scale, self.weights, strict=True
        ):
            z += w * (x - m) / s
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def abstains(self, evidence: Evidence) -> bool:
        return self.probability(evidence) < self.threshold

    def save(self, path: Path = DEFAULT_PATH) -> None:
        data = {**asdict(self), "features": list(self.features)}
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> AbstentionModel:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")), str(path))

    @classmethod
    def from_json(cls, data: dict[str, Any], where: str = "abstention model") -> AbstentionModel:
        """The model from its JSON fields; ValueError when it reads an unknown input or its
        weights do not match its inputs."""
        names = tuple(data.get("features", FEATURES))
        unknown = [n for n in names if n not in FEATURES]
        if unknown:
            raise ValueError(
                f"{where} reads unknown input(s) {', '.join(unknown)}; run `ragqa eval tune`"
            )
        if not len(names) == len(data["mean"]) == len(data["scale"]) == len(data["weights"]):
            raise ValueError(f"{where}: {len(names)} features but other lengths of weights")
        return cls(
            mean=tuple(data["mean"]),
            scale=tuple(data["scale"]),
            weights=tuple(data["weights"]),
            bias=float(data["bias"]),
            threshold=float(data["threshold"]),
            notes=str(data.get("notes", "")),
            features=names,
        )


@lru_cache(maxsize=1)
def default_model() -> AbstentionModel | None:
    """The shipped model, or None (never abstain) when the file is absent."""
    return AbstentionModel.load() if DEFAULT_PATH.exists() else None


def fit(
    vectors: list[list[float]], answerable: list[bool], *, l2: float = 1.0, steps: int = 4000
) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...], float]:
    """Class-balanced, L2-regularised logistic regression by gradient descent (numpy)."""
    import numpy as np

    x = np.asarray(vectors, dtype=np.float64)
    y = np.asarray(answerable, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    w = np.zeros(z.shape[1])
    b = 0.0
    positive = max(y.mean(), 1e-6)
    class_weight = np.where(y == 1, 0.5 / positive, 0.5 / max(1 - positive, 1e-6))
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ w + b)))
        g = (p - y) * class_weight
        w -= 0.1 * (z.T @ g / len(y) + l2 * w / len(y))
        b -= 0.1 * float(g.mean())
    return tuple(mean.tolist()), tuple(scale.tolist()), tuple(w.tolist()), b
