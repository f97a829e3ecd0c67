"""Route dependencies: the app state, its settings and the live engine, as `Annotated` types."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from index.engine import Engine
from index.settings import Settings
from service.errors import NotReady
from service.state import AppState


async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.ragqa
    return state


async def get_settings(state: Annotated[AppState, Depends(get_state)]) -> Settings:
    return state.settings


async def get_engine(state: Annotated[AppState, Depends(get_state)]) -> Engine:
    """The engine at the start of this request (read once; a reload does not affect it)."""
    engine = state.engine
    if engine is None:
        raise NotReady("the index is not loaded yet; retry shortly")
    return engine


StateDep = Annotated[AppState, Depends(get_state)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
