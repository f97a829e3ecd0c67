"""`POST /retrieval`: Dify's External Knowledge API (see `service.dify` for the mapping).

Register the service in Dify as an external knowledge API with the endpoint `http://HOST:PORT`
(Dify appends `/retrieval`) and the key `RAGQA_DIFY_API_KEY` (or, when that is unset,
`RAGQA_API_KEY`); the External Knowledge ID is a collection name, `default` for now. With no
key configured the route is open, like the other query routes. Errors use Dify's shape
(`service.errors`): 1001 and 1002 (403) for the Authorization header, 2001 (404) for an
unknown knowledge id.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from typing import Annotated

import numpy as np
from fastapi import Depends, Header, Request

from corpus.documents import Document
from index.engine import Engine
from index.types import Allowed, Filters, Passage
from service import queries
from service.deps import EngineDep, StateDep
from service.dify import (
    STAMP_FIELDS,
    ConditionError,
    DifyRetrievalRequest,
    DifyRetrievalResponse,
    DocumentTest,
    Facts,
    plain,
    scope_key_error,
    to_filters,
    to_mask,
    to_records,
)
from service.errors import (
    DifyAuthorizationFailed,
    DifyInvalidAuthorization,
    InvalidRequest,
    KnowledgeNotFound,
)
from service.routing import api_router

router = api_router(tags=["dify"])

DIFY_ERRORS: dict[int | str, dict[str, object]] = {
    403: {
        "description": "error_code 1001: the Authorization header is not `Bearer <key>`; "
        "1002: wrong key"
    },
    404: {"description": "error_code 2001: the knowledge (collection) does not exist"},
    400: {"description": "malformed request: invalid JSON, undecodable bytes, not JSON"},
    413: {"description": "request body over the size limit"},
    422: {"description": "a field or condition is invalid; error_msg names it"},
    429: {"description": "rate limited; see Retry-After"},
}


async def require_dify_key(
    state: StateDep, authorization: Annotated[str | None, Header()] = None
) -> None:
    """Check `Authorization: Bearer <key>` against the Dify key (or the API key)."""
    settings = state.settings
    key = settings.dify_api_key or settings.api_key
    if key is None:
        return
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise DifyInvalidAuthorization(
            "Invalid Authorization header format. Expected 'Bearer <api-key>' format."
        )
    if not hmac.compare_digest(token.strip().encode(), key.get_secret_value().encode()):
        raise DifyAuthorizationFailed("Authorization failed: the API key is not valid.")


def _masked(
    engine: Engine,
    body: DifyRetrievalRequest,
    knowledge: str,
    sources: list[str],
    stamps: Callable[[str], dict[str, tuple[str, str]]],
) -> list[Passage]:
    """The passages of conditions `Filters` cannot say (`service.dify.to_mask`): each
    document of the collection is tested on its `Facts`."""
    condition = body.metadata_condition
    assert condition is not None
    contents = engine.contents
    stamped = (
        stamps(knowledge)
        if any(
            n.strip().lower() in STAMP_FIELDS for c in condition.conditions or [] for n in c.names
        )
        else {}
    )

    def by_filters(filters: Filters | None) -> np.ndarray:
        if filters is None:
            return np.zeros(len(contents.data.documents), dtype=np.bool_)
        allowed = contents.allowed([knowledge], filters)
        assert allowed is not None  # a collection always restricts
        return allowed.documents

    def by_test(test: DocumentTest) -> np.ndarray:
        def facts(doc: Document, metadata: Mapping[str, str]) -> bool:
            added, updated = stamped.get(doc.doc_id, (None, None))
            return test(
                Facts(
                    doc.published,
                    doc.source,
                    metadata,
                    added[:10] if added else None,
                    updated[:10] if updated else None,
                )
            )

        return contents.matching(knowledge, facts)

    try:
        mask = to_mask(condition, sources, by_filters, by_test)
    except ConditionError as exc:
        raise InvalidRequest(str(exc)) from exc
    return engine.search(body.query, body.retrieval_setting.top_k, allowed=Allowed(mask))


def _retrieve(
    engine: Engine,
    body: DifyRetrievalRequest,
    stamps: Callable[[str], dict[str, tuple[str, str]]],
) -> DifyRetrievalResponse:
    refused = scope_key_error(body)
    if refused is not None:
        raise InvalidRequest(refused)
    knowledge = body.knowledge_id.strip()
    if knowledge not in queries.collections_of(engine):
        raise KnowledgeNotFound(f"The knowledge does not exist: {knowledge[:64]!r}.")
    sources = queries.source_names(engine, knowledge)
    if not plain(body.metadata_condition):
        passages = _masked(engine, body, knowledge, sources, stamps)
    else:
        try:
            alternatives: list[Filters] = to_filters(body.metadata_condition, sources)
        except ConditionError as exc:
            raise InvalidRequest(str(exc)) from exc
        top_k = body.retrieval_setting.top_k
        # The alternatives of an `or` are one restriction (their union): one ranking, one scale.
        passages = queries.search(
            engine, body.query, top_k, collections=[knowledge], filters=alternatives
        )
    urls = {p.doc_id: engine.contents.document(p.doc_id).url for p in passages}
    return to_records(
        passages, body.retrieval_setting.score_threshold, urls, engine.fitted.relevance
    )


@router.post(
    "/retrieval",
    response_model=DifyRetrievalResponse,
    responses=DIFY_ERRORS,
    dependencies=[Depends(require_dify_key)],
    summary="Dify External Knowledge API",
)
async def retrieval(
    body: DifyRetrievalRequest, request: Request, engine: EngineDep, state: StateDep
) -> DifyRetrievalResponse:
    """Passages for Dify, best first, with `score` in 0..1 (strictly increasing in the
    engine's score, see `service.queries.relevance`) and the citation in `metadata`."""
    request.state.question_chars = len(body.query)
    library = state.library
    stamps = library.store.stamps if library is not None else (lambda _collection: {})
    return await state.run_cpu(_retrieve, engine, body, stamps)
