"""The MCP server: tools `search`, `ask` and `get_document` over the engine, for agents.

Two transports, the same tools (`build_server`):

- streamable HTTP inside the service, at `/mcp` (`mount`): stateless, JSON responses, with
  the SDK's DNS-rebinding protection (allowed Host and Origin headers: loopback, the bind
  address, `RAGQA_MCP_ALLOWED_HOSTS`, and the CORS origins). The app's lifespan runs the
  session manager. The route is not in /openapi.json: it speaks JSON-RPC, described by MCP.
- stdio (`run_stdio`, the `ragqa mcp` command), the transport desktop clients start; it opens
  the same document library as the service (`RAGQA_DATA_DIR`), so agents see every collection.

Each tool returns structured content (the same JSON as `/v1/search`, `/v1/ask` and
`/v1/documents/{id}`, with its output schema) and a short text rendering for clients that
show text (`search` names its question `question`, as `ask` does). The scope arguments are
`service.scope`'s, as in `/v1/ask`'s body: `collections` and `filters` (`published_from`,
`published_to`, `source`, `metadata`, `reporter`, `newspaper`, `paper_page`, `place`). Like
those routes, the tools need no key. Bad arguments (an empty question, `top_k` outside 1..50,
a bad filter date, an unknown key such as `sources`, an unknown collection or document) come
back as MCP tool errors (`isError: true` with the message naming the argument, worded as the
HTTP API words it), never as a crash.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import FastAPI, Request
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import AfterValidator, BaseModel, Field, ValidationError
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from index.errors import DocumentNotFoundError
from index.types import Filters
from service import queries
from service.errors import ApiError, MethodNotAllowed, error_response, validation_error
from service.links import base_url, link_answer, link_passages
from service.routes.documents import document_out
from service.schemas import (
    DEFAULT_TOP_K,
    MAX_TOP_K,
    AskResponse,
    DocumentOut,
    PassageOut,
    clean_question,
)
from service.scope import (
    COLLECTIONS_DESCRIPTION,
    FILTERS_DESCRIPTION,
    MAX_FILTER_VALUES,
    FiltersIn,
    check_collections,
    unknown_field,
)

if TYPE_CHECKING:
    from index.engine import Engine
    from index.settings import Settings

T = TypeVar("T")
EngineSource = Callable[[], "Engine"]
Runner = Callable[..., Awaitable[Any]]
TEXT_PREVIEW_CHARS = 2000
INSTRUCTIONS = (
    "Search and answer questions over a collection of Chinese news articles. `ask` returns "
    "the shortest verbatim sentence that answers (or null when the articles do not say) and "
    "the passages it comes from; `search` returns ranked passages; `get_document` returns an "
    "article's full text. Every passage cites doc_id and char_start/char_end into the text."
)


class SearchOut(BaseModel):
    """`search`'s structured content: `/v1/search`'s passages, under `question` as `ask`
    has it (the HTTP contract's `query` is the query parameter's name, not a tool's)."""

    question: str
    passages: list[PassageOut]


Collections = Annotated[
    list[str] | None,
    Field(
        max_length=MAX_FILTER_VALUES,
        description=COLLECTIONS_DESCRIPTION,
        json_schema_extra={"minItems": 1},
    ),
    AfterValidator(check_collections),  # `[]` is refused as /v1/ask refuses it
]
ScopeFilters = Annotated[FiltersIn | None, Field(description=FILTERS_DESCRIPTION)]


class RagqaMCPServer(MCPServer):
    """`MCPServer` whose argument errors read like the HTTP API's ("filters.sources: unknown
    field; did you mean 'source'?"), not pydantic's text with its documentation URL."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        tool = self._tool_manager.get_tool(name)
        known = tool.parameters.get("properties", {}) if tool is not None else {}
        for key in arguments if tool is not None else ():
            if key not in known:  # the SDK would drop it: `collection` would search everything
                raise ToolError(f"Error executing tool {name}: {key[:40]}: {unknown_field(key)}")
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                message = validation_error(cause.errors()).message
                raise ToolError(f"Error executing tool {name}: {message}") from cause
            raise


Question = Annotated[str, Field(description="the question, in Chinese or English")]
TopK = Annotated[int, Field(ge=1, le=MAX_TOP_K, description="passages to return (1..50)")]


def _question(text: str) -> str:
    try:
        return clean_question(text)
    except ValueError as exc:
        raise ToolError(f"question: {exc}") from exc


def _scope(
    engine: Engine, collections: list[str] | None, filters: FiltersIn | None
) -> tuple[list[str] | None, Filters | None]:
    """The tool's scope (`service.scope`); a ToolError naming an unknown collection."""
    try:
        return queries.restriction(engine, collections, filters)
    except ApiError as exc:
        raise ToolError(exc.message) from None


def _passage_lines(passages: list[PassageOut]) -> list[str]:
    """A line per passage for the model reading the tool's text: title, date and the link a
    reader can follow (the file name only where there is no link), then the doc_id and
    offsets it needs for `get_document`."""
    return [
        f"[{p.rank}] {p.title} · {p.published or 'undated'} · "
        + (f"{p.byline} · " if p.byline else "")
        + f"{p.url or p.source} · "
        f"doc {p.doc_id} chars {p.char_start}–{p.char_end}: {p.text[:80]}…"
        for p in passages
    ]


def _result(text: str, structured: BaseModel) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=structured.model_dump(mode="json"),
    )


