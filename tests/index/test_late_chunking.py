"""One encoder pass per passage: sentence vectors pooled from their passage's token states."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from corpus import DEFAULT_CORPUS_DIR
from index.encode.late_chunking import encode, plan
from index.store.build import build_index, index_is_current
from index.store.files import read_index


def test_a_sentence_is_pooled_from_the_passage_holding_most_of_it() -> None:
    # document 0: passages [0, 100) and [80, 200) overlap; document 1: one passage
    chunks = np.array([[0, 0, 100], [0, 80, 200], [1, 0, 50]])
    sentences = np.array([[0, 0, 40], [0, 70, 130], [0, 150, 200], [1, 10, 50]])
    layout = plan(chunks, sentences, shifts=[5, 5, 0])
    assert layout.owner.tolist() == [0, 1, 1, 2]  # 70-130: 20 chars in passage 0, 50 in 1
    assert layout.spans == [[(5, 45)], [(5, 55), (75, 125)], [(10, 50)]]
    assert layout.slot.tolist() == [0, 0, 1, 0]


def test_the_passage_vector_is_the_models_own_and_each_span_is_a_unit_vector(
    embedder: Any,
) -> None:
    text = "兰州新区\n该区去年实现地区生产总值300亿元。它同比增长10%。"
    pooled = encode(embedder, [text], [[(5, 22), (22, 30)]])
    alone = embedder.encode_passages([text])
    assert float(pooled.passages[0] @ alone[0]) == pytest.approx(1.0, abs=1e-5)
    assert np.linalg.norm(pooled.spans[0], axis=1) == pytest.approx([1.0, 1.0], abs=1e-5)
    separate = embedder.encode_passages([text[5:22], text[22:30]])
    cosines = (pooled.spans[0] * separate).sum(axis=1)
    assert (cosines > 0.85).all()  # the same sentences, read in context


@pytest.fixture(scope="module")
def late_index(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Path:
    target = tmp_path_factory.mktemp("late") / "index"
    build_index(
        DEFAULT_CORPUS_DIR,
        target,
        embedder.name,
        progress=False,
        embedder=embedder,
        sentence_vectors="late",
    )
    return target


@pytest.mark.slow
def test_a_late_build_embeds_each_passage_once_and_says_so(
    late_index: Path, index_dir: Path, embedder: Any
) -> None:
    late, separate = read_index(late_index), read_index(index_dir)
    assert late.manifest.sentence_vectors == "late"
    assert separate.manifest.sentence_vectors == "separate"
    assert late.manifest.config_id != separate.manifest.config_id
    assert (late.chunks == separate.chunks).all() and (late.sentences == separate.sentences).all()
    # the passage vectors are those of the two-pass build, up to the int8 encoder's
    # activation scales, which are set per batch (and the batches hold other texts)
    n = len(late.chunks)
    same = late.passages.reconstruct_n(0, n) * separate.passages.reconstruct_n(0, n)
    assert same.sum(axis=1).min() > 0.99
    norms = np.linalg.norm(late.sentence_vectors, axis=1)
    assert norms.min() == pytest.approx(1.0, abs=1e-4)
    name = embedder.name
    assert index_is_current(DEFAULT_CORPUS_DIR, late_index, name, sentence_vectors="late")
    assert not index_is_current(DEFAULT_CORPUS_DIR, late_index, name, sentence_vectors="separate")


@pytest.mark.slow
def test_a_late_rebuild_of_an_unchanged_corpus_embeds_nothing(
    late_index: Path, embedder: Any
) -> None:
    again = build_index(
        DEFAULT_CORPUS_DIR,
        late_index,
        embedder.name,
        progress=False,
        embedder=embedder,
        sentence_vectors="late",
    )
    assert again.n_embedded == 0


@pytest.mark.slow
def test_a_late_build_resumes_from_the_checkpoint_cache(
    late_index: Path, embedder: Any, tmp_path: Path
) -> None:
    import shutil

    from index.encode.embedcache import cache_path

    target = tmp_path / "index"
    shutil.copy(cache_path(late_index), cache_path(target))
    report = build_index(
        DEFAULT_CORPUS_DIR,
        target,
        embedder.name,
        progress=False,
        embedder=embedder,
        sentence_vectors="late",
    )
    assert report.n_embedded == 0 and report.n_cached == report.n_passages
    assert (read_index(target).sentence_vectors == read_index(late_index).sentence_vectors).all()


def test_an_unknown_way_of_making_sentence_vectors_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sentence_vectors must be one of late, separate"):
        build_index(DEFAULT_CORPUS_DIR, tmp_path / "x", "m", sentence_vectors="both")
