"""The work of `ragqa eval run`: the answerers of its variants, the runs, their tables.

`_make_answerers` prepares an answerer per variant (in-process, the baseline, other chunk sizes
or models, or a deployed service), `_held_out_variants` the ``today`` and ``held-out`` pair of
``--held-out``; `_run_sets` answers each question set with every variant (`_evaluate`), writes
its run directory and prints its tables (`_print_run`). Failures are one red line and a
non-zero exit (`corpus.console.fail`), as in the commands (`eval.cli`).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from corpus.console import err, fail
from eval.dataset import Question
from eval.opening import _index_errors

if TYPE_CHECKING:
    from eval.evalrun import EvalRun
    from eval.runner import Answerer
    from eval.variants import VariantSpec
    from index.engine import Engine


def _held_out_variants(
    engine: Engine, corpus: str, path: Path, questions: list[Question]
) -> tuple[list[VariantSpec], list[Answerer]]:
    """``today`` (documented defaults, today's abstention model) and ``held-out`` (each
    question answered with the parameters fitted without its article)."""
    from eval.heldout import HeldOutAnswerer, HeldOutError
    from eval.runner import EngineAnswerer
    from eval.sets import SETS, unit_of
    from eval.variants import MAIN, VariantSpec
    from index.engine import Engine
    from index.rank.abstain import default_model
    from index.rank.params import AnswerParams, RankingParams

    topics = next((s.topics() for s in SETS.values() if s.path == path), {})
    units = {q.id: unit_of(q, corpus, topics) for q in questions}  # type: ignore[arg-type]
    today = Engine(
        engine.data,
        engine.embedder,
        engine.config,
        default_model(),
        ranking=RankingParams(),
        answering=AnswerParams(),
        view=engine.index,
        glossary=engine.glossary,
    )
    try:
        held = HeldOutAnswerer(engine, questions, units)
    except HeldOutError as exc:
        fail(str(exc))
    specs = [
        VariantSpec("today", "engine", retriever=MAIN),
        VariantSpec("held-out", "engine", retriever=MAIN),
    ]
    return specs, [EngineAnswerer(today), held]


def _run_sets(
    sets: list[tuple[Path, list[Question]]],
    specs: list[VariantSpec],
    answerers: list[Answerer],
    engine: Engine | None,
    index_dir: Path,
    commit: str | None,
    out: Path,
    quiet: bool,
    as_json: bool,
) -> None:
    from eval.report import write_run

    for path, qs in sets:
        evaluated = _evaluate(
            path, qs, specs, answerers, engine, index_dir, commit=commit, quiet=quiet or as_json
        )
        run_dir = write_run(evaluated, out)
        _print_run(evaluated, run_dir, as_json)


def _make_answerers(
    specs: list[VariantSpec], engine: Engine | None, corpus: Path | None, cache: Path
) -> list[Answerer]:
    from eval.runner import HttpAnswerer, ServiceUnreachableError
    from eval.variants import make_answerer

    if corpus is None:
        from corpus import DEFAULT_CORPUS_DIR

        corpus = DEFAULT_CORPUS_DIR
    expected: tuple[type[BaseException], ...] = (
        *_index_errors(),
        ServiceUnreachableError,
        ValueError,
    )
    answerers: list[Answerer] = []
    for spec in specs:
        if spec.kind != "http" and (spec.chunk_size or spec.model or spec.kind == "baseline"):
            err.print(f"preparing {spec.name} …")
        try:
            answerer = make_answerer(spec, engine, corpus_dir=corpus, cache_dir=cache)
            if isinstance(answerer, HttpAnswerer):
                answerer.check_ready()
        except expected as exc:
            fail(f"{spec.name}: {exc}")
        answerers.append(answerer)
    return answerers


def _evaluate(
    path: Path,
    questions: list[Question],
    specs: list[VariantSpec],
    answerers: list[Answerer],
    engine: Engine | None,
    index_dir: Path,
    *,
    commit: str | None,
    quiet: bool,
) -> EvalRun:
    from tqdm import tqdm

    from eval.evalrun import EvalRun, VariantRun, index_info
    from eval.runner import TOP_K, ServiceUnreachableError, ask_one
    from eval.variants import main_variant

    variants = []
    for spec, answerer in zip(specs, answerers, strict=True):
        bar = tqdm(
            total=len(questions),
            desc=f"{path.name} · {spec.name}",
            disable=quiet,
            file=None if quiet else err.file,
            leave=False,
        )
        try:
            answerer.ask(questions[0].question, TOP_K)  # warm-up: lazy loads are not latency
            results = []
            for question in questions:
                results.append(ask_one(answerer, question, TOP_K))
                bar.update()
        except ServiceUnreachableError as exc:
            fail(str(exc))
        finally:
            bar.close()
        variants.append(VariantRun(spec, answerer.gives_answers, tuple(results)))
    return EvalRun(
        question_set=path.name,
        questions=tuple(questions),
        variants=tuple(variants),
        main_variant=main_variant(specs),
        index=index_info(index_dir, engine.manifest) if engine is not None else None,
        commit=commit,
    )


def _print_run(evaluated: EvalRun, run_dir: Path, as_json: bool) -> None:
    from eval.tables import plain, run_tables

    if as_json:
        summaries = {v.name: asdict(v.summary()["all"]) for v in evaluated.variants}
        doc = {
            "question_set": evaluated.question_set,
            "run_dir": str(run_dir),
            "summary": summaries,
        }
        typer.echo(json.dumps(doc, ensure_ascii=False))
        return
    for table in run_tables(evaluated):
        typer.echo(plain(table) + "\n")
    typer.echo(f"run directory: {run_dir}\n")
