"""Loading a corpus directory: formats, stable ids, and malformed input reported, not fatal."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from corpus import DEFAULT_CORPUS_DIR, Corpus, LoadProblem, load_corpus
from corpus.loader import corpus_files, file_sha256, load_file
from tests.corpus.seed import F001, F002, SEEDS

ARTICLE = "兰州新区今年以来持续推进产业项目建设，新引进项目282个，总投资485亿元。"
SECOND = "项目建设进展顺利，企业生产繁忙，园区面貌焕然一新。"


def write(directory: Path, name: str, content: str | bytes) -> Path:
    path = directory / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_seed_corpus_loads_without_problems() -> None:
    corpus = load_corpus(DEFAULT_CORPUS_DIR)
    assert isinstance(corpus, Corpus)
    assert corpus.problems == []
    assert len(corpus.documents) == 13
    assert [p.name for p in corpus_files(DEFAULT_CORPUS_DIR)] == list(SEEDS)


def test_document_ids_do_not_shift_when_a_file_is_added(tmp_path: Path) -> None:
    shutil.copy(DEFAULT_CORPUS_DIR / F001, tmp_path / F001)
    before = [d.doc_id for d in load_corpus(tmp_path).documents]
    write(tmp_path, "000_new.txt", ARTICLE)
    after = [d.doc_id for d in load_corpus(tmp_path).documents]
    assert after == ["000_new.txt:0", *before]


def test_loading_is_deterministic() -> None:
    assert load_file(DEFAULT_CORPUS_DIR / F002) == load_file(DEFAULT_CORPUS_DIR / F002)


def test_file_sha256_is_the_hex_digest_of_the_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", b"abc")
    assert file_sha256(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_hidden_files_unknown_suffixes_and_folders_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", ARTICLE)
    write(tmp_path, ".hidden.txt", ARTICLE)
    write(tmp_path, "notes.pages", b"PK\x03\x04")
    (tmp_path / "sub.txt").mkdir()
    corpus = load_corpus(tmp_path)
    assert [d.doc_id for d in corpus.documents] == ["a.txt:0"]
    assert corpus.problems == []
    assert corpus.ignored == ["notes.pages"]


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_corpus(tmp_path / "nope")


@pytest.mark.parametrize(
    ("name", "content", "message", "line"),
    [
        ("empty.txt", b"", "empty file", None),
        ("blank.txt", b"  \n\n ", "empty file", None),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file", None),
        ("latin1.txt", "第一行\n第二行".encode() + b"\n\xff\xfe bad", "not valid UTF-8", 3),
        ("furniture.txt", "网站首页\n数字报首页\n".encode(), "no article text", None),
    ],
)
def test_malformed_file_is_reported_and_the_rest_still_loads(
    tmp_path: Path, name: str, content: bytes, message: str, line: int | None
) -> None:
    write(tmp_path, name, content)
    write(tmp_path, "good.txt", ARTICLE)
    corpus = load_corpus(tmp_path)
    assert [d.doc_id for d in corpus.documents] == ["good.txt:0"]
    (problem,) = corpus.problems
    assert problem.source == name and message in problem.message and problem.line == line


def test_jsonl_reads_one_article_per_line_with_its_line_number(tmp_path: Path) -> None:
    lines = [
        json.dumps(
            {
                "title": "新区建设",
                "text": ARTICLE,
                "published": "2025-03-04",
                "url": "https://x.cn/1",
            }
        ),
        "",
        json.dumps({"title": "园区", "text": SECOND + "\n\n" + ARTICLE}),
    ]
    write(tmp_path, "news.jsonl", "\n".join(lines))
    docs, problems = load_file(tmp_path / "news.jsonl")
    assert problems == []
    assert [(d.doc_id, d.title, d.published, d.url) for d in docs] == [
        ("news.jsonl:1", "新区建设", "2025-03-04", "https://x.cn/1"),
        ("news.jsonl:3", "园区", None, None),
    ]
    assert docs[1].text == SECOND + "\n\n" + ARTICLE


def test_bad_jsonl_lines_are_reported_with_their_line_and_skipped(tmp_path: Path) -> None:
    lines = [
        json.dumps({"title": "好", "text": ARTICLE}),
        "{not json",
        json.dumps({"title": "无正文"}),
        json.dumps(["a", "list"]),
        json.dumps({"title": "日期", "text": SECOND, "published": "昨天"}),
    ]
    write(tmp_path, "mixed.jsonl", "\n".join(lines))
    docs, problems = load_file(tmp_path / "mixed.jsonl")
    assert [d.doc_id for d in docs] == ["mixed.jsonl:1", "mixed.jsonl:5"]
    assert docs[1].published is None
    assert [(p.line, p.message.split(" ")[0]) for p in problems] == [
        (2, "not"),
        (3, "missing"),
        (4, "expected"),
        (5, "'published'"),
    ]
    assert str(problems[0]).startswith("mixed.jsonl:2: not valid JSON")


def test_markdown_has_one_article_per_top_heading(tmp_path: Path) -> None:
    md = (
        f"# 新区建设\n\n{ARTICLE}\n\n## 园区\n\n**{SECOND}** 见[链接](https://x.cn)。\n\n"
        f"# 第二篇\n\n{SECOND}\n"
    )
    write(tmp_path, "two.md", md)
    docs, problems = load_file(tmp_path / "two.md")
    assert problems == []
    assert [(d.doc_id, d.title) for d in docs] == [("two.md:0", "新区建设"), ("two.md:1", "第二篇")]
    assert docs[0].text == f"{ARTICLE}\n\n园区\n\n{SECOND} 见链接。"


def test_markdown_without_heading_reads_like_a_page(tmp_path: Path) -> None:
    write(tmp_path, "page.md", f"产业立区 夯实根基\n\n{ARTICLE}\n")
    (doc,) = load_file(tmp_path / "page.md")[0]
    assert doc.title == "产业立区 夯实根基"
    assert doc.text == ARTICLE


def test_html_main_text_is_extracted_with_title_date_and_url(tmp_path: Path) -> None:
    html = f"""<html><head><title>新区建设 - 某网站</title>
    <meta property="article:published_time" content="2025-03-04">
    <link rel="canonical" href="https://example.cn/a.html"></head>
    <body><nav><a href="/">网站首页</a> <a href="/n">新闻</a></nav>
    <article><h1>兰州新区建设提速</h1><p>{ARTICLE}这是一个足够长的段落，用来确保正文提取器认为它是正文。</p>
    <p>{SECOND}各项指标稳步增长，重点项目有序推进。</p></article>
    <footer>版权所有 某网站</footer></body></html>"""
    write(tmp_path, "page.html", html)
    (doc,), problems = load_file(tmp_path / "page.html")
    assert problems == []
    assert doc.title == "兰州新区建设提速"
    assert doc.published == "2025-03-04"
    assert doc.url == "https://example.cn/a.html"
    assert doc.text.startswith(ARTICLE)
    assert "网站首页" not in doc.text and "版权所有" not in doc.text


def test_html_without_main_text_is_a_problem(tmp_path: Path) -> None:
    write(tmp_path, "empty.html", "<html><body><nav>网站首页</nav></body></html>")
    docs, problems = load_file(tmp_path / "empty.html")
    assert docs == []
    (problem,) = problems
    assert problem.source == "empty.html" and problem.message.startswith("no ")
    assert isinstance(problem, LoadProblem)
