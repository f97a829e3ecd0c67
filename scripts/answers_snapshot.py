"""Dump every answer of the dev, own and CMRC trial sets to JSON, to show behaviour unchanged.

    python scripts/answers_snapshot.py OUT.json [--cache DIR]

For each question: the answer (text, citation, score, passage rank) and the ranked passages
(doc, offsets, score, highlight) that `Engine.ask` returns, with the seed index and the CMRC
index built under `--cache` (outside the repository, so two checkouts can be compared by
running it in each and diffing the files; a refactoring must leave them byte-identical).
Timings (`took_ms`) are left out: they are the only part that is not deterministic.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

TOP_K = 5


def _citation(obj: Any) -> dict[str, Any]:
    return {
        "doc_id": obj.doc_id,
        "title": obj.title,
        "source": obj.source,
        "published": obj.published,
        "char_start": obj.char_start,
        "char_end": obj.char_end,
    }


def _result(result: Any) -> dict[str, Any]:
    answer = result.answer
    return {
        "answer": None
        if answer is None
        else {
            "text": answer.text,
            "score": answer.score,
            "passage_rank": answer.passage_rank,
            **_citation(answer),
        },
        "passages": [
            {
                "rank": p.rank,
                "score": p.score,
                "text": p.text,
                "highlight": None
                if p.highlight is None
                else [p.highlight.char_start, p.highlight.char_end],
                **_citation(p),
            }
            for p in result.passages
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/ragqa-snapshot-cache"))
    args = parser.parse_args()

    from corpus import DEFAULT_CORPUS_DIR
    from eval.cmrc import cmrc_index
    from eval.sets import named_set
    from index.encode.embedder import DEFAULT_MODEL, load_embedder
    from index.engine import Engine
    from index.store.build import build_index, index_is_current

    embedder = load_embedder(DEFAULT_MODEL)
    seed_index = args.cache / "seed-index"
    if not index_is_current(
        DEFAULT_CORPUS_DIR, seed_index, embedder.name, encoder=embedder.encoder
    ):
        build_index(
            DEFAULT_CORPUS_DIR, seed_index, embedder.name, progress=False, embedder=embedder
        )
    _, cmrc_dir = cmrc_index(args.cache, embedder)
    engines = {
        "seed": Engine.load(seed_index, embedder.name, embedder=embedder),
        "cmrc": Engine.load(cmrc_dir, embedder.name, embedder=embedder),
    }
    out: dict[str, Any] = {}
    for name in ("dev", "own", "cmrc"):
        named = named_set(name)
        engine = engines[named.corpus]
        out[name] = {
            q.id: {"question": q.question, **_result(engine.ask(q.question, TOP_K))}
            for q in named.load()
        }
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    print(f"{args.out}: {sum(len(v) for v in out.values())} questions")


if __name__ == "__main__":
    main()
