"""Regenerate the example outputs in README.md and docs/ from the service itself.

Each example output in the docs sits between two markers,

    <!-- example: NAME -->
    ```json
    ...
    ```
    <!-- /example -->

and `EXAMPLES` says how NAME is produced: a real request to the app (in-process, on an index of
the bundled corpus), shortened the way the docs say. Run it after a change that moves scores or
offsets; `--check` (what tests/test_readme_examples.py runs in CI) changes nothing and exits 1
naming every example whose output differs, so the docs cannot go stale unnoticed.

    .venv/bin/python scripts/readme_examples.py [--check] [--index DIR]
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DOCUMENTS = (ROOT / "README.md", ROOT / "docs" / "front-doors.md")
MARKED = re.compile(
    r"(<!-- example: (?P<name>[a-z0-9-]+) -->\n```json\n)(?P<body>.*?)(```\n<!-- /example -->)",
    re.DOTALL,
)
QUESTION = "白银炉能耗降低了多少"
KEY = "readme-examples-key-0123456789"
BASE_URL = "http://127.0.0.1:8000"
"""Where the examples' requests go (the address `ragqa serve` listens on): links in the
responses (`url`) are built on it."""
HEAD = 20
"""Characters of a passage kept before the cut (`…`); the answer sentence is kept whole."""


def _shorten(text: str, start: int, end: int | None = None) -> str:
    """The first `HEAD` characters, then `…`, then text[start:end] and `…` (the answer)."""
    if end is None:
        return text[:HEAD] + ("…" if len(text) > HEAD else "")
    return f"{text[:HEAD]}…{text[start:end]}…"


def _ask(client: Any) -> Any:
    body = client.post("/v1/ask", json={"question": QUESTION, "top_k": 2}).json()
    body.pop("took_ms", None)
    for passage in body["passages"]:
        mark = passage["highlight"]
        if mark is None:
            passage["text"] = _shorten(passage["text"], 0)
        else:
            offset = passage["char_start"]
            start, end = mark["char_start"] - offset, mark["char_end"] - offset
            passage["text"] = _shorten(passage["text"], start, end)
    return body


def _dify(client: Any) -> Any:
    request = {
        "knowledge_id": "default",
        "query": QUESTION,
        "retrieval_setting": {"top_k": 1, "score_threshold": 0.5},
    }
    headers = {"Authorization": f"Bearer {KEY}"}
    body = client.post("/retrieval", json=request, headers=headers).json()
    for record in body["records"]:
        record["content"] = _shorten(record["content"], 0)
    return body


EXAMPLES: dict[str, Callable[[Any], Any]] = {"ask": _ask, "dify-retrieval": _dify}
"""Example name -> the JSON it shows (`took_ms` left out, passage texts cut with `…`)."""


def _render(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def outputs(index_dir: Path) -> dict[str, str]:
    """Every example's text, from an app serving `index_dir` with an empty document store."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from index.settings import Settings
    from service.main import create_app

    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            index_dir=index_dir,
            data_dir=Path(data_dir),
            api_key=SecretStr(KEY),
            rate_limit_per_minute=0,
        )
        with TestClient(create_app(settings), base_url=BASE_URL) as client:
            return {name: _render(make(client)) for name, make in EXAMPLES.items()}


def _ensure_index(index_dir: Path) -> None:
    from corpus import DEFAULT_CORPUS_DIR
    from index.encode.embedder import DEFAULT_MODEL
    from index.store.build import build_index, index_is_current

    if not index_is_current(DEFAULT_CORPUS_DIR, index_dir, DEFAULT_MODEL):
        build_index(DEFAULT_CORPUS_DIR, index_dir, DEFAULT_MODEL, progress=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 on a diff")
    parser.add_argument("--index", type=Path, default=ROOT / "var" / "index")
    args = parser.parse_args(argv)
    _ensure_index(args.index)
    fresh = outputs(args.index)
    seen: set[str] = set()
    stale: list[str] = []
    for path in DOCUMENTS:
        text = path.read_text(encoding="utf-8")

        def replace(match: re.Match[str], path: Path = path) -> str:
            name = match["name"]
            if name not in fresh:
                raise SystemExit(f"{path.name}: unknown example {name!r}")
            seen.add(name)
            if match["body"] != fresh[name]:
                stale.append(name)
                diff = difflib.unified_diff(
                    match["body"].splitlines(), fresh[name].splitlines(), lineterm="", n=1
                )
                print(f"{path.relative_to(ROOT)}: example {name} differs:", *diff, sep="\n")
            return match[1] + fresh[name] + match[4]

        new = MARKED.sub(replace, text)
        if new != text and not args.check:
            path.write_text(new, encoding="utf-8")
    missing = sorted(set(EXAMPLES) - seen)
    if missing:
        print(f"no marker for example(s) {', '.join(missing)} in the docs", file=sys.stderr)
        return 1
    if stale and args.check:
        print(f"stale: {', '.join(stale)}: run scripts/readme_examples.py", file=sys.stderr)
        return 1
    print(f"{len(seen)} examples {'checked' if args.check else 'written'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
