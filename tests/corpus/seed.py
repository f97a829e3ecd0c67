"""Shared helpers for the corpus tests: the real seed files, loaded once."""

from __future__ import annotations

from functools import cache

from corpus import DEFAULT_CORPUS_DIR, Document
from corpus.loader import load_file

F000 = "000_0ad1dae646fc90f2.txt"
F001 = "001_8546bbd5f1ad3438.txt"
F002 = "002_a6192bb7d02a95be.txt"
F003 = "003_9e92c380d67ef266.txt"
F004 = "004_0ab705ec73a87017.txt"
SEEDS = (F000, F001, F002, F003, F004)


def raw(name: str) -> str:
    """The seed file's text as captured."""
    return (DEFAULT_CORPUS_DIR / name).read_text(encoding="utf-8")


@cache
def docs(name: str) -> tuple[Document, ...]:
    """The documents of one seed file."""
    documents, problems = load_file(DEFAULT_CORPUS_DIR / name)
    assert problems == []
    return tuple(documents)


def text(name: str) -> str:
    """All cleaned text of one seed file."""
    return "\n\n".join(d.text for d in docs(name))


def titled(name: str, title_part: str) -> Document:
    """The one document of `name` whose title contains `title_part`."""
    found = [d for d in docs(name) if title_part in d.title]
    assert len(found) == 1, [d.title for d in docs(name)]
    return found[0]
