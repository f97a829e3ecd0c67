"""An evaluation run's directory: `results.json`, `summary.md`, charts.

A run directory ``var/eval-runs/<UTC timestamp>-<set>-<config>/`` holds everything needed to
read or diff the run later without the index: every per-question result of every variant, the
questions themselves, the variants' configuration, the index manifest's model and config id,
the commit, and the summary metrics.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from eval.dataset import Question
from eval.evalrun import EvalRun, IndexInfo, VariantRun
from eval.metrics import QuestionResult
from eval.variants import VariantSpec

FORMAT_VERSION = 1
RESULTS = "results.json"
SUMMARY = "summary.md"
HITK_CHART = "hitk.png"
TAGS_CHART = "tags.png"


class RunDirError(ValueError):
    """A path that is not a readable run directory; the message says which file is wrong."""


def git_commit(repo: Path) -> str | None:
    """`git rev-parse --short HEAD` in `repo`, with ``+dirty`` when tracked files changed."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "diff", "--quiet", "HEAD", "--"], cwd=repo, capture_output=True
        ).returncode
    except OSError:
        return None
    return head.stdout.strip() + ("+dirty" if dirty == 1 else "")


def run_dir_name(run: EvalRun) -> str:
    """``<UTC timestamp>-<set name>-<short config>``, safe as a directory name."""
    stamp = run.started_at.strftime("%Y%m%dT%H%M%SZ")
    stem = Path(run.question_set).stem
    if run.index is not None:
        config = f"{run.main_variant}-{len(run.variants)}v-{run.index.config_id[:8]}"
    else:
        config = f"{run.main_variant}-{len(run.variants)}v"
    return re.sub(r"[^A-Za-z0-9._=-]+", "-", f"{stamp}-{stem}-{config}")


def to_json(run: EvalRun) -> dict[str, Any]:
    """The `results.json` form of a run."""
    return {
        "format": FORMAT_VERSION,
        "question_set": run.question_set,
        "started_at": run.started_at.isoformat(timespec="seconds"),
        "commit": run.commit,
        "top_k": run.top_k,
        "index": asdict(run.index) if run.index is not None else None,
        "main_variant": run.main_variant,
        "questions": [asdict(q) for q in run.questions],
        "variants": [
            {
                "name": v.name,
                "config": asdict(v.spec),
                "gives_answers": v.gives_answers,
                "summary": {tag: asdict(s) for tag, s in v.summary().items()},
                "results": [asdict(r) for r in v.results],
            }
            for v in run.variants
        ],
    }


def from_json(data: dict[str, Any]) -> EvalRun:
    """Rebuild a run from its `results.json` form (summaries are recomputed, not trusted)."""
    if data.get("format") != FORMAT_VERSION:
        raise ValueError(f"format {data.get('format')!r}, expected {FORMAT_VERSION}")
    questions = tuple(
        Question(
            id=q["id"],
            question=q["question"],
            answers=tuple(q["answers"]),
            source=q["source"],
            tags=tuple(q["tags"]),
        )
        for q in data["questions"]
    )
    variants = tuple(
        VariantRun(
            spec=VariantSpec(**v["config"]),
            gives_answers=bool(v["gives_answers"]),
            results=tuple(QuestionResult.from_dict(r) for r in v["results"]),
        )
        for v in data["variants"]
    )
    return EvalRun(
        question_set=data["question_set"],
        questions=questions,
        variants=variants,
        main_variant=data["main_variant"],
        index=IndexInfo(**data["index"]) if data["index"] is not None else None,
        started_at=datetime.fromisoformat(data["started_at"]),
        commit=data["commit"],
        top_k=int(data["top_k"]),
    )


def write_run(run: EvalRun, out_root: Path) -> Path:
    """Write the run directory under `out_root` and return its path."""
    from eval.charts import plot_hitk, plot_tags
    from eval.tables import summary_markdown

    run_dir = out_root / run_dir_name(run)
    suffix = 1
    while run_dir.exists():  # two runs in the same second
        suffix += 1
        run_dir = out_root / f"{run_dir_name(run)}-{suffix}"
    run_dir.mkdir(parents=True)
    text = json.dumps(to_json(run), ensure_ascii=False, indent=1, allow_nan=False)
    (run_dir / RESULTS).write_text(text + "\n", encoding="utf-8")
    (run_dir / SUMMARY).write_text(summary_markdown(run), encoding="utf-8")
    plot_hitk(run, run_dir / HITK_CHART)
    plot_tags(run, run_dir / TAGS_CHART)
    return run_dir


def load_run(run_dir: Path) -> EvalRun:
    """Read a run directory (or its `results.json`); RunDirError saying what is wrong."""
    path = run_dir / RESULTS if run_dir.is_dir() else run_dir
    if not path.is_file():
        raise RunDirError(f"{run_dir}: not a run directory (no {RESULTS})")
    try:
        return from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunDirError(f"{path}: cannot read ({exc})") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise RunDirError(f"{path}: not a results file of this version ({exc})") from None
