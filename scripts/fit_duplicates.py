#!/usr/bin/env python3
"""Measure the duplicate detector's numbers (index/dedup/fingerprint.py) on the seed corpus.

For each shingle size it prints the exact Jaccard similarity of shingle sets
(index.dedup.fingerprint.shingles with SHINGLE_CHARS patched):

* copies: every seed article against variants a reprint makes of it (another sign-off, page
  furniture lines, whitespace and punctuation changed, full-width digits, an editor's cut of
  one sentence, of the last paragraph): the lowest similarity is what the threshold must stay
  under;
* different: every pair of distinct seed articles (two of them cover 金昌's nickel industry):
  the highest similarity is what the threshold must stay over;

then the MinHash estimate (NUM_PERM permutations) of the same pairs at the shipped size, and
the articles `MinHashLSH` would merge at the shipped threshold (expected: none of the seed).

    PYTHONPATH=. .venv/bin/python scripts/fit_duplicates.py
"""

from __future__ import annotations

import itertools
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from corpus.loader import load_corpus  # noqa: E402
from index.dedup import fingerprint  # noqa: E402
from index.dedup.fingerprint import THRESHOLD, copy_similarity, minhash, similarity  # noqa: E402

SIZES = (2, 3, 4, 5, 6, 8)


def _cut_sentence(text: str) -> str:
    """An editor's cut: the longest sentence removed."""
    sentences = re.findall(r"[^。！？]*[。！？]", text)
    if len(sentences) < 2:
        return text
    return text.replace(max(sentences, key=len), "", 1)


def _cut_last_paragraph(text: str) -> str:
    paragraphs = text.split("\n\n")
    return "\n\n".join(paragraphs[:-1]) if len(paragraphs) > 2 else text


def _full_width(text: str) -> str:
    return text.translate({ord(str(i)): chr(0xFF10 + i) for i in range(10)})


VARIANTS: dict[str, Callable[[str], str]] = {
    "sign-off": lambda t: t + "（责任编辑：王五）\n\n来源：新华社",
    "furniture": lambda t: "数字报首页\n\n版次：07\n\n字数：3,997\n\n" + t + "\n\n上一篇\n\n下一篇",
    "whitespace": lambda t: re.sub(r"\n+", "\n", t).replace("，", ", ").replace("。", ". "),
    "full-width digits": _full_width,
    "cut one sentence": _cut_sentence,
    "cut last paragraph": _cut_last_paragraph,
}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def main() -> None:
    documents = load_corpus(ROOT / "corpus" / "articles").documents
    shipped = fingerprint.SHINGLE_CHARS
    print(f"{len(documents)} seed articles; threshold {THRESHOLD}, shipped shingle {shipped}")
    print(f"{'k':>2}  {'min copy':>8}  (variant, article)            {'max different':>13}  (pair)")
    for k in SIZES:
        fingerprint.SHINGLE_CHARS = k
        sets = {d.doc_id: fingerprint.shingles(d.text) for d in documents}
        copies = [
            (jaccard(sets[d.doc_id], fingerprint.shingles(make(d.text))), name, d.doc_id)
            for d in documents
            for name, make in VARIANTS.items()
        ]
        different = [
            (jaccard(sets[a.doc_id], sets[b.doc_id]), a.doc_id, b.doc_id)
            for a, b in itertools.combinations(documents, 2)
        ]
        low, high = min(copies), max(different)
        print(
            f"{k:>2}  {low[0]:8.3f}  ({low[1]}, {low[2]})  {high[0]:13.3f}  ({high[1]}, {high[2]})"
        )
    fingerprint.SHINGLE_CHARS = shipped
    hashes = {d.doc_id: minhash(d.text) for d in documents}
    estimated_copies = []
    for name, make in VARIANTS.items():
        found = [similarity(hashes[d.doc_id], minhash(make(d.text))) for d in documents]
        print(f"  MinHash estimate, {name}: lowest {min(found):.3f}")
        estimated_copies += found
    estimated_different = [
        similarity(hashes[a.doc_id], hashes[b.doc_id])
        for a, b in itertools.combinations(documents, 2)
    ]
    print(
        f"MinHash estimate at k={shipped}: copies >= {min(estimated_copies):.3f}, "
        f"different <= {max(estimated_different):.3f}"
    )
    merged = [
        (a.doc_id, b.doc_id)
        for a, b in itertools.combinations(documents, 2)
        if copy_similarity(fingerprint.fingerprint(a.text), fingerprint.fingerprint(b.text))
        is not None
    ]
    print(f"seed articles taken for copies of each other: {merged}")
    taken = [
        copy_similarity(fingerprint.fingerprint(make(d.text)), fingerprint.fingerprint(d.text))
        is not None
        for d in documents
        for make in VARIANTS.values()
    ]
    print(f"variants taken for copies of their article: {sum(taken)} of {len(taken)}")
    shifted = [
        (similarity(hashes[d.doc_id], minhash(_other_figures(d.text))), d.doc_id)
        for d in documents
        if _other_figures(d.text) != d.text
    ]
    kept_apart = [
        d.doc_id
        for d in documents
        if copy_similarity(
            fingerprint.fingerprint(_other_figures(d.text)), fingerprint.fingerprint(d.text)
        )
        is None
    ]
    print(
        "the same article with every figure changed (a report from a template): MinHash "
        f"estimate as high as {max(shifted)[0]:.3f}, kept apart by the figures: "
        f"{len(kept_apart)} of {len(shifted)}"
    )


def _other_figures(text: str) -> str:
    """Every number of `text` one higher (as a templated report of another day)."""
    return re.sub(r"\d+", lambda m: str(int(m.group()) + 1), text)


if __name__ == "__main__":
    main()
