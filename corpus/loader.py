"""Load a corpus directory into documents: the entry points the index builder calls.

A document id is ``{file name}:{n}``, n being the article's position in its file (for JSONL
its 1-based line number), so ids stay stable when other files are added or removed. Files
are read in name order; hidden files and unknown suffixes are ignored; an unreadable file or
line is reported as a `LoadProblem` and skipped, and the rest of the corpus still loads.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from corpus.documents import Document, LoadProblem
from corpus.formats import SUFFIXES, read_articles

HASH_BLOCK_BYTES = 1 << 20


@dataclass(frozen=True)
class Corpus:
    """Every document of a corpus directory, the problems met, and the files ignored."""

    documents: list[Document]
    problems: list[LoadProblem]
    ignored: list[str] = field(default_factory=list)
    """Names of files skipped for their suffix (information, not a problem)."""


def _visible_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise FileNotFoundError(f"corpus directory {directory} does not exist")
    files = (p for p in directory.iterdir() if p.is_file() and not p.name.startswith("."))
    return sorted(files, key=lambda p: p.name)


def corpus_files(directory: Path) -> list[Path]:
    """The supported files of `directory` (not recursive), sorted by name."""
    return [p for p in _visible_files(directory) if p.suffix.lower() in SUFFIXES]


def file_sha256(path: Path) -> str:
    """Hex sha256 of the file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(HASH_BLOCK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def load_file(path: Path) -> tuple[list[Document], list[LoadProblem]]:
    """All documents of one file and the problems met (pure given the file's bytes)."""
    try:
        data = path.read_bytes()
    except OSError as err:
        return [], [LoadProblem(path.name, f"cannot read file: {err.strerror or err}")]
    parsed, problems = read_articles(path.name, data)
    documents = [
        Document(
            doc_id=f"{path.name}:{p.position}",
            title=p.article.title,
            source=path.name,
            published=p.article.published,
            text=p.article.text,
            url=p.url,
            metadata=p.metadata,
        )
        for p in parsed
    ]
    return documents, problems


def load_corpus(directory: Path) -> Corpus:
    """Every document of `directory`; raises FileNotFoundError if it is not a directory."""
    documents: list[Document] = []
    problems: list[LoadProblem] = []
    for path in corpus_files(directory):
        docs, file_problems = load_file(path)
        documents += docs
        problems += file_problems
    supported = set(corpus_files(directory))
    ignored = [p.name for p in _visible_files(directory) if p not in supported]
    return Corpus(documents, problems, ignored)
