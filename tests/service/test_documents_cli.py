"""`ragqa add`, `ragqa rm` and `ragqa collections`, against a running server and locally."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, TEST_API_KEY
from tests.servers import ragqa

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(docs_server: tuple[str, Path]) -> tuple[str, Path]:
    return docs_server


def articles(folder: Path) -> Path:
    folder.mkdir()
    (folder / "gansu.txt").write_text(
        "陇南电商\n\n2025年陇南市电商销售额达到320亿元，带动农户增收。", encoding="utf-8"
    )
    lines = [
        json.dumps({"title": "庆阳石油", "text": "庆阳市原油产量达到1200万吨。"}),
        "{broken",
    ]
    (folder / "more.jsonl").write_text("\n".join(lines), encoding="utf-8")
    (folder / "scan.pdf").write_bytes(b"%PDF-1.7")
    (folder / "notes.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    return folder


def test_add_lists_what_it_stored_and_a_skip_report(
    served: tuple[str, Path], tmp_path: Path
) -> None:
    base, _ = served
    folder = articles(tmp_path / "articles")
    remote = ("--url", base, "--api-key", TEST_API_KEY)
    added = ragqa("add", str(folder), "--collection", "cli", *remote)
    assert added.returncode == 1, added.stderr  # something was skipped, as build and inspect
    assert "cli: 2 created, 0 replaced, 0 unchanged (not re-embedded), 3 skipped" in added.stdout
    assert "notes.doc: unsupported file type" in added.stdout
    assert "scan.pdf: not a readable PDF (" in added.stdout
    assert "more.jsonl:2" in added.stdout
    again = ragqa("add", str(folder), "--collection", "cli", *remote)
    assert "0 created, 0 replaced, 2 unchanged" in again.stdout
    listed = ragqa("collections", *remote)
    assert listed.returncode == 0 and "cli" in listed.stdout
    documents = httpx.get(f"{base}/v1/documents", params={"collection": "cli"}).json()
    assert sorted(d["title"] for d in documents) == ["庆阳石油", "陇南电商"]
    for d in documents:  # every doc_id `ragqa rm` takes is printed beside its title
        assert any(
            line.split()[:3] == ["created", d["doc_id"], d["title"]]
            for line in added.stdout.splitlines()
        ), added.stdout
    good = ragqa("add", str(folder / "gansu.txt"), "--collection", "cli", *remote)
    assert good.returncode == 0 and "1 unchanged" in good.stdout
    removed = ragqa("rm", documents[0]["doc_id"], *remote)
    assert removed.returncode == 0, removed.stderr
    assert httpx.get(f"{base}/v1/documents/{documents[0]['doc_id']}").status_code == 404


def test_errors_are_one_line_and_a_non_zero_exit(served: tuple[str, Path]) -> None:
    base, _ = served
    wrong_key = ragqa("collections", "--create", "x", "--url", base, "--api-key", "wrong" * 4)
    assert wrong_key.returncode == 1 and "401" in wrong_key.stderr
    bad_name = ragqa("add", "nothing.txt", "--collection", "a/b", "--url", base)
    assert bad_name.returncode == 2 and "--collection" in bad_name.stderr
    missing = ragqa("rm", "no-such-doc", "--url", base, "--api-key", TEST_API_KEY)
    assert missing.returncode == 1 and "404" in missing.stderr
    assert "Traceback" not in wrong_key.stderr + bad_name.stderr + missing.stderr


def test_a_local_add_is_seen_by_the_running_server(
    served: tuple[str, Path], tmp_path: Path
) -> None:
    base, data_dir = served
    article = tmp_path / "pingliang.md"
    article.write_text(
        "# 平凉苹果\n\n平凉市苹果种植面积达到180万亩，年产量超过200万吨，远销东南亚和中东地区。"
        "\n\n当地还建成了苹果冷链物流中心，可以储存苹果30万吨。\n",
        encoding="utf-8",
    )
    added = ragqa(
        "add", str(article), "--collection", "local", env={"RAGQA_DATA_DIR": str(data_dir)}
    )
    assert added.returncode == 0, added.stderr
    assert "local: 1 created" in added.stdout
    deadline = time.monotonic() + 60  # a guard against hanging; the server polls every second
    while time.monotonic() < deadline:
        found = httpx.get(f"{base}/v1/documents", params={"collection": "local"})
        if found.status_code == 200 and found.json():
            break
        time.sleep(0.2)
    assert [d["title"] for d in found.json()] == ["平凉苹果"]
    listed = ragqa("collections", env={"RAGQA_DATA_DIR": str(data_dir)})
    assert "local" in listed.stdout


def test_the_local_cli_encodes_with_the_encoder_the_settings_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.documents_cli import _open_library

    monkeypatch.setenv("RAGQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RAGQA_IMPORT_CORPUS", "false")
    monkeypatch.setenv("RAGQA_ENCODER", "fp32")
    library = _open_library(quiet=True)
    try:
        assert library.embedder.encoder == "fp32"  # as the service would (RAGQA_ENCODER)
    finally:
        library.close()


def test_add_reads_pdf_and_word_files_and_skips_an_encrypted_pdf(
    served: tuple[str, Path], tmp_path: Path
) -> None:
    """`ragqa add` on the local store: a two-column PDF and a .docx give two articles each,
    the .docx's the same two as the PDF's (stored as their aliases, and said so); an encrypted
    PDF is skipped naming the file and why, and the rest is stored. The running server then
    cites the PDF article with its page and character boxes."""
    from corpus.charboxes import Layout

    base, data_dir = served
    fixtures = ROOT / "tests" / "corpus" / "fixtures"
    folder = tmp_path / "papers"
    folder.mkdir()
    for name in ("epaper-two-columns.pdf", "two-articles.docx", "encrypted.pdf"):
        (folder / name).write_bytes((fixtures / name).read_bytes())
    added = ragqa(
        "add", str(folder), "--collection", "papers-cli", env={"RAGQA_DATA_DIR": str(data_dir)}
    )
    assert added.returncode == 1, added.stderr  # the encrypted file was skipped
    assert (
        "papers-cli: 2 created, 0 replaced, 0 unchanged (not re-embedded), 1 skipped, "
        "2 duplicates (stored as aliases)"
    ) in added.stdout
    assert added.stdout.count("two-articles.docx:") == 2  # each alias named with its document
    assert (
        "/encrypted.pdf: encrypted.pdf: encrypted PDF: it needs a password; send a decrypted copy"
        in added.stdout
    )
    deadline = time.monotonic() + 60  # a guard against hanging; the server polls every second
    while time.monotonic() < deadline:
        listed = httpx.get(f"{base}/v1/documents", params={"collection": "papers-cli"})
        if listed.status_code == 200 and len(listed.json()) == 2:
            break
        time.sleep(0.2)
    assert sorted(d["source"] for d in listed.json()) == [
        "epaper-two-columns.pdf",
        "epaper-two-columns.pdf",
    ]
    for d in listed.json():
        aliases = httpx.get(f"{base}/v1/documents/{d['doc_id']}").json()["aliases"]
        assert [a["source"] for a in aliases] == ["two-articles.docx"]
        assert f"alias {aliases[0]['alias_id']} of {d['doc_id']} (similarity" in added.stdout
    found = httpx.post(
        f"{base}/v1/ask",
        json={"question": "兰州新区氢能产业园总投资多少", "collections": ["papers-cli"]},
        timeout=120,
    ).json()
    pdf_passages = [p for p in found["passages"] if p["source"] == "epaper-two-columns.pdf"]
    assert pdf_passages
    for passage in pdf_passages:
        document = httpx.get(f"{base}/v1/documents/{passage['doc_id']}").json()
        assert document["text"][passage["char_start"] : passage["char_end"]] == passage["text"]
        assert document["metadata"]["page"] == "1"
        layout = Layout.from_json(document["metadata"]["layout"])
        located = layout.locate(passage["char_start"], passage["char_end"])
        assert [p.page for p in located] == [1]
