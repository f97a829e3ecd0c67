"""`ragqa add`, `ragqa rm`, `ragqa collections`: the document store from the terminal.

Each works on the local store (`RAGQA_DATA_DIR`, `RAGQA_STORE_URL`) or, with `--url` and
`--api-key`, on a running service through the HTTP API. A running service picks up local
writes within a second. Files are read by the same `corpus/` code as the service's uploads;
long work shows a progress bar, and every file or line not stored is listed with the reason.
Exit code 1 when nothing could be stored or the service refused the request.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from corpus.console import fail
from index.errors import domain_errors
from index.settings import load_settings
from service.urls import api_path

if TYPE_CHECKING:
    from index.store.library import Library
    from index.store.writes import NewDocument

UrlOpt = Annotated[
    str | None,
    typer.Option("--url", help="a running service, e.g. http://127.0.0.1:8000 [env RAGQA_URL]"),
]
KeyOpt = Annotated[
    str | None,
    typer.Option("--api-key", help="its API key [env RAGQA_API_KEY]", show_default=False),
]
CollectionOpt = Annotated[
    str, typer.Option("--collection", "-c", help="collection (created if missing)")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")]
BATCH_DOCUMENTS = 200
"""Documents per local write (one segment each) and files per HTTP request at most."""
JOB_POLL_S = 0.5
"""How often `ragqa add --url` asks for its job's progress."""
HTTP_BATCH_BYTES = 200_000
"""File bytes per HTTP request at most (one larger file goes alone): a character of text is
at least one byte, so a batch stays under the service's default RAGQA_MAX_BATCH_CHARS."""

out = Console(soft_wrap=True)  # a skip report line is never cut inside a path


@dataclass
class Outcome:
    """What `ragqa add` did, for the summary and the skip report."""

    created: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicate: list[str] = field(default_factory=list)
    """Alias ids of the inputs stored as aliases of a document they are copies of."""
    skipped: list[tuple[str, str]] = field(default_factory=list)
    unlisted: int = 0
    """Skipped inputs the service counted but did not list (it lists the first 100)."""
    written: list[tuple[str, str, str, str]] = field(default_factory=list)
    """(status, doc_id, title, input item) of every document written, in order."""
    aliases: list[tuple[str, str, str, float]] = field(default_factory=list)
    """(input item, alias id, doc_id of the first copy, similarity) of every duplicate."""
    ocr_pages: int = 0

    def record(
        self, written: list[dict[str, Any]], skipped: list[dict[str, Any]], count: int = 0
    ) -> None:
        for item in written:
            if item["status"] == "duplicate":
                self.duplicate.append(item["alias_id"])
                self.aliases.append(
                    (item["item"], item["alias_id"], item["doc_id"], item["similarity"])
                )
                continue
            getattr(self, item["status"]).append(item["doc_id"])
            self.written.append(
                (item["status"], item["doc_id"], item.get("title", ""), item.get("item", ""))
            )
        self.skipped += [(s["item"], s["reason"]) for s in skipped]
        self.unlisted += max(0, count - len(skipped))


