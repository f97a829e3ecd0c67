"""The index directory: self-describing, written atomically, verified on load, rebuilt
incrementally, and refusing to be queried with another model or encoder variant."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from index.engine import Engine
from index.errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError
from index.store.build import build_index, index_is_current
from index.store.files import MANIFEST, IndexManifest, read_index, write_index

ARTICLE_A = (
    "白银炉能耗降低\n\n现在生产每吨铜的综合能耗从300公斤标煤降至210公斤标煤以内。"
    "白银有色集团介绍了第四代白银炉。"
)
ARTICLE_B = (
    "兰州新区招商\n\n兰州新区组建6个产业招商专班，精准对接重点企业。全年新增省级科技型企业25家。"
)
ARTICLE_C = "嘉峪关储能\n\n嘉峪关储能项目每期规模为500兆瓦/1000兆瓦时，一期已经开工建设。"


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(ARTICLE_A, encoding="utf-8")
    (corpus / "b.txt").write_text(ARTICLE_B, encoding="utf-8")
    return corpus


@pytest.fixture
def small_index(small_corpus: Path, tmp_path: Path, embedder: Any) -> Path:
    index_dir = tmp_path / "index"
    build_index(small_corpus, index_dir, embedder.name, progress=False, embedder=embedder)
    return index_dir


def test_manifest_describes_the_index(small_index: Path, embedder: Any) -> None:
    manifest = json.loads((small_index / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["format_version"] == 1
    assert manifest["model"] == embedder.name
    assert manifest["encoder"] == embedder.encoder == "int8"
    assert manifest["dim"] == 384
    assert manifest["chunking"]["size"] > 0 and manifest["chunking"]["pipeline"]
    assert set(manifest["sources"]) == {"a.txt", "b.txt"}
    assert manifest["counts"]["documents"] == 2
    assert manifest["built_at"] and manifest["versions"]["faiss-cpu"]
    assert len(manifest["config_id"]) == 16
    for rel, entry in manifest["files"].items():
        assert (small_index / rel).stat().st_size == entry["bytes"]


def test_round_trip_keeps_documents_and_spans(small_index: Path, tmp_path: Path) -> None:
    data = read_index(small_index)
    copy = tmp_path / "copy"
    write_index(copy, data)
    again = read_index(copy)
    assert again.documents == data.documents
    assert (again.chunks == data.chunks).all()
    assert (again.sentence_vectors == data.sentence_vectors).all()


def test_no_half_written_directory_is_left_when_writing_fails(
    small_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = read_index(small_index)
    target = tmp_path / "target"
    shutil.copytree(small_index, target)
    before = sorted(p.name for p in tmp_path.iterdir())

    def crash(*_: object, **__: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("index.store.files.dense.save", crash)
    with pytest.raises(OSError, match="disk full"):
        write_index(target, data)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    read_index(target)  # the previous index is intact


def test_damaged_file_is_refused_with_its_name(small_index: Path) -> None:
    with (small_index / "chunks.npy").open("r+b") as handle:
        handle.seek(-4, 2)
        handle.write(b"\xff\xff\xff\xff")
    with pytest.raises(IndexCorruptError, match=r"chunks\.npy.*damaged"):
        read_index(small_index)


def test_missing_index_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="ragqa build"):
        read_index(tmp_path / "nowhere")


def test_unknown_format_version_is_refused(small_index: Path) -> None:
    path = small_index / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["format_version"] = 99
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexMismatchError, match="format 99"):
        read_index(small_index)


def test_index_refuses_to_be_queried_with_another_model(small_index: Path, embedder: Any) -> None:
    with pytest.raises(IndexMismatchError, match="built with model"):
        Engine.load(small_index, "intfloat/multilingual-e5-small", embedder=embedder)


@pytest.fixture(scope="module")
def fp32_embedder() -> Any:
    from index.encode.embedder import DEFAULT_MODEL, load_embedder

    return load_embedder(DEFAULT_MODEL, encoder="fp32")


@pytest.mark.slow
def test_fp32_index_is_refused_with_int8_query_vectors(
    small_corpus: Path, tmp_path: Path, embedder: Any, fp32_embedder: Any
) -> None:
    index_dir = tmp_path / "fp32-index"
    build_index(small_corpus, index_dir, fp32_embedder.name, progress=False, embedder=fp32_embedder)
    assert read_index(index_dir).manifest.encoder == "fp32"
    with pytest.raises(IndexMismatchError) as caught:
        Engine.load(index_dir, embedder.name, embedder=embedder, encoder="int8")
    assert str(caught.value) == (
        f"the index at {index_dir} holds fp32 vectors and cannot be queried with int8 query "
        "vectors: rebuild it (`ragqa build --encoder int8`) or set RAGQA_ENCODER=fp32"
    )
    assert not index_is_current(small_corpus, index_dir, embedder.name, encoder="int8")
    assert index_is_current(small_corpus, index_dir, embedder.name, encoder="fp32")
    # Without an explicit encoder the index is queried with the variant that built it.
    assert Engine.load(index_dir, embedder=embedder).embedder.encoder == "fp32"


@pytest.mark.slow
def test_rebuild_with_the_other_encoder_reembeds_everything(
    small_corpus: Path, small_index: Path, fp32_embedder: Any
) -> None:
    report = build_index(
        small_corpus, small_index, fp32_embedder.name, progress=False, embedder=fp32_embedder
    )
    assert report.n_reused_files == 0
    assert read_index(small_index).manifest.encoder == "fp32"


def test_encoder_variant_changes_the_config_id(small_index: Path) -> None:
    int8 = read_index(small_index).manifest
    fp32 = IndexManifest.from_json({**int8.to_json(), "encoder": "fp32"})
    assert int8.config_id != fp32.config_id
    legacy = int8.to_json()
    del legacy["encoder"]  # written before the field: those indexes were fp32
    assert IndexManifest.from_json(legacy).config_id == fp32.config_id


def test_rebuild_embeds_only_the_added_file(
    small_corpus: Path, small_index: Path, embedder: Any
) -> None:
    before = read_index(small_index)
    (small_corpus / "c.txt").write_text(ARTICLE_C, encoding="utf-8")
    assert not index_is_current(small_corpus, small_index, embedder.name)
    report = build_index(
        small_corpus, small_index, embedder.name, progress=False, embedder=embedder
    )
    after = read_index(small_index)
    assert report.n_reused_files == 2
    c_rows = [i for i, d in enumerate(after.documents) if d.source == "c.txt"]
    c_texts = int(
        (after.chunks[:, 0] == c_rows[0]).sum() + (after.sentences[:, 0] == c_rows[0]).sum()
    )
    assert report.n_embedded == c_texts
    assert (after.sentence_vectors[: len(before.sentences)] == before.sentence_vectors).all()
    assert index_is_current(small_corpus, small_index, embedder.name)


def test_rebuild_after_deleting_a_file_embeds_nothing(
    small_corpus: Path, small_index: Path, embedder: Any
) -> None:
    (small_corpus / "b.txt").unlink()
    report = build_index(
        small_corpus, small_index, embedder.name, progress=False, embedder=embedder
    )
    assert report.n_embedded == 0
    assert [d.source for d in read_index(small_index).documents] == ["a.txt"]


def test_hnsw_index_answers_like_flat(small_corpus: Path, tmp_path: Path, embedder: Any) -> None:
    index_dir = tmp_path / "hnsw"
    build_index(
        small_corpus, index_dir, embedder.name, ann="hnsw", progress=False, embedder=embedder
    )
    assert read_index(index_dir).manifest.ann["kind"] == "hnsw"
    result = Engine.load(index_dir, embedder=embedder).ask("兰州新区组建了几个招商专班")
    assert result.answer is not None and "6个" in result.answer.text


def test_unchanged_corpus_is_current_and_a_changed_file_is_not(
    small_corpus: Path, small_index: Path, embedder: Any
) -> None:
    assert index_is_current(small_corpus, small_index, embedder.name)
    assert not index_is_current(small_corpus, small_index, "some/other-model")
    (small_corpus / "a.txt").write_text(ARTICLE_A + "新增一句。", encoding="utf-8")
    assert not index_is_current(small_corpus, small_index, embedder.name)


def test_pdf_and_docx_articles_are_indexed_with_their_pages_and_boxes(
    tmp_path: Path, embedder: Any
) -> None:
    """`ragqa build` on PDF and Word files: a cited span is the document's text at its
    offsets, and a PDF document's layout gives its page and character boxes."""
    from corpus.charboxes import Box, Layout

    fixtures = Path(__file__).resolve().parents[1] / "corpus" / "fixtures"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("epaper-two-columns.pdf", "two-articles.docx", "encrypted.pdf"):
        shutil.copy(fixtures / name, corpus / name)
    index_dir = tmp_path / "index"
    report = build_index(corpus, index_dir, embedder.name, progress=False, embedder=embedder)
    assert [str(p) for p in report.problems] == [
        "encrypted.pdf: encrypted PDF: it needs a password; send a decrypted copy"
    ]
    assert report.n_documents == 4
    documents = {d.doc_id: d for d in read_index(index_dir).documents}
    assert sorted(documents) == [
        "epaper-two-columns.pdf:0",
        "epaper-two-columns.pdf:1",
        "two-articles.docx:0",
        "two-articles.docx:1",
    ]
    assert documents["two-articles.docx:0"].metadata == {}
    engine = Engine.load(index_dir, embedder.name, embedder=embedder)
    result = engine.ask("河西走廊风电项目每年可减少多少二氧化碳排放", 4)
    assert result.answer is not None
    answer = result.answer
    assert (answer.doc_id, answer.text, answer.char_start, answer.char_end) == (
        "epaper-two-columns.pdf:1",
        "该项目安装单机容量6.25兆瓦的风电机组160台，配套建设储能电站，每年可减少二氧化碳排放约200万吨。",
        52,
        104,
    )
    answer_layout = Layout.from_json(documents[answer.doc_id].metadata["layout"])
    boxes = answer_layout.locate(52, 104)[0].boxes
    # It starts indented at the top of the right column and ends on that column's third line.
    assert (boxes[0], boxes[-1]) == (
        Box(241.8, 242.4, 251.8, 256.9),
        Box(358.5, 272.4, 368.5, 286.9),
    )
    pdf_passages = [p for p in result.passages if p.source == "epaper-two-columns.pdf"]
    assert pdf_passages
    for cited in [result.answer, *pdf_passages]:
        document = documents[cited.doc_id]
        assert document.text[cited.char_start : cited.char_end] == cited.text
        if cited.source == "epaper-two-columns.pdf":
            layout = Layout.from_json(document.metadata["layout"])
            located = layout.locate(cited.char_start, cited.char_end)
            assert [p.page for p in located] == [1]
            printed = [c for c in cited.text if not c.isspace()]
            assert len(located[0].boxes) == len(printed)
