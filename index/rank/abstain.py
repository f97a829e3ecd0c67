"""Stage 5, abstention: deciding when the corpus does not say, by a small logistic model over
the answer evidence (`Evidence`, in `index.rank.types`).

No single score separates answerable from unanswerable questions well: an unanswerable
question about a city the corpus covers ("嘉峪关有多少人口") finds sentences as similar as an
answerable one does. What differs is the *support*: how much of what the question asks (its
IDF-weighted keywords, and the focus words next to its question word) the chosen passage
contains, combined with the answer score and the margin over the next candidate.

The model is fitted by `ragqa eval tune` with the ranking and answer weights, on folds that
hold out whole articles, its threshold the one that keeps the training folds' answerable
questions answered `null` under a ceiling (`eval.tune.DEFAULT_MAX_NULL`); it ships in
`index/rank/params.json`. `abstention.json` beside this module is the model of the code before
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

from index.rank.types import FEATURES, AnswerChoice, Evidence

DEFAULT_PATH = Path(__file__).with_name("abstention.json")


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


def abstain(choice: AnswerChoice | None, model: AbstentionModel | None) -> AnswerChoice | None:
    """Stage 5: the choice, unless the corpus does not answer (None): when the chooser has a
    threshold of its own (the reader) and the score is below it, or when the abstention model
    says so on the evidence."""
    if choice is None:
        return None
    if choice.threshold is not None and choice.score < choice.threshold:
        return None
    if model is not None and model.abstains(choice.evidence):
        return None
    return choice
