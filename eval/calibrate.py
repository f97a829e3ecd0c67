"""Fit the abstention model: when should the engine say "the corpus does not say"?

The logistic model (`index.abstain`) is fitted on the project's question set
(`eval/questions.jsonl`, which has unanswerable questions), and its threshold is set just
above the highest probability any of the dev set's unanswerable questions gets, so that every
one of them abstains; the rate at which answerable questions then abstain is printed, for the
dev set and for a 5-fold cross-validation on the training set. Writes `index/abstention.json`.

    ragqa eval calibrate [--index var/index] [--train eval/questions.jsonl] [--dev ...]
"""

from __future__ import annotations

import argparse
import statistics
from datetime import UTC, datetime
from pathlib import Path

from eval.dataset import Question, load_questions
from index.abstain import DEFAULT_PATH, AbstentionModel, Evidence, fit
from index.engine import Engine
from ragqa import paths

HERE = paths.EVAL_DIR
MARGIN = 0.005


def with_evidence(engine: Engine, questions: list[Question]) -> list[tuple[Question, Evidence]]:
    """Each question with the evidence of its best answer candidate (skipped when none)."""
    found = []
    for q in questions:
        best = engine.evidence(engine.retrieve(q.question, top_k=5))
        if best is not None:
            found.append((q, best[2]))
    return found


def fitted(vectors: list[list[float]], labels: list[bool], threshold: float) -> AbstentionModel:
    """A model fitted on `vectors` with the given threshold."""
    mean, scale, weights, bias = fit(vectors, labels)
    return AbstentionModel(mean, scale, weights, bias, threshold)


def cross_validated(vectors: list[list[float]], labels: list[bool], k: int = 5) -> list[float]:
    """Out-of-fold probabilities (fold i = every k-th question from i)."""
    probs = [0.0] * len(vectors)
    for fold in range(k):
        rows = [i for i in range(len(vectors)) if i % k != fold]
        model = fitted([vectors[i] for i in rows], [labels[i] for i in rows], 0.5)
        for i in range(fold, len(vectors), k):
            probs[i] = model.probability(Evidence(*vectors[i]))
    return probs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=paths.INDEX_DIR)
    parser.add_argument("--train", type=Path, default=HERE / "questions.jsonl")
    parser.add_argument("--dev", type=Path, default=HERE / "dev_questions.jsonl")
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH)
    args = parser.parse_args(argv)

    engine = Engine.load(args.index)
    train = with_evidence(engine, load_questions(args.train))
    dev = with_evidence(engine, load_questions(args.dev))
    vectors = [e.vector() for _, e in train]
    labels = [q.answerable for q, _ in train]
    model = fitted(vectors, labels, 0.5)
    dev_probs = [(q.answerable, model.probability(e)) for q, e in dev]
    unanswerable = [p for a, p in dev_probs if not a]
    threshold = (max(unanswerable) + MARGIN) if unanswerable else 0.5

    answerable_null = statistics.mean(p < threshold for a, p in dev_probs if a)
    cv = list(zip(cross_validated(vectors, labels), labels, strict=True))
    cv_answerable_null = statistics.mean(p < threshold for p, a in cv if a)
    cv_recall = statistics.mean(p < threshold for p, a in cv if not a)
    notes = (
        f"fitted {datetime.now(UTC).date()} on {args.train.name} ({len(train)} questions, "
        f"{labels.count(False)} unanswerable); threshold {threshold:.3f} = highest dev "
        f"unanswerable probability + {MARGIN}; dev: {len(unanswerable)}/{len(unanswerable)} "
        f"unanswerable abstain, answerable abstain {answerable_null:.1%}; 5-fold CV on the "
        f"training set at this threshold: unanswerable recall {cv_recall:.1%}, answerable "
        f"abstain {cv_answerable_null:.1%}"
    )
    AbstentionModel(model.mean, model.scale, model.weights, model.bias, threshold, notes).save(
        args.out
    )
    print(notes)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