def _base(ctx: Context | None) -> str | None:
    """The server's base URL over HTTP, for citation links (`service.links`); None over
    stdio, where a citation links only to the document's own `url`."""
    request = ctx.request_context.request if ctx is not None else None
    return base_url(request) if isinstance(request, Request) else None


def build_server(engine: EngineSource, run: Runner) -> MCPServer:
    """The MCP server over whatever engine `engine()` returns now; `run(fn, *args)` runs
    CPU-bound engine calls off the event loop."""
    server: MCPServer = RagqaMCPServer(
        "ragqa", instructions=INSTRUCTIONS, version="1.0.0", log_level="WARNING"
    )
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    @server.tool(annotations=read_only)
    async def search(
        question: Question,
        top_k: TopK = DEFAULT_TOP_K,
        collections: Collections = None,
        filters: ScopeFilters = None,
        ctx: Context | None = None,
    ) -> Annotated[CallToolResult, SearchOut]:
        """Ranked passages for a question, best first, each with its citation (doc_id,
        title, source, published, char_start/char_end into the document text)."""
        query = _question(question)
        current = engine()
        names, where = _scope(current, collections, filters)
        found = await run(
            lambda: queries.search(current, query, top_k, collections=names, filters=where)
        )
        out = SearchOut(question=query, passages=[PassageOut.model_validate(p) for p in found])
        link_passages(current, _base(ctx), out.passages)
        lines = _passage_lines(out.passages) or ["no passages match"]
        return _result(f"{len(out.passages)} passages for {query!r}:\n" + "\n".join(lines), out)

    @server.tool(annotations=read_only)
    async def ask(
        question: Question,
        top_k: TopK = DEFAULT_TOP_K,
        collections: Collections = None,
        filters: ScopeFilters = None,
        ctx: Context | None = None,
    ) -> Annotated[CallToolResult, AskResponse]:
        """Answer a question: the shortest verbatim span of the articles that answers it,
        or null when they do not say, plus the ranked passages it was chosen from."""
        query = _question(question)
        current = engine()
        names, where = _scope(current, collections, filters)
        result = await run(
            lambda: queries.ask(current, query, top_k, collections=names, filters=where)
        )
        out = AskResponse.model_validate(result)
        link_passages(current, _base(ctx), out.passages)
        link_answer(current, _base(ctx), out.answer)
        if out.answer is None:
            head = "The articles don't answer this question. Closest passages:"
        else:
            a = out.answer
            head = (
                f"Answer: {a.text}\n(from [{a.passage_rank}] {a.title}, doc {a.doc_id} "
                f"chars {a.char_start}–{a.char_end})"
            )
        return _result("\n".join([head, *_passage_lines(out.passages)]), out)

    @server.tool(annotations=read_only)
    async def get_document(
        doc_id: Annotated[str, Field(description="a doc_id from search or ask")],
    ) -> Annotated[CallToolResult, DocumentOut]:
        """One article with its full cleaned text; every char_start/char_end points into it."""
        current = engine()
        try:
            out = document_out(current, doc_id)
        except DocumentNotFoundError:
            raise ToolError(f"doc_id: no document with id {doc_id[:100]!r}") from None
        text = out.text[:TEXT_PREVIEW_CHARS]
        more = len(out.text) - len(text)
        tail = f"\n… ({more} more characters in the structured content)" if more else ""
        head = f"{out.title} · {out.published or 'undated'} · {out.url or out.source} · "
        head += f"{out.n_chars} chars"
        return _result(f"{head}\n\n{text}{tail}", out)

    return server


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """The Host/Origin allow-list of the HTTP transport (DNS-rebinding protection)."""
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost"]
    if settings.host not in ("0.0.0.0", "::", "127.0.0.1", "localhost"):
        hosts += [settings.host, f"{settings.host}:*"]
    hosts += settings.mcp_allowed_hosts
    origins = ["http://127.0.0.1:*", "http://localhost:*", *settings.cors_origins]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


