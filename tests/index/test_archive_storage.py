"""Archive-scale storage: 8-bit sentence vectors and an IVF passage index, read through the
same `IndexView` the pipeline uses, memory-mapped or not."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from eval.dataset import load_questions
from index.encode.quantize import dequantize_rows, quantize_rows
from index.engine import Engine
from index.search import dense
from index.search.dense import AnnParams, ivf_lists
from index.store.files import read_index, write_index
from index.types import Allowed

EVAL = Path(__file__).resolve().parents[2] / "eval"
DEV = [q.question for q in load_questions(EVAL / "dev_questions.jsonl")]


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_int8_rows_keep_cosines_within_a_few_thousandths() -> None:
    rng = np.random.default_rng(0)
    rows = _unit(rng.standard_normal((2000, 384)))
    query = _unit(rng.standard_normal((1, 384)))[0]
    codes, scales = quantize_rows(rows)
    assert codes.dtype == np.int8 and scales.shape == (2000,)
    error = np.abs(dequantize_rows(codes, scales) @ query - rows @ query)
    assert error.max() < 0.005
    zero_codes, zero_scales = quantize_rows(np.zeros((1, 4), dtype=np.float32))
    assert zero_codes.tolist() == [[0, 0, 0, 0]] and zero_scales.tolist() == [1.0]


def test_an_index_with_int8_sentence_vectors_says_so_and_answers_alike(
    index_dir: Path, embedder: Any, tmp_path: Path
) -> None:
    data = read_index(index_dir)
    codes, scales = quantize_rows(data.sentence_vectors)
    target = tmp_path / "int8-index"
    write_index(target, replace(data, sentence_vectors=codes, sentence_scales=scales))
    assert read_index(target).manifest.sentence_storage == "int8"
    assert (target / "sentence_scales.npy").is_file()
    assert data.manifest.sentence_storage == "float32"

    full = Engine.load(index_dir, embedder=embedder)
    mapped = Engine.load(target, embedder=embedder, mmap=True)
    loaded = Engine.load(target, embedder=embedder, mmap=False)
    assert isinstance(mapped.data.sentence_vectors, np.memmap)
    same_top = 0
    for question in DEV:
        a, b = mapped.ask(question, top_k=5), loaded.ask(question, top_k=5)
        assert (a.answer, a.passages) == (b.answer, b.passages), question
        exact = full.ask(question, top_k=5)
        same_top += [p.doc_id for p in a.passages[:1]] == [p.doc_id for p in exact.passages[:1]]
    assert same_top == len(DEV)


def test_an_ivf_index_finds_the_neighbours_and_honours_the_restriction(
    index_dir: Path, tmp_path: Path
) -> None:
    rng = np.random.default_rng(1)
    centres = _unit(rng.standard_normal((40, 64)))
    vectors = _unit(centres[rng.integers(0, 40, 4000)] + 0.3 * rng.standard_normal((4000, 64)))
    index = dense.build_ivf(vectors, AnnParams(kind="ivf", nprobe=8))
    assert ivf_lists(4000) == 102 and index.ntotal == 4000
    # the direct map survives a round trip: stored vectors are read back by row
    path = tmp_path / "ivf.faiss"
    dense.save(index, path)
    again = dense.load(path, mmap=True, nprobe=8)
    assert (
        np.abs(again.reconstruct_batch(np.array([0, 17, 3999])) - vectors[[0, 17, 3999]]).max()
        < 0.02
    )

    from index.search.view import IndexView

    data = read_index(index_dir)
    n = len(data.chunks)
    view = IndexView(replace(data, passages=dense.build_ivf(vectors[:n], AnnParams(kind="ivf"))))
    exact = IndexView(replace(data, passages=dense.build_faiss(vectors[:n], AnnParams())))
    query = vectors[5]
    ids, _ = view.dense_search(query, 10, None)
    truth, _ = exact.dense_search(query, 10, None)
    assert ids[0] == 5 and len(set(ids.tolist()) & set(truth.tolist())) >= 9
    allowed_docs = np.zeros(len(data.documents), dtype=bool)
    allowed_docs[0] = True
    restricted, _ = view.dense_search(query, 10, Allowed(allowed_docs))
    assert restricted.size and (data.chunks[restricted, 0] == 0).all()
