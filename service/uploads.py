"""Request bodies of `POST /v1/collections/{c}/documents`: JSON documents or uploaded files.

JSON is one document object or a list of up to 1,000; each is validated and an error names
it (``documents[3].title: ...``). A multipart upload carries `.txt`/`.md`/`.html`/`.jsonl`,
`.pdf`, `.docx` and `.epub` files, read by the same `corpus/` code as the bundled articles
(cleaning, splitting a page into articles; GB18030/GBK and Big5 recognised first, binary
formats never decoded as text); a bad line of a JSONL file is skipped and reported, a file
that yields nothing is refused naming the file (an encrypted PDF, a broken .docx). Every
file is checked for size, type and (a PDF) page count before any is read (`receive_upload`),
and a synchronous write stores nothing unless the whole request is valid; an upload that
runs as a job (`service.upload_jobs`) stores the good files and reports the refused ones.

Every format has the same caps per request (`check_batch`): 1,000 documents (a JSONL line
counts as one before it is read) and `RAGQA_MAX_BATCH_CHARS` characters of text, so one
request holds the writer for a bounded time. A title read from a file is the system's guess
(a headline of many lines, say): one over 500 characters is shortened, never refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from pathlib import PurePath
from typing import Any

import anyio.to_thread
from fastapi import Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from corpus.formats import SUFFIXES, is_binary_format, read_articles
from corpus.pdf import MAX_PDF_PAGES, PageCallback, page_count, too_many_pages
from index.store.writes import MAX_TITLE_CHARS, NewDocument, Skipped
from service.document_schemas import MAX_BATCH, DocumentIn
from service.errors import (
    ApiError,
    InvalidRequest,
    MalformedRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    validation_error,
)

SUPPORTED = ", ".join(sorted({".txt", ".md", ".html", ".jsonl", ".pdf", ".docx", ".epub"}))


def parse_document(raw: Any, item: str) -> NewDocument:
    """One JSON document, or InvalidRequest naming `item` and the field."""
    try:
        return DocumentIn.model_validate(raw).to_new(item)
    except ValidationError as exc:
        error = validation_error(exc.errors())
        raise type(error)(f"{item}.{error.message}" if item else error.message) from exc


def parse_json_documents(body: bytes) -> list[NewDocument]:
    """`{...}` or `[{...}, ...]` (at most MAX_BATCH) as documents."""
    try:
        raw = json.loads(body)
    except UnicodeDecodeError as exc:
        raise MalformedRequest("body: could not be decoded; send UTF-8 encoded JSON") from exc
    except json.JSONDecodeError as exc:
        raise MalformedRequest(f"body: malformed JSON ({exc.msg})") from exc
    if isinstance(raw, dict):
        return [parse_document(raw, "document")]
    if not isinstance(raw, list):
        raise InvalidRequest("body: must be a document object or a list of them")
    if not raw:
        raise InvalidRequest("body: the list of documents is empty")
    check_count(len(raw))
    return [parse_document(item, f"documents[{i}]") for i, item in enumerate(raw)]


def check_count(count: int) -> None:
    """InvalidRequest if one request carries more than MAX_BATCH documents."""
    if count > MAX_BATCH:
        raise InvalidRequest(
            f"body: at most {MAX_BATCH} documents per request, got {count:,}; send batches"
        )


def check_batch(documents: list[NewDocument], max_chars: int) -> None:
    """InvalidRequest if the batch is over the per-request caps (documents, characters)."""
    check_count(len(documents))
    chars = sum(len(d.text) for d in documents)
    if chars > max_chars:
        raise InvalidRequest(
            f"body: {chars:,} characters of text, over the limit of {max_chars:,} per request "
            "(RAGQA_MAX_BATCH_CHARS); send smaller batches"
        )


MAX_FORM_FIELDS = 100
"""Non-file fields of a multipart upload."""


@dataclass(frozen=True)
class ReceivedFile:
    name: str
    data: bytes
    pages: int = 1
    """Its work estimate (`estimate_pages`): a PDF's page count, else 1 per 20,000 bytes."""


@dataclass
class Upload:
    """The files of a multipart upload, and those refused before any was read (each error
    names its file: an unsupported type, over the size or page limit)."""

    files: list[ReceivedFile]
    refused: list[tuple[str, ApiError]]

    @property
    def pages(self) -> int:
        return sum(f.pages for f in self.files)


BYTES_PER_PAGE = 20_000
"""A non-PDF file counts one page of work per this many bytes (about 7,000 Chinese
characters in UTF-8, a few seconds of embedding on 2 cores)."""


async def receive_upload(request: Request, max_file_bytes: int, max_pdf_pages: int) -> Upload:
    """The uploaded files with their work estimate. What is wrong with the request as a whole
    (no file, too many files or JSONL lines, a part without a name) raises; a file that is
    wrong on its own is listed in `refused`."""
    form = await read_form(request)
    parts = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
    if not parts:
        raise InvalidRequest("files: no file in the upload; send files as multipart form data")
    named: list[tuple[str, UploadFile]] = []
    refused: list[tuple[str, ApiError]] = []
    for upload in parts:
        name = PurePath(upload.filename or "").name
        if not name:
            raise InvalidRequest("files: a file part has no file name")
        suffix = PurePath(name).suffix.lower()
        if suffix not in SUFFIXES:
            refused.append(
                (
                    name,
                    UnsupportedMediaType(f"{name}: unsupported file type; send {SUPPORTED} files"),
                )
            )
        elif upload.size is not None and upload.size > max_file_bytes:
            refused.append(
                (
                    name,
                    PayloadTooLarge(
                        f"{name}: {upload.size} bytes, over the limit of {max_file_bytes}"
                    ),
                )
            )
        else:
            named.append((name, upload))
    files: list[ReceivedFile] = []
    items = 0
    for name, upload in named:
        data = await upload.read()
        if len(data) > max_file_bytes:
            refused.append(
                (
                    name,
                    PayloadTooLarge(
                        f"{name}: {len(data)} bytes, over the limit of {max_file_bytes}"
                    ),
                )
            )
            continue
        # Each JSONL line is a document or a skipped line: counted before any is parsed.
        items += jsonl_lines(data) if PurePath(name).suffix.lower() == ".jsonl" else 1
        check_count(items)
        files.append(ReceivedFile(name, data))
    estimated = await anyio.to_thread.run_sync(estimate_pages, files, max_pdf_pages)
    kept = []
    for received, pages in zip(files, estimated, strict=True):
        if pages > max_pdf_pages:
            error = InvalidRequest(f"{received.name}: {too_many_pages(pages, max_pdf_pages)}")
            refused.append((received.name, error))
        else:
            kept.append(ReceivedFile(received.name, received.data, pages))
    return Upload(kept, refused)


