"""ragqa-client: a light HTTP client for a ragqa service (httpx and pydantic, nothing else).

    from ragqa_client import Client

    with Client("http://127.0.0.1:8000", api_key="...") as client:
        result = client.ask("白银炉能耗降低了多少", collections=["default"])

`Client` and `AsyncClient` cover ask, search, the streamed ask, documents and collections;
`ragqa_client.langchain.RagqaRetriever` (`pip install "ragqa-client[langchain]"`) is a
LangChain retriever on top of them. The service does the retrieval: no model, no index here.
"""

from ragqa_client.async_client import AsyncClient
from ragqa_client.calls import VERSION
from ragqa_client.client import Client
from ragqa_client.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ConnectionFailed,
    NotFoundError,
    PayloadTooLargeError,
    RagqaError,
    RateLimitError,
    ServiceUnavailableError,
    UnprocessableEntityError,
)
from ragqa_client.models import (
    Alias,
    Answer,
    AnswerEvent,
    AskResult,
    Collection,
    CollectionDeleted,
    Document,
    DocumentDeleted,
    DocumentSummary,
    NewDocument,
    Outlet,
    Passage,
    PassagesEvent,
    SearchResult,
    Skipped,
    Span,
    StreamEvent,
    WriteResult,
    Written,
)

__version__ = VERSION
__all__ = [
    "Alias",
    "Answer",
    "AnswerEvent",
    "ApiError",
    "AskResult",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "Collection",
    "CollectionDeleted",
    "ConflictError",
    "ConnectionFailed",
    "Document",
    "DocumentDeleted",
    "DocumentSummary",
    "NewDocument",
    "NotFoundError",
    "Outlet",
    "Passage",
    "PassagesEvent",
    "PayloadTooLargeError",
    "RagqaError",
    "RateLimitError",
    "SearchResult",
    "ServiceUnavailableError",
    "Skipped",
    "Span",
    "StreamEvent",
    "UnprocessableEntityError",
    "WriteResult",
    "Written",
]
