"""`ragqa eval ...` (also `python -m eval ...`): run, diff and gate evaluations, fit parameters.

`run` compares retrievers, the tutorial baseline, chunk sizes and models on one or more
question sets, in-process or against a deployed service (`--url`), prints the tables and
writes a run directory per set. `diff` lists the questions that moved between two runs.
`gate` checks the main retriever against `eval/thresholds.json`. `tune` fits the ranking,
answer and abstention parameters. What the commands open is `eval.opening`; the work of `run`
(its answerers and runs) is `eval.running`. `app` is the `eval` group of the project CLI
(`ragqa.cli`), which adds `ragqa eval bench` (the speed benchmarks, `benchmarks/`). Heavy
imports happen inside the commands; bad input is one red line and a non-zero exit (2 for usage,
1 for everything else), never a traceback.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path
from typing import Annotated

import typer

from corpus import paths
from corpus.console import err, fail
from eval.opening import _cmrc_engine, _load_engine, _load_named, _load_sets
from eval.running import _held_out_variants, _make_answerers, _run_sets
from eval.sets import named_set
from eval.tune import DEFAULT_MAX_NULL

REPO = paths.REPO_DIR
BUNDLED_SETS = (paths.EVAL_DIR / "dev_questions.jsonl", paths.EVAL_DIR / "questions.jsonl")
DEFAULT_INDEX = paths.INDEX_DIR
DEFAULT_OUT = paths.EVAL_RUNS_DIR
DEFAULT_CACHE = paths.EVAL_CACHE_DIR

app = typer.Typer(help="Offline evaluation runs.", no_args_is_help=True)


@app.callback()
def _runtime() -> None:
    """Read the model cache and hub settings from the environment (`python -m eval`)."""
    from index.settings import Runtime

    Runtime().apply()


IndexOpt = Annotated[
    Path,
    typer.Option("--index", envvar="RAGQA_INDEX_DIR", help="index directory [env RAGQA_INDEX_DIR]"),
]


@app.command("run")
def run(
    questions: Annotated[
        list[Path] | None,
        typer.Option("--questions", "-q", help="question set (JSONL); repeat for several"),
    ] = None,
    set_names: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="named set: dev, own (seed index), cmrc, cmrc-en, cmrc-unanswerable (CMRC "
            "index, built under --cache); repeat for several",
        ),
    ] = None,
    index: IndexOpt = DEFAULT_INDEX,
    corpus: Annotated[
        Path | None,
        typer.Option(envvar="RAGQA_CORPUS_DIR", help="corpus for baseline and chunk variants"),
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="evaluate a running service (POST URL/v1/ask) instead")
    ] = None,
    retriever: Annotated[
        str | None, typer.Option(help="comma-separated: bm25,dense,hybrid,hybrid+rerank")
    ] = None,
    fusion: Annotated[
        str | None, typer.Option(help="for hybrid retrievers, comma-separated: weighted,rrf")
    ] = None,
    baseline: Annotated[
        bool | None, typer.Option("--baseline/--no-baseline", help="tutorial baseline [on]")
    ] = None,
    chunk_sizes: Annotated[
        str | None, typer.Option(help="also index with these chunk sizes, e.g. 200,300,500")
    ] = None,
    model: Annotated[
        list[str] | None, typer.Option("--model", help="also evaluate an index of this model")
    ] = None,
    out: Annotated[Path, typer.Option(help="where run directories go")] = DEFAULT_OUT,
    cache: Annotated[Path, typer.Option(help="cache for variant indexes")] = DEFAULT_CACHE,
    as_json: Annotated[bool, typer.Option("--json", help="print summaries as JSON")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bars")] = False,
    held_out: Annotated[
        bool,
        typer.Option(
            "--held-out",
            help="compare today's parameters with each question answered by the parameters "
            "fitted without its article (index/rank/params.json from `ragqa eval tune`)",
        ),
    ] = False,
    defaults: Annotated[
        bool,
        typer.Option(
            "--defaults",
            help="run on the documented defaults instead of index/rank/params.json: the fit saw "
            "the cmrc and own sets, the defaults did not see cmrc",
        ),
    ] = False,
) -> None:
    """Compare retrievers (and the baseline, chunk sizes, models) on question sets."""
    from eval.variants import ALL_FUSIONS, ALL_RETRIEVERS, VariantSpec, parse_list, parse_sizes

    try:
        retrievers = parse_list(retriever, ALL_RETRIEVERS, "retriever") or list(ALL_RETRIEVERS)
        fusions = parse_list(fusion, ALL_FUSIONS, "fusion")
        sizes = parse_sizes(chunk_sizes)
    except ValueError as exc:
        fail(str(exc), code=2)
    if held_out and defaults:
        fail("--held-out already runs the defaults beside the fit: drop --defaults", code=2)
    if url is not None and (retriever or fusion or baseline or sizes or model or defaults):
        fail(
            "--url evaluates the service as deployed; --retriever, --fusion, --baseline, "
            "--chunk-sizes, --model and --defaults need a local index (drop --url)",
            code=2,
        )
    try:
        named = [named_set(n) for n in set_names or []]
    except ValueError as exc:
        fail(str(exc), code=2)
    seed_paths = list(questions or []) + [s.path for s in named if s.corpus == "seed"]
    if not seed_paths and not named:
        seed_paths = list(BUNDLED_SETS)
    seed_sets = _load_sets(seed_paths)
    cmrc_sets = [(s.path, _load_named(s)) for s in named if s.corpus == "cmrc"]
    from eval.report import git_commit

    commit = git_commit(REPO)  # now, before the code is imported: what the run measures
    if url is not None:
        specs = [VariantSpec("service", "http", url=url)]
        answerers = _make_answerers(specs, None, corpus, cache)
        _run_sets(seed_sets + cmrc_sets, specs, answerers, None, index, commit, out, quiet, as_json)
        return
    from eval.variants import plan_variants

    embedder = None
    for group, index_dir, corpus_dir in (("seed", index, corpus), ("cmrc", None, None)):
        sets = seed_sets if group == "seed" else cmrc_sets
        if not sets:
            continue
        if index_dir is None:
            corpus_dir, index_dir, engine = _cmrc_engine(
                cache, embedder, quiet or as_json, defaults
            )
        else:
            engine = _load_engine(index_dir, defaults)
        embedder = engine.embedder
        specs = plan_variants(
            retrievers,
            fusions=fusions,
            baseline=baseline is not False,
            chunk_sizes=sizes,
            index_chunk_size=int(engine.manifest.chunking.get("size", 300)),
            models=model or [],
        )
        if held_out:
            for path, qs in sets:
                specs, answerers = _held_out_variants(engine, group, path, qs)
                _run_sets(
                    [(path, qs)], specs, answerers, engine, index_dir, commit, out, quiet, as_json
                )
            continue
        answerers = _make_answerers(specs, engine, corpus_dir, cache)
        _run_sets(sets, specs, answerers, engine, index_dir, commit, out, quiet, as_json)


@app.command("diff")
def diff(
    run_a: Annotated[Path, typer.Argument(help="the earlier run directory")],
    run_b: Annotated[Path, typer.Argument(help="the later run directory")],
    variant: Annotated[
        str | None, typer.Option(help="variant to compare [the runs' main variant]")
    ] = None,
) -> None:
    """List the questions that got better or worse from RUN_A to RUN_B."""
    from eval.metrics import diff_results
    from eval.report import RunDirError, load_run

    try:
        a, b = load_run(run_a), load_run(run_b)
    except RunDirError as exc:
        fail(str(exc))
    name = variant or a.main_variant
    try:
        va, vb = a.variant(name), b.variant(name)
    except KeyError as exc:
        fail(str(exc.args[0]))
    if a.question_set != b.question_set:
        err.print(f"note: comparing {a.question_set} with {b.question_set}")
    changes = diff_results(va.results, vb.results)
    text = {q.id: q.question for q in (*a.questions, *b.questions)}
    sa, sb = va.summary()["all"], vb.summary()["all"]
    typer.echo(f"{name}: {a.question_set}, {a.date} ({a.commit}) -> {b.date} ({b.commit})")
    for label, before, after in (
        ("hit@5", sa.hit_at_5, sb.hit_at_5),
        ("MRR@10", sa.mrr_at_10, sb.mrr_at_10),
        ("answer accuracy", sa.answer_accuracy, sb.answer_accuracy),
    ):
        typer.echo(f"  {label:16s} {_fmt(before)} -> {_fmt(after)}")
    for kind in ("worse", "mixed", "better"):
        group = [c for c in changes if c.change == kind]
        typer.echo(f"\n{kind} ({len(group)})")
        for c in group:
            typer.echo(
                f"  {c.question_id:8s} rank {_rank(c.rank_before)} -> {_rank(c.rank_after)}, "
                f"answer {_ok(c.correct_before)} -> {_ok(c.correct_after)}  "
                f"[{','.join(c.tags)}] {text.get(c.question_id, '')}"
            )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _rank(rank: int | None) -> str:
    return "miss" if rank is None or rank > 10 else str(rank)


def _ok(correct: bool) -> str:
    return "ok" if correct else "wrong"


@app.command("gate")
def gate(
    index: IndexOpt = DEFAULT_INDEX,
    update: Annotated[
        bool, typer.Option("--update", help="rewrite eval/thresholds.json from this run")
    ] = False,
) -> None:
    """Check the main retriever on the bundled question sets against eval/thresholds.json,
    each question answered with the parameters fitted without its article (held out)."""
    from datetime import UTC, datetime

    from eval import gate as g
    from eval.evalrun import index_info
    from eval.heldout import HeldOutError
    from eval.report import git_commit
    from eval.runner import run_questions
    from eval.variants import MAIN

    commit = git_commit(REPO)
    engine = _load_engine(index)
    main = engine.with_config(replace(engine.config, retriever=MAIN))
    measured = {}
    for path, qs in _load_sets(list(BUNDLED_SETS)):
        try:
            answerer = g.held_out_answerer(main, qs)
        except HeldOutError as exc:
            fail(f"the gate reports held-out figures only: {exc}")
        measured[path.name] = (qs, run_questions(answerer, qs))
    if update:
        before = g.load_thresholds() if g.THRESHOLDS_FILE.is_file() else {}
        sets = {
            name: g.never_looser(g.derive_thresholds(results), before.get(name))
            for name, (_, results) in measured.items()
        }
        info = asdict(index_info(index, engine.manifest))
        doc = g.thresholds_json(
            sets,
            variant=MAIN,
            date=datetime.now(UTC).strftime("%Y-%m-%d"),
            commit=commit,
            index={k: info[k] for k in ("model", "config_id", "chunk_size", "chunk_overlap")},
        )
        g.THRESHOLDS_FILE.write_text(g.render_thresholds(doc), encoding="utf-8")
        typer.echo(f"wrote {g.THRESHOLDS_FILE}")
    thresholds = g.load_thresholds()
    passed = True
    for name, (qs, results) in measured.items():
        if name not in thresholds:
            fail(f"{g.THRESHOLDS_FILE} has no entry for {name}: run `ragqa eval gate --update`")
        result = g.check_gate(name, results, qs, thresholds[name])
        typer.echo(result.render())
        passed = passed and result.passed
    raise typer.Exit(0 if passed else 1)


@app.command("tune")
def tune(
    set_names: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="named sets to fit on [cmrc, cmrc-en, cmrc-unanswerable, own, dev]"
        ),
    ] = None,
    index: IndexOpt = DEFAULT_INDEX,
    cache: Annotated[
        Path, typer.Option(help="cache for the CMRC index and query vectors")
    ] = DEFAULT_CACHE,
    folds: Annotated[int, typer.Option(min=2, max=20, help="article-held-out folds")] = 5,
    max_null: Annotated[
        float, typer.Option(min=0.0, max=0.5, help="ceiling on answerable questions answered null")
    ] = DEFAULT_MAX_NULL,
    out: Annotated[
        Path | None, typer.Option(help="where to write the parameters [var/tuned/params.json]")
    ] = None,
    install: Annotated[
        bool,
        typer.Option(
            "--install", help="write the file the engine reads (index/rank/params.json) instead"
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="print the held-out figures only")
    ] = False,
) -> None:
    """Fit ranking weights, answer weights and the abstention model on named sets, print the
    article-held-out figures (today's parameters next to the fitted ones), write params.json
    (to var/tuned/ unless --install or --out says otherwise)."""
    from eval import tune as t
    from eval import tune_report as r
    from eval.report import git_commit

    if install and out is not None:
        fail("--install and --out name two places for one file: give one of them", code=2)
    try:
        named = [named_set(n) for n in set_names or t.DEFAULT_SETS]
    except ValueError as exc:
        fail(str(exc), code=2)
    commit = git_commit(REPO)
    loaded = {s.name: _load_named(s) for s in named}
    # on the defaults: a params.json fitted for another index must not stop its re-fit
    seed_engine = _load_engine(index, True) if any(s.corpus == "seed" for s in named) else None
    cmrc_engine = None
    if any(s.corpus == "cmrc" for s in named):
        _, _, cmrc_engine = _cmrc_engine(
            cache, seed_engine.embedder if seed_engine else None, False, True
        )
    engines = {"seed": seed_engine, "cmrc": cmrc_engine}
    reference = seed_engine or cmrc_engine
    assert reference is not None
    from index.rank.fitted import CHECKED

    wanted = {k: r.fitted_for(reference)[k] for k in CHECKED}
    for engine in engines.values():
        if engine is not None and {k: r.fitted_for(engine)[k] for k in CHECKED} != wanted:
            fail(
                "the seed and CMRC indexes were built with different models or chunking: "
                "rebuild one of them"
            )
    units = {s.name: t.units_of(s, loaded[s.name]) for s in named}
    fold_of = t.assign_folds([u for m in units.values() for u in m.values()], folds)
    vectors = t.VectorCache(cache / f"query-vectors-{r.cache_slug(reference)}.npz")
    items = []
    for s in named:
        engine = engines[s.corpus]
        assert engine is not None
        err.print(f"reading {s.name} ({len(loaded[s.name])} questions) …")
        items += t.collect(engine, s, loaded[s.name], vectors, fold_of, units[s.name])
    vectors.save()
    base = t.today(reference)
    today, tuned, fits = t.held_out(items, base, folds, max_null, err.print)
    typer.echo(r.render_table(today, tuned))
    if dry_run:
        return
    final = t.fit(items, base, max_null)
    counts = {n: len(q) for n, q in loaded.items()}
    doc = r.params_document(
        final, reference, named, counts, commit, folds, max_null, today, tuned, fits, fold_of
    )
    target = r.PARAMS_FILE if install else out or r.TUNED_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    r.write_params(doc, target)
    typer.echo(f"wrote {target}")
    if target != r.PARAMS_FILE:
        typer.echo(f"the engine reads {r.PARAMS_FILE}: re-run with --install to replace it")


@app.command("fit-reader")
def fit_reader(
    data: Annotated[
        Path, typer.Option("--data", help="the training data folder (shared/data)")
    ] = REPO.parent / "shared" / "data",
    cache: Annotated[Path, typer.Option(help="cache for the fit set's index")] = DEFAULT_CACHE,
    candidates: Annotated[
        int, typer.Option(min=1, max=16, help="sentences the reader reads per question")
    ] = 4,
    max_null: Annotated[
        float, typer.Option(min=0.0, max=0.5, help="ceiling on answerable questions answered null")
    ] = DEFAULT_MAX_NULL,
    alone: Annotated[
        bool,
        typer.Option(
            "--alone",
            help="the reader's threshold alone decides null (no abstention model beside it)",
        ),
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print the figures only")] = False,
) -> None:
    """Fit stage 4's use of the shipped reader (the features' weight beside the reader's
    score, and the "no answer" threshold) on paragraphs the reader's training held out, and
    write index/reader/weights/stage.json."""
    import os
    import time

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from eval import reader_fit as rf
    from eval.report import git_commit
    from index.encode.embedder import DEFAULT_MODEL, load_embedder
    from index.encode.provision import default_model_dir
    from index.errors import ModelUnavailableError
    from index.reader.export import WEIGHTS
    from index.reader.runtime import ReaderParams, load_reader
    from index.reader.train import TrainConfig

    if not (data / "cmrc2018-train").is_dir():
        fail(f"{data} holds no cmrc2018-train/ (pass --data)", code=2)
    started = time.perf_counter()
    try:  # not the stage file this fit replaces (it may be for the delta before)
        reader = load_reader(default_model_dir().parent, params=ReaderParams())
    except ModelUnavailableError as exc:
        fail(str(exc))
    share = TrainConfig.held_out_share
    paragraphs, questions = rf.fit_set(data, reader.manifest.seed, share)
    err.print(f"fit set: {len(paragraphs)} paragraphs, {len(questions)} questions")
    rows = rf.shortlists(
        cache, load_embedder(DEFAULT_MODEL), reader, paragraphs, questions, candidates
    )
    params, tried = rf.fit(rows, candidates, max_null)
    params = replace(params, abstain_on_features=not alone)
    for weight, result in tried.items():
        label = weight if weight == "accept_first" else f"feature weight {weight}"
        typer.echo(f"{label}: {result}")
    typer.echo(f"chosen: {params}")
    if dry_run:
        return
    about = {
        "fitted_on": {
            "paragraphs": len(paragraphs),
            "answerable": tried[str(params.feature_weight)]["answerable"],
            "off_corpus": tried[str(params.feature_weight)]["off_corpus"],
            "what": "paragraphs of CMRC 2018 train and DRCD held out by the reader's training "
            f"run (seed {reader.manifest.seed}), none trained on",
        },
        "max_null": max_null,
        "command": f"ragqa eval fit-reader --candidates {candidates}"
        + (" --alone" if alone else ""),
        "commit": git_commit(REPO),
    }
    path = rf.write_stage(WEIGHTS, params, tried, about)
    typer.echo(f"wrote {path} in {time.perf_counter() - started:.0f} s")