def expand(paths: list[Path]) -> Iterator[Path]:
    """Files given, and the files of directories given (recursively, hidden ones left out)."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.parts)
            )
        else:
            yield path


def _errors(*more: type[BaseException]) -> tuple[type[BaseException], ...]:
    return (*domain_errors(), *more)


def _remote(url: str | None) -> str | None:
    return (url or os.environ.get("RAGQA_URL") or "").rstrip("/") or None


def _client(url: str, api_key: str | None) -> Any:
    import httpx

    key = api_key or os.environ.get("RAGQA_API_KEY")
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=url, headers=headers, timeout=600)


def _check(response: Any) -> Any:
    if response.status_code >= 400:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:200]
        request = response.request
        fail(f"{request.method} {request.url.path}: {response.status_code} {message}")
    return response.json()


def _open_library(quiet: bool) -> Library:
    from index.opening import open_library

    settings = load_settings()
    try:
        return open_library(settings, sync=False)
    except domain_errors() as exc:
        fail(str(exc))


def _report(outcome: Outcome, collection: str) -> None:
    out.print(
        f"{collection}: {len(outcome.created)} created, {len(outcome.replaced)} replaced, "
        f"{len(outcome.unchanged)} unchanged (not re-embedded), "
        f"{len(outcome.skipped) + outcome.unlisted} skipped"
        # named only when there are some: the line is as it was for an add without copies
        + (
            f", {len(outcome.duplicate)} duplicates (stored as aliases)"
            if outcome.duplicate
            else ""
        )
    )
    if outcome.written:
        out.print("documents (the doc_id is what `ragqa rm` takes):")
        for status, doc_id, title, item in outcome.written:
            out.print(Text(f"  {status:9s} {doc_id}  {title}  ({item})"))
    if outcome.aliases:
        out.print(
            "duplicates (copies of a stored document, kept as its aliases; "
            f"`ragqa rm ALIAS_ID --collection {collection}` removes one):"
        )
        for item, alias_id, doc_id, similarity in outcome.aliases:
            out.print(Text(f"  {item}: alias {alias_id} of {doc_id} (similarity {similarity:.2f})"))
    if outcome.skipped:
        out.print("skip report:")
        for item, reason in outcome.skipped:
            out.print(Text(f"  {item}: {reason}"))
        if outcome.unlisted:
            out.print(f"  … and {outcome.unlisted} more (the service lists the first 100)")
    # The fields of a job's report (`GET /v1/jobs/{id}`), in one line a script can read.
    out.print(
        f"report: {len(outcome.created)} added, {len(outcome.replaced)} updated, "
        f"{len(outcome.unchanged)} unchanged, {len(outcome.duplicate)} duplicates, "
        f"{len(outcome.skipped) + outcome.unlisted} skipped, {outcome.ocr_pages} OCR pages"
    )


def add(
    paths: Annotated[list[Path], typer.Argument(help="text, PDF, Word or EPUB files, or folders")],
    collection: CollectionOpt = "default",
    url: UrlOpt = None,
    api_key: KeyOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Add articles from files to a collection (same content again: nothing re-embedded)."""
    from tqdm import tqdm

    from corpus.formats import SUFFIXES
    from service.document_schemas import collection_name

    try:
        collection_name(collection)
    except ValueError as exc:
        fail(f"--collection: {exc}", code=2)
    quiet = quiet or bool(os.environ.get("CI"))
    outcome = Outcome()
    files: list[Path] = []
    for path in expand(paths):
        if not path.exists():
            outcome.skipped.append((str(path), "no such file"))
        elif path.suffix.lower() not in SUFFIXES:
            outcome.skipped.append((str(path), "unsupported file type"))
        else:
            files.append(path)
    base = _remote(url)
    pages = [_pages(path) for path in files]
    bar = tqdm(total=sum(pages), unit="page", disable=quiet, desc=f"adding to {collection}")
    if base is not None:
        _add_remote(base, api_key, collection, files, pages, outcome, bar)
    else:
        _add_local(collection, files, pages, outcome, bar, quiet)
    bar.close()
    _report(outcome, collection)
    # As `ragqa build` and `ragqa corpus inspect`: 1 when anything was skipped (what could be
    # stored was stored), so a script notices a partial add.
    if outcome.skipped or outcome.unlisted:
        raise typer.Exit(1)


def _pages(path: Path) -> int:
    """The progress bar's pages of a file: a PDF's page count, else one."""
    if path.suffix.lower() != ".pdf":
        return 1
    from corpus.pdf import page_count

    try:
        return page_count(path.read_bytes()) or 1
    except OSError:
        return 1


def _add_remote(
    base: str,
    api_key: str | None,
    collection: str,
    files: list[Path],
    pages: list[int],
    outcome: Outcome,
    bar: Any,
) -> None:
    with _client(base, api_key) as client:
        _check(client.put(api_path("v1", "collections", collection)))
        batch: list[Path] = []
        size = 0
        for path in [*files, None]:
            more = 0 if path is None else path.stat().st_size
            full = path is None or len(batch) >= BATCH_DOCUMENTS or size + more > HTTP_BATCH_BYTES
            if full and batch:
                _post_files(client, collection, batch, outcome, bar, pages)
                batch, size = [], 0
            if path is not None:
                batch.append(path)
                size += more


def _post_files(
    client: Any,
    collection: str,
    batch: list[Path],
    outcome: Outcome,
    bar: Any = None,
    pages: list[int] | None = None,
) -> None:
    """Send `batch` as one upload job (`?wait=false`), follow its progress, record its report.

    A job stores the files that read and lists each refused one; what the service refuses
    for the request as a whole (a body over its size limit) is retried file by file."""
    start = bar.n if bar is not None else 0
    parts = [("files", (p.name, p.read_bytes())) for p in batch]
    response = client.post(
        api_path("v1", "collections", collection, "documents"),
        params={"wait": "false"},
        files=parts,
    )
    if response.status_code in (413, 415, 422) and len(batch) > 1:
        for path in batch:  # find the file the service refused; store the others
            _post_files(client, collection, [path], outcome, bar)
        return
    if response.status_code in (413, 415, 422):
        outcome.skipped.append((str(batch[0]), response.json()["error"]["message"]))
        if bar is not None:
            bar.update(1)
        return
    job = _follow(client, _check(response), bar, start)
    report = job["report"] or {}
    by_name = {p.name: p for p in batch}
    skipped = [_as_local(s, by_name) for s in report.get("skipped", [])]
    outcome.record(report.get("documents", []), skipped)
    outcome.ocr_pages += report.get("ocr_pages", 0)
    if job["state"] == "failed":
        fail(f"job {job['job_id']}: {job['error']}")
    if bar is not None:
        bar.update(max(0, start + sum(_pages(p) for p in batch) - bar.n))


