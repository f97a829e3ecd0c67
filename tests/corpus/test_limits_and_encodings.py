"""Input the corpus refuses with a reason a person can act on: over-long articles (the
documented `MAX_ARTICLE_CHARS`) and files in a legacy Chinese encoding, named as such."""

from __future__ import annotations

import io
import json
from pathlib import Path

from corpus.cli import inspect
from corpus.formats import MAX_ARTICLE_CHARS
from corpus.loader import load_corpus, load_file

ARTICLE = "兰州新区今年以来持续推进产业项目建设，新签约项目达到四十个，总投资超过五百亿元。"
SIMPLIFIED = (
    "兰州新区今年以来持续推进产业项目建设。白银有色集团介绍了第四代白银炉，"
    "现在生产每吨铜的综合能耗从300公斤标煤降至210公斤标煤以内。"
) * 4
TRADITIONAL = (
    "蘭州新區今年以來持續推進產業項目建設。白銀有色集團介紹了第四代白銀爐，"
    "現在生產每噸銅的綜合能耗從300公斤標煤降至210公斤標煤以內。"
) * 4


def test_the_documented_limit_is_100000_characters() -> None:
    assert MAX_ARTICLE_CHARS == 100_000


def test_a_five_megabyte_single_line_article_is_refused_naming_its_length(tmp_path: Path) -> None:
    line = ("白银有色集团介绍了第四代白银炉，能耗降低。" * 90_000).encode()  # 5.7 MB, 1 line
    (tmp_path / "dump.txt").write_bytes(line)
    (tmp_path / "good.txt").write_text(ARTICLE, encoding="utf-8")
    corpus = load_corpus(tmp_path)
    assert [d.doc_id for d in corpus.documents] == ["good.txt:0"]
    assert [str(p) for p in corpus.problems] == [
        "dump.txt: article 0 is 1,890,000 characters long, over the limit of 100,000 "
        "(MAX_ARTICLE_CHARS); split it into several articles"
    ]


def test_an_article_of_exactly_the_limit_is_kept(tmp_path: Path) -> None:
    body = ("甲" * 99 + "。") * (MAX_ARTICLE_CHARS // 100)
    (tmp_path / "edge.jsonl").write_text(
        json.dumps({"title": "边界", "text": body})
        + "\n"
        + json.dumps({"title": "超长", "text": body + "乙"})
        + "\n",
        encoding="utf-8",
    )
    docs, problems = load_file(tmp_path / "edge.jsonl")
    assert [(d.doc_id, len(d.text)) for d in docs] == [("edge.jsonl:1", MAX_ARTICLE_CHARS)]
    assert [str(p) for p in problems] == [
        "edge.jsonl:2: the article is 100,001 characters long, over the limit of 100,000 "
        "(MAX_ARTICLE_CHARS); split it into several articles"
    ]


def test_inspect_reports_the_longest_article_the_limit_and_the_refusal(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "dump.txt").write_text("能耗降低。" * 30_000, encoding="utf-8")
    out = io.StringIO()
    assert inspect(tmp_path, out=out) == 1
    table = out.getvalue()
    assert f"longest article: {len(ARTICLE)} characters (articles over 100,000" in table
    assert "dump.txt: article 0 is 150,000 characters long, over the limit of 100,000" in table


def test_a_gbk_file_is_refused_and_named_gbk_gb18030(tmp_path: Path) -> None:
    (tmp_path / "gbk.txt").write_bytes(SIMPLIFIED.encode("gbk"))
    docs, problems = load_file(tmp_path / "gbk.txt")
    assert docs == []
    (problem,) = problems
    assert problem.message.startswith("not valid UTF-8: undecodable byte 0x")
    assert "it looks like GBK/GB18030 (Simplified Chinese)" in problem.message
    assert "iconv -f GB18030 -t UTF-8" in problem.message


def test_a_gb18030_file_is_named_gbk_gb18030(tmp_path: Path) -> None:
    (tmp_path / "gb.txt").write_bytes(SIMPLIFIED.encode("gb18030"))
    _, (problem,) = load_file(tmp_path / "gb.txt")
    assert "it looks like GBK/GB18030 (Simplified Chinese)" in problem.message


def test_a_big5_file_is_refused_and_named_big5(tmp_path: Path) -> None:
    (tmp_path / "big5.txt").write_bytes(TRADITIONAL.encode("big5"))
    _, (problem,) = load_file(tmp_path / "big5.txt")
    assert "it looks like Big5 (Traditional Chinese)" in problem.message
    assert "iconv -f BIG5 -t UTF-8" in problem.message
