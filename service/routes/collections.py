"""Collections and document writes: `/v1/collections[/{c}[/documents[/{doc_id}]]]`.

Every write needs the API key (`Authorization: Bearer …`, as the reload route does); the key
is checked before the body is read. A write returns after its batch is committed to the
store and published to the index, so the documents are answerable as soon as the 200 (or
201) arrives. A bad input is refused as a whole, naming the field or file, and nothing
stored changes. A long upload runs as a job instead (`202`, `service.upload_jobs`).
"""

from __future__ import annotations

import time
from functools import partial
from typing import Annotated, Any

import anyio.to_thread
from fastapi import Body, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from index.store.library import Library
from index.store.records import COLLECTION_PATTERN
from index.store.writes import Skipped, WriteReport
from service.auth import require_key
from service.deps import StateDep
from service.document_schemas import (
    DOC_ID_SCHEMA_PATTERN,
    DOCUMENT_EXAMPLE,
    MAX_BATCH,
    MAX_SKIPPED_SHOWN,
    CollectionDeleted,
    CollectionOut,
    DocumentContent,
    DocumentDeleted,
    DocumentIn,
    SkippedOut,
    WriteResponse,
    WrittenOut,
)
from service.errors import (
    DocumentConflict,
    InvalidRequest,
    JobsBusy,
    MethodNotAllowed,
    StoreUnavailable,
    UnsupportedMediaType,
)
from service.job_schemas import JobOut, job_out
from service.routing import api_router, path_methods, path_segments
from service.schemas import error_responses
from service.state import AppState
from service.upload_jobs import MAX_QUEUED, UploadWork, skipped_file
from service.uploads import check_batch, parse_json_documents, read_upload, receive_upload

router = api_router(prefix="/v1", tags=["collections"])

CollectionPath = Annotated[
    str,
    Path(
        description="Collection name: 1 to 64 characters of any script (letters, digits, "
        "punctuation, symbols, inner spaces); not '/', '\\\\', ',' (a `collections=a,b` "
        "list splits on commas), control characters, spaces other than U+0020 or invisible "
        "and bidi-control characters (zero-width, U+202E, ...); not '.', no '..', no leading "
        "or trailing space.",
        examples=["default"],
        # The schema states the rule; `checked` enforces it (a 422 naming the rule).
        json_schema_extra={"pattern": COLLECTION_PATTERN, "maxLength": 64},
    ),
]
DocIdPath = Annotated[
    str,
    Path(
        description="Document id: 1 to 200 characters, no '/', spaces or control characters.",
        examples=["000_0ad1dae646fc90f2.txt:0"],
        json_schema_extra={"pattern": DOC_ID_SCHEMA_PATTERN},
    ),
]


DOC_ID_RULE = "1 to 200 characters, no '/', spaces or control characters, not '.' or '..'"


def library_of(state: AppState) -> Library:
    if state.library is None:
        raise StoreUnavailable("this app serves a fixed index: the documents API is off")
    return state.library


def checked_path(name: str, request: Request) -> str:
    """`checked` for the catch-all `{collection:path}` routes: a path that another route
    serves with other methods (PUT on `/v1/collections/c/documents`) is a 405, not a name."""
    if "/" in name:
        documented = path_methods(request)
        if documented and request.method not in documented:
            raise MethodNotAllowed(
                "method not allowed on this route", headers={"Allow": ", ".join(documented)}
            )
        segments = path_segments(request)
        if len(segments) == 5 and segments[3] == "documents":
            # `/v1/collections/c/documents/a%2Fb`: the id holds the slash, not the collection.
            checked(segments[2])
            raise InvalidRequest(f"doc_id: {DOC_ID_RULE}")
    return checked(name)


def checked(name: str) -> str:
    from index.store.records import check_collection_name

    try:
        return check_collection_name(name)
    except ValueError as exc:
        raise InvalidRequest(f"collection: {exc}") from exc


async def run_write(state: AppState, func: Any, *args: Any, **kwargs: Any) -> Any:
    """Writes run off the event loop, outside the query pool (queries keep their slots)."""
    return await anyio.to_thread.run_sync(partial(func, *args, **kwargs))


