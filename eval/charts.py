"""Charts of a run (matplotlib, Agg backend): hit@k curves per variant, answer quality per tag.

Sized for a README (8 × 5 in at 120 dpi), axes labelled with units, the question set and the
date in the title.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display

import matplotlib.pyplot as plt

from eval.evalrun import EvalRun
from eval.metrics import HIT_KS

SIZE_IN = (8.0, 5.0)
DPI = 120


def plot_hitk(run: EvalRun, path: Path) -> None:
    """hit@k (percent of answerable questions) at k = 1, 3, 5, 10, one line per variant."""
    fig, ax = plt.subplots(figsize=SIZE_IN, dpi=DPI)
    lowest = 100.0
    for variant in run.variants:
        summary = variant.summary()["all"]
        values = [getattr(summary, f"hit_at_{k}") for k in HIT_KS]
        if any(v is None for v in values):
            continue
        main = variant.name == run.main_variant
        lowest = min(lowest, 100 * min(values))
        ax.plot(
            HIT_KS,
            [100 * v for v in values],
            marker="o",
            linewidth=2.8 if main else 1.6,
            linestyle="--" if variant.spec.kind == "baseline" else "-",
            label=variant.name,
            zorder=3 if main else 2,
        )
    n = run.variant(run.main_variant).summary()["all"].n_answerable
    ax.set_xticks(HIT_KS)
    ax.set_xlabel("k (passages retrieved)")
    # Good retrievers crowd the top: start the axis at the 10 below the lowest point, and say so.
    bottom = max(0, int((lowest - 5) // 10) * 10)
    ax.set_ylim(bottom, 100.5)
    axis_note = f", axis from {bottom}%" if bottom else ""
    ax.set_ylabel(f"hit@k (% of {n} answerable questions{axis_note})")
    ax.grid(True, alpha=0.3)
    ax.set_title(f"hit@k on {run.question_set} ({len(run.questions)} questions), {run.date}")
    ax.legend(loc="best", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_tags(run: EvalRun, path: Path) -> None:
    """Per tag: hit@5 and answer accuracy (percent) of the main variant, as horizontal bars."""
    summaries = run.variant(run.main_variant).summary()
    # Both bars are over answerable questions; a tag without any would show as zero.
    tags = ["all", *sorted(t for t in summaries if t != "all" and summaries[t].n_answerable)]
    fig, ax = plt.subplots(figsize=(SIZE_IN[0], max(SIZE_IN[1], 0.32 * len(tags) + 1.5)), dpi=DPI)
    height = 0.4
    ys = range(len(tags))
    hit5 = [100 * (summaries[t].hit_at_5 or 0.0) for t in tags]
    acc = [100 * (summaries[t].answer_accuracy or 0.0) for t in tags]
    ax.barh([y - height / 2 for y in ys], hit5, height, label="hit@5")
    ax.barh([y + height / 2 for y in ys], acc, height, label="answer accuracy")
    ax.set_yticks(list(ys), [f"{t} (n={summaries[t].n_answerable})" for t in tags])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of answerable questions")
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_title(f"{run.main_variant} per tag on {run.question_set}, {run.date}")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=9, frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