def _as_local(skipped: dict[str, str], by_name: dict[str, Path]) -> dict[str, str]:
    """A job's skip line as the local add words it: the path given, the reason naming the
    file (a job's report says `{"item": "a.pdf", "reason": "encrypted PDF: …"}`)."""
    item, reason = skipped["item"], skipped["reason"]
    path = by_name.get(item)
    if path is None:
        return skipped
    return {"item": str(path), "reason": reason if reason.startswith(item) else f"{item}: {reason}"}


def _follow(client: Any, job: dict[str, Any], bar: Any, start: int) -> dict[str, Any]:
    """Poll the job until it ends, moving the bar with its reading progress."""
    import time

    while job["state"] in ("queued", "running"):
        time.sleep(JOB_POLL_S)
        job = _check(client.get(job["url"]))
        progress = job["progress"]
        if bar is not None and progress["phase"] == "reading":
            bar.update(max(0, start + progress["done"] - bar.n))
    return job


def _add_local(
    collection: str,
    files: list[Path],
    pages: list[int],
    outcome: Outcome,
    bar: Any,
    quiet: bool,
) -> None:
    from index.errors import InvalidDocumentError
    from index.store.writes import Skipped, check_document
    from service.errors import ApiError
    from service.uploads import file_documents

    library = _open_library(quiet)
    try:
        library.create_collection(collection)
        documents: list[NewDocument] = []
        skipped: list[Skipped] = []
        settings = load_settings()
        for path, estimate in zip(files, pages, strict=True):
            start = bar.n
            ocred: list[bool] = []

            def on_page(
                number: int, ocr: bool, start: int = start, ocred: list[bool] = ocred
            ) -> None:
                ocred.append(ocr)
                bar.update(max(0, start + number - bar.n))

            # A file the service would refuse is skipped and reported, as `--url` mode does.
            try:
                found, lines = file_documents(
                    path.name,
                    path.read_bytes(),
                    max_pdf_pages=settings.max_pdf_pages,
                    on_page=on_page,
                )
                for doc in found:
                    check_document(doc)
            except ApiError as exc:
                outcome.skipped.append((str(path), exc.message))
            except InvalidDocumentError as exc:
                outcome.skipped.append((str(path), str(exc)))
            else:
                documents += found
                skipped += lines
                outcome.ocr_pages += sum(ocred)
            bar.update(max(0, start + estimate - bar.n))
        for start in range(0, len(documents), BATCH_DOCUMENTS):
            batch = documents[start : start + BATCH_DOCUMENTS]
            report = library.add(collection, batch, skipped=skipped, progress=not quiet)
            skipped = []
            outcome.record(
                [w.__dict__ for w in report.documents], [s.__dict__ for s in report.skipped]
            )
        library.merge()
    except _errors(ValueError) as exc:
        fail(str(exc))
    finally:
        library.close()


def rm(
    doc_id: Annotated[str, typer.Argument(help="the document id")],
    collection: Annotated[
        str | None, typer.Option("--collection", "-c", help="its collection (looked up if omitted)")
    ] = None,
    url: UrlOpt = None,
    api_key: KeyOpt = None,
) -> None:
    """Delete a document from the store and the index."""
    base = _remote(url)
    if base is not None:
        with _client(base, api_key) as client:
            if collection is None:
                collection = _check(client.get(api_path("v1", "documents", doc_id)))["collection"]
            _check(client.delete(api_path("v1", "collections", collection, "documents", doc_id)))
    else:
        library = _open_library(True)
        try:
            if collection is None:
                collection = library.collection_of(doc_id)  # a document's or an alias's
            library.delete(collection, doc_id)
        except _errors(LookupError) as exc:
            fail(f"no document {doc_id!r}" if isinstance(exc, LookupError) else str(exc))
        finally:
            library.close()
    out.print(f"deleted {doc_id} from {collection}")


def collections(
    create: Annotated[str | None, typer.Option("--create", help="create this collection")] = None,
    drop: Annotated[
        str | None, typer.Option("--drop", help="drop this collection and its documents")
    ] = None,
    url: UrlOpt = None,
    api_key: KeyOpt = None,
) -> None:
    """List the collections (or create or drop one)."""
    from service.document_schemas import collection_name

    for option, value in (("--create", create), ("--drop", drop)):
        if value is not None:
            try:
                collection_name(value)
            except ValueError as exc:
                fail(f"{option}: {exc}", code=2)
    base = _remote(url)
    if base is not None:
        with _client(base, api_key) as client:
            if create is not None:
                _check(client.put(api_path("v1", "collections", create)))
            if drop is not None:
                _check(client.delete(api_path("v1", "collections", drop)))
            rows = [
                (c["name"], c["documents"], c["created_at"])
                for c in _check(client.get("/v1/collections"))
            ]
    else:
        library = _open_library(True)
        try:
            if create is not None:
                library.create_collection(create)
            if drop is not None:
                library.drop_collection(drop)
            rows = [(c.name, c.documents, c.created_at) for c in library.collections()]
        except _errors(LookupError) as exc:
            fail(f"no collection {drop!r}" if isinstance(exc, LookupError) else str(exc))
        finally:
            library.close()
    table = Table("collection", "documents", "created")
    for name, count, created in rows:
        table.add_row(name, str(count), created)
    out.print(table)
