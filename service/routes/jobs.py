"""`GET /v1/jobs/{job_id}`: the state, progress and report of an upload that runs as a job
(`service.upload_jobs`). It needs the API key, as the write that started the job."""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Path

from index.store.jobs import Jobs
from service.auth import require_key
from service.deps import StateDep
from service.errors import JobNotFound, StoreUnavailable
from service.job_schemas import JobOut, job_out
from service.routing import api_router
from service.schemas import error_responses

router = api_router(prefix="/v1", tags=["collections"])


@router.get(
    "/jobs/{job_id}",
    response_model=JobOut,
    responses=error_responses(401, 404, 503),
    dependencies=[Depends(require_key)],
)
async def get_job(
    job_id: Annotated[
        str, Path(description="as returned by a 202 upload", examples=["9f1c2a7d3b4e5f60"])
    ],
    state: StateDep,
) -> JobOut:
    """A job: `queued`, `running` (with progress), `done` (with its report) or `failed`."""
    if state.library is None:
        raise StoreUnavailable("this app serves a fixed index: the documents API is off")
    job = await anyio.to_thread.run_sync(Jobs(state.library.store).get, job_id)
    if job is None:
        raise JobNotFound(f"no job {job_id[:100]!r}")
    return job_out(job)
