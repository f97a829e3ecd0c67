"""Benchmarks: they measure speed, size and the choice of a few numbers, and print them.

Apart from the library and from `eval/` (the evaluation harness users run), as tests are:
nothing imports them but the roof's `ragqa eval bench`. Each is run as a module:

    python -m benchmarks.benchmark       speed and size (`ragqa eval bench`)
    python -m benchmarks.bench_engine    build, query, load and scale against today's pipeline
                                         (`scripts/bench_engine`)
    python -m benchmarks.bench_scale     the pipeline on a corpus grown to N passages
    python -m benchmarks.bench_scale_milvus  N passages in PostgreSQL and a Milvus server,
                                         asked through two replicas
    python -m benchmarks.bench_bridge    what the word bridge costs an English question
    python -m benchmarks.bridge_choice   the word bridge's numbers, chosen on training folds
"""