def mount(app: FastAPI, server: MCPServer, settings: Settings) -> None:
    """Serve `server` at `/mcp` of `app` (`/mcp/` is a 404, never a redirect): stateless
    streamable HTTP, JSON responses, POST only.

    The SDK app's one route is added to `app` itself; `app`'s lifespan must enter
    `server.session_manager.run()`. A stateless server never sends a message of its own, so
    the optional SSE stream of `GET /mcp` would stay open forever without an event: GET (and
    every method but POST) is answered 405, as the MCP transport allows."""
    mcp_app = server.streamable_http_app(
        streamable_http_path="/mcp",
        stateless_http=True,
        json_response=True,
        transport_security=transport_security(settings),
    )
    (route,) = [r for r in mcp_app.routes if isinstance(r, Route)]
    endpoint = PostOnly(route.app)
    app.router.routes.append(Route("/mcp", endpoint=endpoint))


class PostOnly:
    """`endpoint` for POST; any other method a 405 JSON error with `Allow: POST` (a class:
    Starlette serves a plain function as a request/response endpoint, not as ASGI)."""

    def __init__(self, endpoint: ASGIApp) -> None:
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] != "POST":
            error = MethodNotAllowed(
                f"{scope['method']} /mcp: this stateless MCP server offers no SSE stream; "
                "send JSON-RPC messages with POST",
                headers={"Allow": "POST"},
            )
            await error_response(error, scope.get("path", ""))(scope, receive, send)
            return
        await self.endpoint(scope, receive, send)


def run_stdio(settings: Settings) -> None:
    """Serve the tools over stdio until the client closes stdin, on the same library the
    HTTP service opens for `settings` (its document store, collections and the imported
    corpus); writes made meanwhile by the service or `ragqa add` are seen within a second."""
    import anyio
    import anyio.to_thread

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from index.opening import open_library
    from service.state import follow_store

    library = open_library(settings)

    async def run(func: Callable[[], T]) -> T:
        return await anyio.to_thread.run_sync(func)

    server = build_server(lambda: library.engine, run)

    async def main() -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(follow_store, library)
            await server.run_stdio_async()
            tasks.cancel_scope.cancel()

    try:
        anyio.run(main)
    finally:
        library.close()
