"""`RAGQA_READER=on`: the service answers through the shipped reader, on every door the
engine serves, with the same verbatim, offset-checked citations."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reading(
    make_client: Callable[..., AbstractContextManager[TestClient]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Any:
    from index.encode.provision import provision_model
    from index.reader.export import READER_FOLDER, provision_reader

    base = provision_model(quiet=True)
    provision_reader(base, base.parent / READER_FOLDER, quiet=True)  # a no-op after setup
    data_dir: Path = tmp_path_factory.mktemp("reader-data")
    with make_client(preload=False, reader="on", data_dir=data_dir) as client:
        yield client


def test_the_library_serves_with_the_shipped_reader(reading: TestClient) -> None:
    state = reading.app.state.ragqa  # type: ignore[attr-defined]
    assert state.library.engine.reader is not None
    assert state.library.engine.reader.params.candidates == 4


def test_ask_answers_with_a_verbatim_offset_checked_quote(reading: TestClient) -> None:
    body = reading.post("/v1/ask", json={"question": "白银炉能耗降低了多少", "top_k": 3}).json()
    answer = body["answer"]
    assert answer["text"] == "现在生产每吨铜的综合能耗从300公斤标煤降至210公斤标煤以内。"
    document = reading.get(f"/v1/documents/{answer['doc_id']}").json()
    assert document["text"][answer["char_start"] : answer["char_end"]] == answer["text"]


def test_an_english_question_is_answered_from_the_chinese_text(reading: TestClient) -> None:
    question = "How much did the Baiyin furnace cut energy use per tonne of copper?"
    body = reading.post("/v1/ask", json={"question": question}).json()
    assert body["answer"]["text"] == "现在生产每吨铜的综合能耗从300公斤标煤降至210公斤标煤以内。"


@pytest.mark.parametrize(
    "question",
    [
        "ping",
        "🙂",
        "asdfgh",
        "hello",
        "abc 123",
        "谁",  # a bare question word: the abstention pass trains on these (not a held-out figure)
        "今天天气怎么样",
        "兰州的人口是多少",  # 兰州 and 人口 are in the corpus; Lanzhou's population is not
        "What is the population of Lanzhou?",
    ],
)
def test_nonsense_and_questions_the_corpus_does_not_answer_get_null(
    reading: TestClient, question: str
) -> None:
    response = reading.post("/v1/ask", json={"question": question})
    assert response.status_code == 200
    assert response.json()["answer"] is None


def test_the_reader_alone_decides_null_as_its_stage_was_fitted(reading: TestClient) -> None:
    engine = reading.app.state.ragqa.library.engine  # type: ignore[attr-defined]
    assert engine.reader.params.abstain_on_features is False
    assert engine.pipeline.abstention is None