def write_response(report: WriteReport, started: float) -> WriteResponse:
    return WriteResponse(
        collection=report.collection,
        doc_ids=[d.doc_id for d in report.documents],
        documents=[WrittenOut(**d.__dict__) for d in report.documents],
        skipped=[SkippedOut(**s.__dict__) for s in report.skipped[:MAX_SKIPPED_SHOWN]],
        skipped_count=len(report.skipped),
        embedded_documents=report.embedded_documents,
        took_ms=round((time.perf_counter() - started) * 1000, 2),
    )


@router.get("/collections", response_model=list[CollectionOut], responses=error_responses(503))
async def list_collections(state: StateDep) -> list[CollectionOut]:
    """Every collection with its number of documents."""
    library = library_of(state)
    infos = await anyio.to_thread.run_sync(library.collections)
    return [CollectionOut(**i.__dict__) for i in infos]


DOCUMENT_IN = DocumentIn.model_json_schema()
"""Inlined: no route takes `DocumentIn` as its declared body, so it is not a component."""
POST_BODY: dict[str, Any] = {
    "required": True,
    "description": f"One document, a list of up to {MAX_BATCH}, or uploaded files.",
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    DOCUMENT_IN,
                    {
                        "type": "array",
                        "items": DOCUMENT_IN,
                        "minItems": 1,
                        "maxItems": MAX_BATCH,
                    },
                ]
            },
            "examples": {
                "one": {"summary": "one document", "value": DOCUMENT_EXAMPLE},
                "batch": {
                    "summary": "a batch",
                    "value": [
                        DOCUMENT_EXAMPLE,
                        {
                            "title": "预切分的文章",
                            "passages": ["第一段：酒泉风电装机突破两千万千瓦。", "第二段：..."],
                            "metadata": {"lang": "zh"},
                        },
                    ],
                },
            },
        },
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "files": {
                        "type": "array",
                        "items": {"type": "string", "format": "binary"},
                        "description": ".txt, .md, .html, .jsonl, .pdf, .docx or .epub files",
                    }
                },
                "required": ["files"],
            }
        },
    },
}


WaitQuery = Annotated[
    bool | None,
    Query(
        description="true: answer when the write is done (200); false: run it as a job and "
        "answer 202 at once; omitted: a job when the upload's estimate is over "
        "RAGQA_JOB_PAGES pages (a PDF page counts one, every 20,000 bytes of another file one)"
    ),
]


@router.post(
    "/collections/{collection}/documents",
    response_model=WriteResponse,
    responses={
        202: {"model": JobOut, "description": "Accepted: runs as a job (see `Location`)"},
        **error_responses(400, 401, 404, 409, 413, 415, 422, 503),
    },
    dependencies=[Depends(require_key)],
    openapi_extra={"requestBody": POST_BODY},
)
async def add_documents(
    collection: CollectionPath, request: Request, state: StateDep, wait: WaitQuery = None
) -> Any:
    """Add documents: JSON `{title, text, published?, url?, source?, metadata?, passages?}` or
    a list of up to 1,000, or a multipart upload of `.txt`/`.md`/`.html`/`.jsonl`, `.pdf`,
    `.docx` or `.epub` files (up to 1,000 documents and JSONL lines in all). One request
    carries at most `RAGQA_MAX_BATCH_CHARS` (200,000) characters of text; each text at most
    100,000.

    Returns the stored ids (`created`, or `unchanged` when the same content was posted before:
    same id, nothing re-embedded) and what was skipped and why (the first 100, and
    `skipped_count`). A long upload (see `wait`) answers `202` with the job instead
    (`Location: /v1/jobs/{job_id}`): it stores the files that read, lists each refused one
    with the reason, and is not bound by the character cap."""
    started = time.perf_counter()
    library = library_of(state)
    settings = state.settings
    name = checked(collection)
    await anyio.to_thread.run_sync(library.check_collection, name)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    skipped: list[Skipped] = []
    if kind == "application/json":
        documents = parse_json_documents(await request.body())
        if wait is False:
            return await start_job(state, UploadWork(name, documents=documents))
    elif kind == "multipart/form-data":
        upload = await receive_upload(request, settings.max_file_bytes, settings.max_pdf_pages)
        if wait is False or (wait is None and upload.pages > settings.job_pages):
            refused = [skipped_file(file, error) for file, error in upload.refused]
            work = UploadWork(name, files=upload.files, skipped=refused)
            return await start_job(state, work)
        documents, skipped = await read_upload(upload, settings.max_pdf_pages)
    else:
        raise UnsupportedMediaType(
            f"content-type: {kind or 'missing'}; send application/json or multipart/form-data"
        )
    check_batch(documents, settings.max_batch_chars)
    report = await run_write(state, library.add, name, documents, skipped=skipped)
    return write_response(report, started)


