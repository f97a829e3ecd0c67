"""How much a build killed half-way loses: `kill -9` a real `ragqa build` once about half of
its texts are embedded, build again, and print what the second build re-embedded.

The corpus is the bundled one (`--copies N` makes N distinct variants of each article, for a
longer build). The baseline, measured in the same run, is the killed build's committed work:
without checkpoints all of it would be embedded again.

    .venv/bin/python scripts/bench_resume.py [--copies 1] [--kill-at 0.5]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpus import DEFAULT_CORPUS_DIR  # noqa: E402
from corpus.loader import load_corpus  # noqa: E402
from index.encode.embedcache import cache_path, checkpoint_group  # noqa: E402
from index.text.chunking import ChunkingParams, chunk_document  # noqa: E402
from index.text.sentences import split_sentences  # noqa: E402

RAGQA = str(Path(sys.executable).parent / "ragqa")


def make_corpus(target: Path, copies: int) -> None:
    target.mkdir()
    for path in sorted(DEFAULT_CORPUS_DIR.iterdir()):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        for copy in range(copies):
            # A marker in every paragraph makes each copy's texts distinct (no cache sharing).
            variant = text if copy == 0 else text.replace("。", f"。（{copy}）", 200)
            (target / f"{copy:02d}_{path.name}").write_text(variant, encoding="utf-8")


def texts_to_embed(corpus: Path) -> int:
    params = ChunkingParams()
    docs = load_corpus(corpus).documents
    return sum(len(chunk_document(d, params)) + len(split_sentences(d.text)) for d in docs)


def committed(cache: Path) -> int:
    try:
        with sqlite3.connect(f"file:{cache}?mode=ro", uri=True, timeout=5) as db:
            return int(db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--kill-at", type=float, default=0.5)
    args = parser.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CI": "true"}
    with tempfile.TemporaryDirectory(prefix="bench-resume-") as tmp:
        corpus, index = Path(tmp) / "corpus", Path(tmp) / "index"
        make_corpus(corpus, args.copies)
        total = texts_to_embed(corpus)
        command = [RAGQA, "build", "--corpus", str(corpus), "--index", str(index), "--quiet"]
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        while committed(cache_path(index)) < args.kill_at * total:
            if process.poll() is not None:
                sys.exit("the build finished before the kill point; use more --copies")
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        killed_after = time.perf_counter() - started
        done = committed(cache_path(index))
        leftovers = sorted(p.name for p in Path(tmp).iterdir() if ".tmp-" in p.name)
        resumed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        found = re.search(
            r"(\d+) texts embedded(?: \((\d+) more from the checkpoint cache\))?", resumed.stdout
        )
        if resumed.returncode != 0 or found is None:
            sys.exit(f"resumed build failed:\n{resumed.stdout}\n{resumed.stderr}")
        embedded, cached = int(found.group(1)), int(found.group(2) or 0)
        distinct = committed(cache_path(index))
        shutil.rmtree(index, ignore_errors=True)
    re_embedded = embedded - (distinct - done)
    print(
        f"corpus: {total} texts to embed ({distinct} distinct), checkpoint group "
        f"{checkpoint_group(distinct)} texts"
    )
    print(
        f"kill -9 after {killed_after:.1f} s with {done} texts committed "
        f"({done / distinct:.1%} of the build); temp dirs left: {leftovers or 'none'}"
    )
    print(f"resumed build: {embedded} texts embedded, {cached} taken from the checkpoints")
    print(
        f"re-embedded of the {done} texts the killed build had done: {re_embedded} "
        f"({re_embedded / done:.1%}; the target is at most 10%)"
    )
    print(f"baseline without checkpoints: {done} of {done} re-embedded (100.0%)")


if __name__ == "__main__":
    main()
