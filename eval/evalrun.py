"""An evaluation run as data: every variant's per-question results on one question set, and
what identifies the index it measured (`eval.report` writes and reads its run directory)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval.dataset import Question
from eval.metrics import MetricSummary, QuestionResult, summarize
from eval.variants import VariantSpec


@dataclass(frozen=True)
class IndexInfo:
    """What identifies the index a run measured (from its manifest)."""

    path: str
    model: str
    config_id: str
    chunk_size: int | None
    chunk_overlap: int | None
    built_at: str | None


@dataclass(frozen=True)
class VariantRun:
    """One variant's per-question results on the run's question set."""

    spec: VariantSpec
    gives_answers: bool
    results: tuple[QuestionResult, ...]

    @property
    def name(self) -> str:
        return self.spec.name

    def summary(self) -> dict[str, MetricSummary]:
        """Overall and per-tag metrics (answer metrics None for a retrieval-only variant)."""
        return summarize(self.results, by_tag=True, answers=self.gives_answers)


@dataclass(frozen=True)
class EvalRun:
    """Every variant of one run on one question set, with what is needed to reproduce it."""

    question_set: str
    """The question file's name, e.g. ``questions.jsonl``."""
    questions: tuple[Question, ...]
    variants: tuple[VariantRun, ...]
    main_variant: str
    index: IndexInfo | None
    """None when only a remote service was evaluated."""
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    commit: str | None = None
    top_k: int = 10

    def variant(self, name: str) -> VariantRun:
        """The variant called `name`; KeyError naming the ones there are."""
        for v in self.variants:
            if v.name == name:
                return v
        raise KeyError(f"no variant {name!r} in this run (it has: {', '.join(self.names)})")

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variants]

    @property
    def date(self) -> str:
        return self.started_at.strftime("%Y-%m-%d %H:%M UTC")


def index_info(index_dir: Path, manifest: Any) -> IndexInfo:
    """`IndexInfo` from an `IndexManifest` (typed loosely so eval need not import index)."""
    chunking = manifest.chunking
    return IndexInfo(
        path=str(index_dir.resolve()),
        model=manifest.model,
        config_id=manifest.config_id,
        chunk_size=chunking.get("size"),
        chunk_overlap=chunking.get("overlap"),
        built_at=manifest.built_at,
    )
