"""`GET /v1/documents` and `GET /v1/documents/{doc_id}`: the citable documents of the index."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import EngineDep
from service.errors import DocumentNotFound
from service.schemas import DocumentOut, DocumentSummaryOut, error_responses

router = APIRouter(prefix="/v1", tags=["documents"])


@router.get(
    "/documents", response_model=list[DocumentSummaryOut], responses=error_responses(429, 503)
)
async def list_documents(engine: EngineDep) -> list[DocumentSummaryOut]:
    """Every indexed document, in corpus order, without its text."""
    return [DocumentSummaryOut.model_validate(d) for d in engine.documents()]


@router.get(
    "/documents/{doc_id}", response_model=DocumentOut, responses=error_responses(404, 429, 503)
)
async def get_document(doc_id: str, engine: EngineDep) -> DocumentOut:
    """One document with its cleaned text; every offset of the API points into `text`."""
    summary = next((d for d in engine.documents() if d.doc_id == doc_id), None)
    if summary is None:
        raise DocumentNotFound(f"no document with id {doc_id!r}")
    document = engine.document(doc_id)
    return DocumentOut(
        doc_id=summary.doc_id,
        title=summary.title,
        source=summary.source,
        published=summary.published,
        n_chars=summary.n_chars,
        n_passages=summary.n_passages,
        text=document.text,
    )
