"""The comparison tables of a run, as rows of strings: printed by the CLI, written as Markdown.

One table compares the variants overall; two per-tag tables keep the breakdown readable:
hit@5 per tag × variant, and answer accuracy per tag × the variants that answer.
Rates are shown in percent, MRR and nDCG as 0–1, "n/a" where a metric is undefined.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from eval.evalrun import EvalRun
from eval.metrics import MetricSummary


@dataclass(frozen=True)
class Table:
    """A titled table of pre-formatted cells."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}"


def ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def number(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def variant_rows(
    name: str, summaries: Sequence[tuple[str, MetricSummary]], base: str, other: str
) -> list[str]:
    """Markdown rows of one question set: hit@1, hit@5, MRR@10 and answer accuracy per
    variant, then `other` minus `base` in points (the scripts that compare two variants)."""
    rows = []
    for variant, s in summaries:
        rows.append(
            f"| {name} | {s.n_questions} | {variant} | {pct(s.hit_at_1)} | {pct(s.hit_at_5)} "
            f"| {ratio(s.mrr_at_10)} | {pct(s.answer_accuracy)} |"
        )
    by_name = dict(summaries)
    if base in by_name and other in by_name:
        a, b = by_name[base], by_name[other]
        deltas = []
        for field in ("hit_at_1", "hit_at_5", "mrr_at_10", "answer_accuracy"):
            x, y = getattr(a, field), getattr(b, field)
            deltas.append("n/a" if x is None or y is None else f"{100 * (y - x):+.1f}")
        rows.append(f"| {name} | | {other} - {base} (points) | {' | '.join(deltas)} |")
    return rows


COLUMNS: tuple[tuple[str, Callable[[MetricSummary], str]], ...] = (
    ("n", lambda s: str(s.n_questions)),
    ("hit@1 %", lambda s: pct(s.hit_at_1)),
    ("hit@3 %", lambda s: pct(s.hit_at_3)),
    ("hit@5 %", lambda s: pct(s.hit_at_5)),
    ("hit@10 %", lambda s: pct(s.hit_at_10)),
    ("MRR@10", lambda s: ratio(s.mrr_at_10)),
    ("nDCG@10", lambda s: ratio(s.ndcg_at_10)),
    ("answer acc %", lambda s: pct(s.answer_accuracy)),
    ("abstain P %", lambda s: pct(s.abstention_precision)),
    ("abstain R %", lambda s: pct(s.abstention_recall)),
    ("passage chars", lambda s: number(s.mean_passage_chars)),
    ("p50 ms", lambda s: number(s.latency_p50_ms, 1)),
    ("p95 ms", lambda s: number(s.latency_p95_ms, 1)),
)


def comparison_table(run: EvalRun) -> Table:
    """One row per variant, every metric over the whole question set."""
    rows = []
    for variant in run.variants:
        summary = variant.summary()["all"]
        cells = [variant.name, *(fmt(summary) for _, fmt in COLUMNS)]
        if summary.n_errors:
            cells[0] += f" ({summary.n_errors} errors)"
        rows.append(tuple(cells))
    title = f"{run.question_set}: {len(run.questions)} questions, top {run.top_k} passages"
    return Table(title, ("variant", *(h for h, _ in COLUMNS)), tuple(rows))


def tag_table(run: EvalRun, metric: str, *, answering_only: bool = False) -> Table:
    """Per tag (rows) × variant (columns) for one metric field of `MetricSummary` (percent).

    Both metrics are over answerable questions, so ``answerable`` counts them and tags with
    none (``unanswerable``) are left out: their row would be all "n/a".
    """
    variants = [v for v in run.variants if v.gives_answers or not answering_only]
    summaries = [v.summary() for v in variants]
    tags = sorted({t for s in summaries for t in s if t != "all"})
    rows = []
    for tag in ["all", *tags]:
        n = max((s[tag].n_answerable for s in summaries if tag in s), default=0)
        if n == 0:
            continue
        values = [pct(getattr(s[tag], metric)) if tag in s else "n/a" for s in summaries]
        rows.append((tag, str(n), *values))
    label = metric.replace("_at_", "@").replace("_", " ")
    headers = ("tag", "answerable", *(v.name for v in variants))
    return Table(f"{label} per tag (%)", headers, tuple(rows))


def run_tables(run: EvalRun) -> list[Table]:
    """The overall comparison, then hit@5 and answer accuracy per tag."""
    tables = [comparison_table(run), tag_table(run, "hit_at_5")]
    if any(v.gives_answers for v in run.variants):
        tables.append(tag_table(run, "answer_accuracy", answering_only=True))
    return tables


def markdown(table: Table) -> str:
    """A GitHub-flavoured Markdown table (``|`` in cells escaped), numbers right-aligned."""

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    align = [":---", *("---:" for _ in table.headers[1:])]
    return "\n".join([line(table.headers), line(align), *(line(r) for r in table.rows)])


def plain(table: Table) -> str:
    """Fixed-width text for terminals without rich (names left, numbers right)."""
    widths = [
        max(len(r[i]) for r in (table.headers, *table.rows)) for i in range(len(table.headers))
    ]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([table.title, line(table.headers), *(line(r) for r in table.rows)])


def summary_markdown(run: EvalRun) -> str:
    """`summary.md`: what was measured (date, set, commit, index) and every table."""
    lines = [
        f"# Evaluation: {run.question_set}",
        "",
        f"- date: {run.date}",
        f"- question set: `{run.question_set}` ({len(run.questions)} questions)",
        f"- commit: `{run.commit or 'unknown'}`",
    ]
    if run.index is not None:
        i = run.index
        lines.append(
            f"- index: `{i.path}`, model `{i.model}`, config id `{i.config_id}`, "
            f"chunks {i.chunk_size}/{i.chunk_overlap} (size/overlap), built {i.built_at}"
        )
    lines += [
        f"- main variant: `{run.main_variant}`; metrics over the top {run.top_k} passages",
        "- hit@k, MRR, nDCG and answer accuracy are over answerable questions; "
        "the baseline extracts no answers (n/a)",
        "",
    ]
    for table in run_tables(run):
        lines += [f"## {table.title}", "", markdown(table), ""]
    return "\n".join(lines)
