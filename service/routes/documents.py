"""`GET /v1/documents` and `GET /v1/documents/{doc_id}`: the citable documents of the index."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from index.engine import Engine
from service.deps import EngineDep
from service.errors import CollectionNotFound
from service.routing import api_router
from service.schemas import AliasOut, DocumentOut, DocumentSummaryOut, error_responses

router = api_router(prefix="/v1", tags=["documents"])


@router.get(
    "/documents",
    response_model=list[DocumentSummaryOut],
    responses=error_responses(404, 429, 503),
)
async def list_documents(
    engine: EngineDep,
    collection: Annotated[
        str | None, Query(description="only this collection", examples=["default"])
    ] = None,
) -> list[DocumentSummaryOut]:
    """Every indexed document (of one collection, if given), in index order, without text."""
    if collection is not None and collection not in engine.catalog.names:
        raise CollectionNotFound(f"no collection named {collection!r}")
    return [DocumentSummaryOut.model_validate(d) for d in engine.contents.documents(collection)]


@router.get(
    "/documents/{doc_id}", response_model=DocumentOut, responses=error_responses(404, 429, 503)
)
async def get_document(doc_id: str, engine: EngineDep) -> DocumentOut:
    """One document with its cleaned text; every offset of the API points into `text`."""
    return document_out(engine, doc_id)  # DocumentNotFoundError → 404 in service/errors.py


def document_out(engine: Engine, doc_id: str) -> DocumentOut:
    """The `DocumentOut` of a live document (shared by this route and the MCP tool)."""
    document = engine.contents.document(doc_id)
    news = engine.contents.news_of(document)
    return DocumentOut(
        doc_id=document.doc_id,
        title=document.title,
        source=document.source,
        published=document.published,
        n_chars=len(document.text),
        n_passages=engine.contents.n_passages_of(doc_id),
        collection=engine.contents.collection_of(doc_id),
        byline=news.byline,
        reporters=list(news.reporters),
        newspaper=news.newspaper,
        paper_page=news.paper_page,
        place=news.place,
        text=document.text,
        url=document.url,
        metadata=dict(engine.contents.metadata_of(doc_id)),
        aliases=[AliasOut.model_validate(a) for a in engine.contents.aliases_of(doc_id)],
    )
