"""Duplicates over the real server, store and index, across a restart: one wire story uploaded
as UTF-8 .txt, GBK .txt, .html and another outlet's reprint is one document with three aliases,
which its citations name; a different article on the same subject stays a document of its own;
`ragqa add` says which file became an alias of which document; deleting an alias or the first
copy. The texts are `tests.duplicates_fixtures`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_API_KEY
from tests.duplicates_fixtures import TITLE, other_txt, reprint_txt, story_files
from tests.servers import ragqa, running_server

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {TEST_API_KEY}"}
REPRINT_TITLE = "50亿元氢能产业园在兰州新区开工"
OUTLETS = [
    {"source": "hydrogen-gbk.txt", "url": None, "title": TITLE, "published": None},
    {"source": "hydrogen.html", "url": None, "title": TITLE, "published": None},
    {"source": "reprint-of-hydrogen.txt", "url": None, "title": REPRINT_TITLE, "published": None},
]
"""The other outlets a citation of the story names, oldest first."""


def server_env(index_dir: Path, data_dir: Path) -> dict[str, str]:
    return {
        "RAGQA_INDEX_DIR": str(index_dir),
        "RAGQA_DATA_DIR": str(data_dir),
        "RAGQA_API_KEY": TEST_API_KEY,
        "RAGQA_LOG_LEVEL": "warning",
    }


def upload(http: httpx.Client, files: list[tuple[str, bytes]]) -> dict[str, Any]:
    parts = [("files", (name, data, "text/plain")) for name, data in files]
    response = http.post("/v1/collections/wire/documents", files=parts, headers=AUTH)
    assert response.status_code == 200, response.text
    return dict(response.json())


def search(http: httpx.Client, query: str) -> list[dict[str, Any]]:
    params: dict[str, str | int] = {"q": query, "top_k": 10, "collections": "wire"}
    response = http.get("/v1/search", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["passages"])


def test_one_story_four_ways_is_one_document_with_three_aliases_across_a_restart(
    index_dir: Path, tmp_path: Path
) -> None:
    env = server_env(index_dir, tmp_path / "data")
    with (
        running_server(env, tmp_path / "first.log") as base,
        httpx.Client(base_url=base, timeout=300) as http,
    ):
        assert http.put("/v1/collections/wire", headers=AUTH).status_code == 201
        body = upload(http, [*story_files(), ("other.txt", other_txt().encode("utf-8"))])
        written = body["documents"]
        first, other = written[0]["doc_id"], written[4]["doc_id"]
        alias_ids = [w.get("alias_id") for w in written]
        assert [(w["item"], w["status"], w["doc_id"], w.get("similarity")) for w in written] == [
            ("hydrogen.txt", "created", first, None),
            ("hydrogen-gbk.txt", "duplicate", first, 1.0),
            ("hydrogen.html", "duplicate", first, 1.0),
            ("reprint-of-hydrogen.txt", "duplicate", first, 1.0),
            ("other.txt", "created", other, None),
        ]
        assert alias_ids[0] is None and alias_ids[4] is None and len(set(alias_ids[1:4])) == 3
        assert body["doc_ids"] == [first] * 4 + [other]
        assert body["embedded_documents"] == 2
        listed = http.get("/v1/documents", params={"collection": "wire"}).json()
        assert [(d["doc_id"], d["source"]) for d in listed] == [
            (first, "hydrogen.txt"),
            (other, "other.txt"),
        ]

        document = http.get(f"/v1/documents/{first}").json()
        aliases = document["aliases"]
        assert [{k: a[k] for k in OUTLETS[0]} for a in aliases] == OUTLETS
        assert [a["alias_id"] for a in aliases] == alias_ids[1:4]
        assert http.get(f"/v1/documents/{other}").json()["aliases"] == []
        as_alias = http.get(f"/v1/documents/{alias_ids[1]}")
        assert as_alias.status_code == 404
        assert as_alias.json()["error"] == {
            "code": "document_not_found",
            "message": f"no document with id '{alias_ids[1]}': it is an alias of document "
            f"'{first}' (a copy of it from another outlet, listed in that document's aliases)",
        }

        passages = search(http, "兰州新区氢能产业园总投资多少")
        texts = [p["text"] for p in passages]
        assert len(texts) == len(set(texts))  # never the same text twice
        assert {p["doc_id"] for p in passages} <= {first, other}
        for p in passages:
            assert p["aliases"] == (OUTLETS if p["doc_id"] == first else [])
        answered = http.post(
            "/v1/ask", json={"question": "兰州新区氢能产业园总投资多少", "collections": ["wire"]}
        ).json()
        assert answered["answer"]["doc_id"] == first and "50亿元" in answered["answer"]["text"]
        assert answered["answer"]["aliases"] == OUTLETS

        # `ragqa add` of a file already stored as an alias: said so, nothing stored.
        gbk = tmp_path / "hydrogen-gbk.txt"
        gbk.write_bytes(story_files()[1][1])
        added = ragqa("add", str(gbk), "-c", "wire", "--url", base, "--api-key", TEST_API_KEY)
        assert added.returncode == 0, added.stderr
        assert (
            "wire: 0 created, 0 replaced, 0 unchanged (not re-embedded), 0 skipped, "
            "1 duplicates (stored as aliases)"
        ) in added.stdout
        assert f"hydrogen-gbk.txt: alias {alias_ids[1]} of {first} (similarity 1.00)" in (
            added.stdout
        )

    with (
        running_server(env, tmp_path / "second.log") as base,
        httpx.Client(base_url=base, timeout=300) as http,
    ):
        assert http.get(f"/v1/documents/{first}").json()["aliases"] == aliases
        late = reprint_txt().replace("编辑：李四", "（责任编辑：陈七）")
        body = upload(http, [("另一家.txt", late.encode("gbk"))])
        assert [(w["status"], w["doc_id"]) for w in body["documents"]] == [("duplicate", first)]
        fourth = body["documents"][0]["alias_id"]

        # Deleting an alias removes just it.
        removed = http.delete(f"/v1/collections/wire/documents/{alias_ids[2]}", headers=AUTH)
        assert removed.json() == {"doc_id": alias_ids[2], "collection": "wire", "deleted": True}
        now = http.get(f"/v1/documents/{first}").json()["aliases"]
        assert [a["alias_id"] for a in now] == [alias_ids[1], alias_ids[3], fourth]

        # Deleting the first copy promotes the oldest alias (the GBK file) in its place.
        http.delete(f"/v1/collections/wire/documents/{first}", headers=AUTH).raise_for_status()
        assert http.get(f"/v1/documents/{first}").status_code == 404
        promoted = http.get(f"/v1/documents/{alias_ids[1]}").json()
        assert (promoted["source"], promoted["collection"]) == ("hydrogen-gbk.txt", "wire")
        assert [a["source"] for a in promoted["aliases"]] == [
            "reprint-of-hydrogen.txt",
            "另一家.txt",
        ]
        cited = {p["doc_id"] for p in search(http, "兰州新区氢能产业园总投资多少")}
        assert cited <= {alias_ids[1], other} and alias_ids[1] in cited
        gone = http.delete(f"/v1/collections/wire/documents/{alias_ids[2]}", headers=AUTH)
        assert gone.status_code == 404 and alias_ids[2] in gone.json()["error"]["message"]