async def start_job(state: AppState, work: UploadWork) -> JSONResponse:
    """Queue `work` and answer 202 with the job and its `Location`."""
    if state.jobs is None:
        raise StoreUnavailable("this app serves a fixed index: the documents API is off")
    job = await anyio.to_thread.run_sync(state.jobs.submit, work)
    if job is None:
        raise JobsBusy(
            f"{MAX_QUEUED} upload jobs are waiting already; retry later", {"Retry-After": "30"}
        )
    body = job_out(job)
    return JSONResponse(body.model_dump(), status_code=202, headers={"Location": body.url})


@router.put(
    "/collections/{collection}/documents/{doc_id}",
    response_model=WriteResponse,
    responses=error_responses(400, 401, 404, 409, 413, 422, 503),
    dependencies=[Depends(require_key)],
)
async def replace_document(
    collection: CollectionPath,
    doc_id: DocIdPath,
    state: StateDep,
    body: Annotated[DocumentContent, Body(examples=[DOCUMENT_EXAMPLE])],
) -> WriteResponse:
    """Replace the document `doc_id` (or create it with that id)."""
    import re

    started = time.perf_counter()
    library = library_of(state)
    name = checked(collection)
    if not re.fullmatch(DOC_ID_SCHEMA_PATTERN, doc_id):
        raise InvalidRequest(f"doc_id: {DOC_ID_RULE}")
    new = body.to_new("document")
    new = type(new)(**{**new.__dict__, "doc_id": doc_id})
    report = await run_write(state, library.add, name, [new], replace_existing=True)
    if report.skipped:
        raise DocumentConflict(f"doc_id: {report.skipped[0].reason}")
    return write_response(report, started)


@router.delete(
    "/collections/{collection}/documents/{doc_id}",
    response_model=DocumentDeleted,
    responses=error_responses(401, 404, 422, 503),
    dependencies=[Depends(require_key)],
)
async def delete_document(
    collection: CollectionPath, doc_id: DocIdPath, state: StateDep
) -> DocumentDeleted:
    """Delete a document from the store and the index (effective for the next request)."""
    library = library_of(state)
    await run_write(state, library.delete, checked(collection), doc_id)
    return DocumentDeleted(doc_id=doc_id, collection=collection)


# Registered last, with a path converter: a name containing '/' reaches the handler and is
# refused with 422 naming it, instead of falling through to a 404 for an unknown route.
@router.put(
    "/collections/{collection:path}",
    response_model=CollectionOut,
    status_code=201,
    responses={
        200: {"model": CollectionOut, "description": "Already existed"},
        **error_responses(401, 404, 422, 503),
    },
    dependencies=[Depends(require_key)],
)
async def create_collection(
    collection: CollectionPath, state: StateDep, request: Request, response: Response
) -> CollectionOut:
    """Create a collection (201), or leave an existing one as it is (200)."""
    library = library_of(state)
    name = checked_path(collection, request)
    created = await run_write(state, library.create_collection, name)
    response.status_code = 201 if created else 200
    info = await anyio.to_thread.run_sync(library.store.collection, collection)
    return CollectionOut(**info.__dict__)


@router.delete(
    "/collections/{collection:path}",
    response_model=CollectionDeleted,
    responses=error_responses(401, 404, 422, 503),
    dependencies=[Depends(require_key)],
)
async def drop_collection(
    collection: CollectionPath, state: StateDep, request: Request
) -> CollectionDeleted:
    """Drop a collection with all its documents (from the store and, at once, the index)."""
    library = library_of(state)
    name = checked_path(collection, request)
    deleted = await run_write(state, library.drop_collection, name)
    return CollectionDeleted(name=collection, deleted_documents=deleted)