def estimate_pages(files: list[ReceivedFile], max_pdf_pages: int) -> list[int]:
    """Each file's work in pages: a PDF's page count (read from its page tree, no page is
    opened; 1 when it cannot be opened), else one page per BYTES_PER_PAGE bytes."""
    estimates = []
    for received in files:
        if PurePath(received.name).suffix.lower() == ".pdf":
            estimates.append(page_count(received.data) or 1)
        else:
            estimates.append(max(1, -(-len(received.data) // BYTES_PER_PAGE)))
    return estimates


async def read_upload(
    upload: Upload, max_pdf_pages: int = MAX_PDF_PAGES
) -> tuple[list[NewDocument], list[Skipped]]:
    """The documents of every received file, and the lines skipped: the synchronous write,
    all of it or the first refusal raised (a file refused, or one that yields nothing)."""
    if upload.refused:
        raise upload.refused[0][1]
    documents: list[NewDocument] = []
    skipped: list[Skipped] = []
    for received in upload.files:
        # Cleaning is CPU work: off the event loop, so other requests are answered meanwhile.
        found, lines = await anyio.to_thread.run_sync(
            partial(file_documents, received.name, received.data, max_pdf_pages=max_pdf_pages)
        )
        documents += found
        skipped += lines
        check_count(len(documents) + len(skipped))
    return documents, skipped


async def read_form(request: Request) -> Any:
    """The multipart form, or a 422 saying which of its limits the upload exceeds."""
    from starlette.exceptions import HTTPException
    from starlette.formparsers import MultiPartException

    try:
        return await request.form(max_files=MAX_BATCH, max_fields=MAX_FORM_FIELDS)
    except (MultiPartException, HTTPException) as exc:
        # Starlette's words: "Too many files. Maximum number of files is 1000." (a 400).
        detail = str(getattr(exc, "message", None) or getattr(exc, "detail", ""))
        if "too many files" in detail.lower():
            raise InvalidRequest(
                f"files: more than {MAX_BATCH} files in one upload; send batches"
            ) from exc
        if "too many fields" in detail.lower():
            raise InvalidRequest(
                f"body: more than {MAX_FORM_FIELDS} form fields besides the files"
            ) from exc
        raise MalformedRequest(f"body: not a valid multipart upload ({detail})") from exc


def jsonl_lines(data: bytes) -> int:
    """Non-blank lines of a JSONL file (each one a document or a skipped line)."""
    return sum(1 for line in data.split(b"\n") if line.strip())


CHINESE_ENCODINGS = ("gb18030", "big5")


def as_utf8(data: bytes) -> bytes:
    """`data`, or its GB18030/GBK or Big5 text re-encoded as UTF-8 when it is not UTF-8.

    Older newsroom systems export GBK or Big5. The corpus build refuses such files (with a
    hint to convert them); an upload is decoded once here, and every offset points into the
    decoded text the store keeps. charset-normalizer is restricted to these encodings, so
    random bytes are not "recognised" as something and are refused naming the file."""
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=list(CHINESE_ENCODINGS)).best()
    if best is None or best.encoding not in CHINESE_ENCODINGS:
        return data
    return str(best).encode("utf-8")


def file_documents(
    name: str,
    data: bytes,
    *,
    max_pdf_pages: int = MAX_PDF_PAGES,
    on_page: PageCallback | None = None,
) -> tuple[list[NewDocument], list[Skipped]]:
    """The articles of one file, read as the corpus reads it, and the lines skipped; a file
    that yields nothing is InvalidRequest naming it (the HTTP upload, jobs and `ragqa add`).
    `on_page` is called after each page of a PDF (progress)."""
    parsed, problems = read_articles(
        name,
        data if is_binary_format(name) else as_utf8(data),
        max_pdf_pages=max_pdf_pages,
        on_page=on_page,
    )
    if not parsed:
        reason = "; ".join(str(p) for p in problems) or f"{name}: no article text found"
        raise InvalidRequest(reason if reason.startswith(name) else f"{name}: {reason}")
    skipped = [
        Skipped(f"{p.source}:{p.line}" if p.line is not None else p.source, p.message)
        for p in problems
    ]
    single = len(parsed) == 1
    documents = [
        NewDocument(
            title=shortened(p.article.title.strip() or PurePath(name).stem),
            text=p.article.text,
            published=p.article.published,
            url=p.url,
            source=name,
            metadata=dict(p.metadata),
            item=name if single else f"{name}:{p.position}",
        )
        for p in parsed
    ]
    return documents, skipped


def shortened(title: str) -> str:
    """A title read from a file, cut to MAX_TITLE_CHARS (ending in "…") when longer."""
    return title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 1] + "…"
