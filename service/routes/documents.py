"""`GET /v1/documents` and `GET /v1/documents/{doc_id}`: the citable documents of the index."""

from __future__ import annotations

from service.deps import EngineDep
from service.routing import api_router
from service.schemas import DocumentOut, DocumentSummaryOut, error_responses

router = api_router(prefix="/v1", tags=["documents"])


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
    document = engine.document(doc_id)  # DocumentNotFoundError → 404 in service/errors.py
    return DocumentOut(
        doc_id=document.doc_id,
        title=document.title,
        source=document.source,
        published=document.published,
        n_chars=len(document.text),
        n_passages=engine.n_passages_of(doc_id),
        text=document.text,
    )
