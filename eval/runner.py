"""Run a question set through an answerer and judge every reply into a `QuestionResult`.

An *answerer* is anything that takes a question and returns ranked passages and maybe an
answer: the engine in-process (one `RetrievalConfig`), a deployed service over HTTP
(`POST {url}/v1/ask`), or the tutorial baseline (`eval.baseline`). The runner treats them
alike, so a deployed service is measured exactly as a local index is.

Latency is measured around the call, as the caller sees it (for HTTP that includes the network
and JSON), not the engine's own `took_ms`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from eval.dataset import Question
from eval.metrics import QuestionResult, score_question

if TYPE_CHECKING:
    from index.engine import Engine
    from index.rank.pipeline import RetrievalConfig

TOP_K = 10
"""Passages asked for per question: the deepest cutoff any metric reads (hit@10, MRR@10)."""


class ServiceUnreachableError(RuntimeError):
    """The HTTP answerer cannot connect to the service at all (wrong URL, server down)."""


@dataclass(frozen=True)
class RetrievedText:
    """One ranked passage as an answerer returns it: its source file, text and score."""

    source: str
    text: str
    score: float | None


@dataclass(frozen=True)
class Reply:
    """What an answerer gave for one question; ``error`` set means it gave nothing usable."""

    passages: tuple[RetrievedText, ...]
    answer_text: str | None
    error: str | None = None


class Answerer(Protocol):
    """Something that answers questions; ``gives_answers`` is False for retrieval-only ones."""

    @property
    def gives_answers(self) -> bool: ...

    def ask(self, question: str, top_k: int) -> Reply: ...


class EngineAnswerer:
    """The engine in-process with one retrieval configuration (same index and model)."""

    gives_answers = True

    def __init__(self, engine: Engine, config: RetrievalConfig | None = None) -> None:
        self.engine = engine if config is None else engine.with_config(config)

    def ask(self, question: str, top_k: int) -> Reply:
        result = self.engine.ask(question, top_k)
        return Reply(
            passages=tuple(RetrievedText(p.source, p.text, p.score) for p in result.passages),
            answer_text=result.answer.text if result.answer is not None else None,
        )


class HttpAnswerer:
    """A running service: ``POST {url}/v1/ask``. A non-2xx reply is that question's error."""

    gives_answers = True

    def __init__(
        self, url: str, *, timeout_s: float = 60.0, client: httpx.Client | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self._client = client or httpx.Client(timeout=timeout_s)

    def close(self) -> None:
        self._client.close()

    def check_ready(self) -> None:
        """`GET /readyz` once, so a wrong URL fails before the run, not on question one."""
        endpoint = f"{self.url}/readyz"
        try:
            response = self._client.get(endpoint)
        except httpx.HTTPError as exc:
            raise ServiceUnreachableError(f"cannot reach {endpoint}: {exc}") from exc
        if not response.is_success:
            raise ServiceUnreachableError(
                f"service at {self.url} is not ready: GET /readyz returned "
                f"{response.status_code} ({_error_message(response)})"
            )

    def ask(self, question: str, top_k: int) -> Reply:
        endpoint = f"{self.url}/v1/ask"
        try:
            response = self._client.post(endpoint, json={"question": question, "top_k": top_k})
        except (httpx.ConnectError, httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise ServiceUnreachableError(f"cannot reach {endpoint}: {exc}") from exc
        except httpx.HTTPError as exc:  # a timeout or dropped connection on one question
            return Reply((), None, error=f"{type(exc).__name__}: {exc}")
        if not response.is_success:
            return Reply((), None, error=f"HTTP {response.status_code}: {_error_message(response)}")
        try:
            return parse_ask_response(response.json())
        except (ValueError, KeyError, TypeError) as exc:
            return Reply((), None, error=f"unexpected /v1/ask response: {exc}")


def parse_ask_response(body: Any) -> Reply:
    """The `/v1/ask` JSON (API.md) as a `Reply`; KeyError/TypeError when it has another shape."""
    answer = body["answer"]
    passages = tuple(
        RetrievedText(str(p["source"]), str(p["text"]), float(p["score"])) for p in body["passages"]
    )
    return Reply(passages, None if answer is None else str(answer["text"]))


def _error_message(response: httpx.Response) -> str:
    """The message of the service's JSON error shape, else the start of the body."""
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason_phrase


def ask_one(answerer: Answerer, question: Question, top_k: int = TOP_K) -> QuestionResult:
    """Ask one question and judge the reply."""
    started = time.perf_counter()
    reply = answerer.ask(question.question, top_k)
    latency_ms = (time.perf_counter() - started) * 1000
    return score_question(
        question,
        [(p.source, p.text) for p in reply.passages],
        answer_text=reply.answer_text,
        latency_ms=round(latency_ms, 3),
        scores=_scores(reply.passages),
        error=reply.error,
    )


def _scores(passages: Sequence[RetrievedText]) -> list[float] | None:
    scores = [p.score for p in passages if p.score is not None]
    return scores if len(scores) == len(passages) else None


def run_questions(
    answerer: Answerer,
    questions: Sequence[Question],
    *,
    top_k: int = TOP_K,
    on_result: Callable[[QuestionResult], None] | None = None,
) -> list[QuestionResult]:
    """Every question through `answerer`, in order; `on_result` sees each result (progress)."""
    results: list[QuestionResult] = []
    for question in questions:
        result = ask_one(answerer, question, top_k)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results
