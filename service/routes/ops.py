"""Operations: liveness, readiness and Prometheus metrics (not rate limited)."""

from __future__ import annotations

from fastapi import Response

from index.errors import BackendUnavailableError
from service.deps import StateDep
from service.errors import NotReady
from service.metrics import CONTENT_TYPE_LATEST
from service.routing import api_router
from service.schemas import ReadyResponse, StatusResponse, error_responses

router = api_router(tags=["operations"])


@router.get("/healthz", response_model=StatusResponse)
async def healthz() -> StatusResponse:
    """200 while the process runs."""
    return StatusResponse(status="ok")


@router.get(
    "/readyz",
    response_model=ReadyResponse,
    response_model_exclude_none=True,
    responses=error_responses(503),
)
async def readyz(state: StateDep) -> ReadyResponse:
    """200 once the index is loaded and its backend answers (Milvus, within its timeout);
    503 before, or while the backend does not answer. Serving the document store, it names
    the store generation (`version`) and the number of segments this replica's view reads,
    so replicas behind one balancer can be compared."""
    if state.engine is None:
        raise NotReady("the index is not loaded yet")
    if state.library is not None:
        try:
            await state.run_cpu(state.library.backend.ping)
        except BackendUnavailableError as exc:
            raise NotReady(f"the index backend does not answer: {exc}") from exc
        library = state.library
        return ReadyResponse(
            status="ready", version=library.version, segments=library.segment_count
        )
    return ReadyResponse(status="ready")


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
)
async def metrics(state: StateDep) -> Response:
    """Request counts and latency histograms by route and status; index size."""
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
