"""Chunks are verbatim slices of their document, in order, within the size limit."""

import pytest

from corpus.documents import Document
from index.text.chunking import ChunkingParams, chunk_document, locate_chunks


def doc(text: str) -> Document:
    return Document(doc_id="t:0", title="t", source="t.txt", published=None, text=text)


def test_every_chunk_is_the_document_slice_its_offsets_name() -> None:
    text = "\n\n".join(
        f"第{i}段。" + "白银炉能耗降低，产品种类扩展到450余个。" * 5 for i in range(20)
    )
    chunks = chunk_document(doc(text), ChunkingParams(size=120, overlap=30))
    assert len(chunks) > 5
    for chunk in chunks:
        assert text[chunk.char_start : chunk.char_end] == chunk.text
        assert len(chunk.text) <= 120
    assert [c.char_start for c in chunks] == sorted(c.char_start for c in chunks)


def test_chunks_cover_the_whole_document() -> None:
    text = "。".join(f"句子{i}有一些内容" for i in range(200)) + "。"
    chunks = chunk_document(doc(text), ChunkingParams(size=100, overlap=0))
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.char_start, chunk.char_end))
    assert covered == set(range(len(text)))


def test_chinese_sentence_marks_are_preferred_split_points() -> None:
    text = "第一句话说的是甘肃。" * 8 + "第二句话说的是金昌。" * 8
    chunks = chunk_document(doc(text), ChunkingParams(size=50, overlap=0))
    assert all(c.text.endswith("。") for c in chunks)


def test_a_piece_that_is_not_in_the_text_is_an_error() -> None:
    with pytest.raises(ValueError, match="not found verbatim"):
        locate_chunks("甲乙丙", ["丁"])


def test_invalid_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        ChunkingParams(size=100, overlap=100)
