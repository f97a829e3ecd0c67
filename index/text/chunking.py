"""Cut cleaned documents into overlapping passages with exact offsets.

The splitter is langchain's RecursiveCharacterTextSplitter with Chinese-aware separators:
paragraph first, then sentence-final marks, then commas. It returns strings; we locate each in
the document so every chunk carries `[char_start, char_end)` and
`document.text[char_start:char_end] == chunk.text` holds by construction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from corpus.documents import Document
from index.types import Chunk

SEPARATORS: tuple[str, ...] = ("\n\n", "\n", "。", "！", "？", "；", "，", "、", " ", "")


@dataclass(frozen=True)
class ChunkingParams:
    """How documents are cut; recorded in the index manifest."""

    size: int = 300
    overlap: int = 60
    separators: tuple[str, ...] = SEPARATORS

    def __post_init__(self) -> None:
        if self.size < 20:
            raise ValueError(f"chunk size must be at least 20 characters, got {self.size}")
        if not 0 <= self.overlap < self.size:
            raise ValueError(f"chunk overlap must be in [0, size), got {self.overlap}")

    @classmethod
    def from_manifest(cls, recorded: Mapping[str, object]) -> ChunkingParams:
        """The parameters an index manifest records under ``chunking`` (defaults for any it
        does not name)."""
        default = cls()
        size = recorded.get("size", default.size)
        overlap = recorded.get("overlap", default.overlap)
        separators = recorded.get("separators", default.separators)
        assert isinstance(size, int) and isinstance(overlap, int)
        assert isinstance(separators, list | tuple)
        return cls(size=size, overlap=overlap, separators=tuple(str(s) for s in separators))


def make_splitter(params: ChunkingParams) -> RecursiveCharacterTextSplitter:
    """The langchain splitter for `params` (separators kept at the end of each piece)."""
    return RecursiveCharacterTextSplitter(
        chunk_size=params.size,
        chunk_overlap=params.overlap,
        separators=list(params.separators),
        keep_separator="end",
        strip_whitespace=True,
        length_function=len,
    )


def locate_chunks(text: str, pieces: list[str]) -> list[tuple[int, int]]:
    """Offsets of each piece in `text`, searching forward from the previous piece's start.

    Pieces come in document order and may overlap, so each is searched from just after the
    previous start; a piece not found verbatim is a splitter bug and raises.
    """
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in pieces:
        start = text.find(piece, cursor)
        if start < 0:
            raise ValueError(f"chunk not found verbatim in its document: {piece[:40]!r}")
        spans.append((start, start + len(piece)))
        cursor = start + 1
    return spans


def chunk_document(document: Document, params: ChunkingParams) -> list[Chunk]:
    """The passages of one document, in order."""
    pieces = [p for p in make_splitter(params).split_text(document.text) if p.strip()]
    return [
        Chunk(doc_id=document.doc_id, char_start=a, char_end=b, text=document.text[a:b])
        for a, b in locate_chunks(document.text, pieces)
    ]
