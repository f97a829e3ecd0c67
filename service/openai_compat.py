"""The OpenAI-compatible chat edge: request and response bodies, and the reply we compose.

The one model, `ragqa-extractive`, answers the last user message with the extractive engine.
The reply is the answer span (or `NO_ANSWER`) followed by numbered sources:

    现在生产每吨铜的综合能耗从300公斤标煤降至210公斤标煤以内。 [1]

    Sources:

    [1] [老工业基地焕新转型如何发力](<http://host/read/DOC?start=879&end=1084#cited>) · undated

    [2] ...

Each source line is a paragraph of its own (CommonMark joins single newlines), with the
title, the date and a link for a reader (`service.links`: the document's own `url`, else the
read page with the passage highlighted); the file name and offsets are for operators, in
`references` and the annotations.

`choices[0].message.annotations` holds OpenAI `url_citation` annotations whose
`start_index`/`end_index` are code-point offsets into that reply: one for the answer span
(citing the answer's document and offsets) and one per source line (citing its passage); each
also carries `doc_id`, `char_start` and `char_end` into the document. `references` lists the
sources (`doc_id`, `title`, `source`, `published`, `char_start`, `char_end`, `text`), in
the completion and, when streaming, in the last chunk before `data: [DONE]`.

How earlier turns are used (`resolve_question`): system, developer, tool and assistant
messages are not read (assistant turns are our own quotes). The question is the last user
message; when it is a follow-up, `index.rank.followup` rewrites it into a standalone question
with the earlier user messages as context ("那么金昌呢？" after "白银炉能耗降低了多少" →
"金昌能耗降低了多少"). The question retrieved with is returned as `question`; a rewrite is
also shown on the reply's first line (`answered_as`: "（按“金昌能耗降低了多少”回答）") and
described in `follow_up` (the message as asked, and the kind of rewrite).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

from index.rank.followup import standalone
from index.types import AskResult, Passage
from service.schemas import DEFAULT_TOP_K, MAX_QUESTION_CHARS, MAX_TOP_K, JsonInt, clean_question
from service.scope import Scope

MODEL_ID = "ragqa-extractive"
COLLECTION_SEPARATOR = ":"
"""`ragqa-extractive:<collection>` is the model answering from that collection only."""
MODEL_CREATED = 1767225600  # 2026-01-01T00:00:00Z, a fixed date for /v1/models
NO_ANSWER = "The articles don't answer this question. (文章中没有这个问题的答案。)"
SOURCES_HEADING = "\n\nSources:"


class TextPart(BaseModel):
    """A text content part (`{"type": "text", "text": "..."}`); other part types are refused."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["text"]
    text: str = Field(strict=True)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[TextPart] | None = Field(
        default=None,
        union_mode="left_to_right",
        description="a string, or a list of text parts; other content types are refused",
    )

    @field_validator("content", mode="before")
    @classmethod
    def _content(cls, value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, list) and all(
            isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
            for p in value
        ):
            return value
        raise ValueError("must be a string (or a list of text parts)")

    @property
    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = Field(default=False, strict=True)


USER_MESSAGE_WITH_TEXT: dict[str, Any] = {
    "type": "object",
    "required": ["role", "content"],
    "properties": {
        "role": {"const": "user"},
        "content": {
            "anyOf": [
                {"type": "string", "pattern": "\\S"},
                {
                    "type": "array",
                    "contains": {
                        "type": "object",
                        "required": ["type", "text"],
                        "properties": {
                            "type": {"const": "text"},
                            "text": {"type": "string", "pattern": "\\S"},
                        },
                    },
                },
            ]
        },
    },
}
"""What `resolve_question` needs, as JSON Schema `contains`: a user message with text."""


class ChatCompletionRequest(Scope):
    """OpenAI's chat request; sampling options (temperature, max_tokens, ...) are accepted and
    have no effect on an extractive answer. Ours, sent with the SDK's `extra_body`: `top_k`
    (1..50, default 5: sources) and the scope of `service.scope` (`collections`, `filters`).
    Other keys are kept (`model_extra`) so that the route can refuse a misspelt scope key
    (`collection`, `sources`) instead of ignoring it."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "model": MODEL_ID,
                    "messages": [{"role": "user", "content": "白银炉能耗降低了多少"}],
                }
            ]
        },
    )

    model: str = Field(
        strict=True,
        examples=[MODEL_ID],
        description=f"{MODEL_ID}, or {MODEL_ID}:<collection> to answer from one collection",
    )
    messages: list[ChatMessage] = Field(
        min_length=1,
        description="at least one user message with text",
        json_schema_extra={"contains": USER_MESSAGE_WITH_TEXT},
    )
    stream: bool = Field(default=False, strict=True)
    stream_options: StreamOptions | None = None
    top_k: JsonInt = Field(default=DEFAULT_TOP_K, ge=1, le=MAX_TOP_K, strict=True)


class UrlCitation(BaseModel):
    start_index: int = Field(description="code-point offset into the reply, inclusive")
    end_index: int = Field(description="code-point offset into the reply, exclusive")
    title: str
    url: str = Field(
        description="the cited text for a reader: the document's own `url`, else ragqa's "
        "read page (/read/{doc_id}?start=&end=#cited) with it highlighted"
    )
    doc_id: str
    char_start: int = Field(description="offset of the cited text in the document text")
    char_end: int


class Annotation(BaseModel):
    type: Literal["url_citation"] = "url_citation"
    url_citation: UrlCitation


class Reference(BaseModel):
    index: int = Field(description="the [n] of the reply's source list")
    doc_id: str
    title: str
    source: str
    published: str | None
    byline: str | None = Field(default=None, description="the byline as printed, if any")
    char_start: int
    char_end: int
    text: str = Field(description="the passage, verbatim: document.text[char_start:char_end]")
    score: float


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    refusal: None = None
    annotations: list[Annotation]


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class FollowUp(BaseModel):
    asked: str = Field(description="the last user message as it was asked")
    kind: str = Field(description="entity, time, entity+time, pronoun, aspect or context")


class Usage(BaseModel):
    """OpenAI's token counts, in the tokens of the encoder that reads the question
    (`Embedder.count_tokens`): `prompt_tokens` are the messages' texts, `completion_tokens`
    the reply's content. Nothing is generated, so the counts are for accounting, not cost."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


def usage(count: Callable[[str], int], messages: Sequence[ChatMessage], reply: str) -> Usage:
    """The usage of one completion: `count` gives a text's tokens."""
    prompt = sum(count(m.text) for m in messages)
    completion_tokens = count(reply)
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion_tokens,
        total_tokens=prompt + completion_tokens,
    )


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    references: list[Reference]
    question: str = Field(description="the question answered, after reading earlier turns")
    follow_up: FollowUp | None = Field(
        default=None, description="how the last message was rewritten (null: it was not)"
    )
    usage: Usage | None = Field(default=None, description="token counts, see `Usage`")


def model_collection(model: str) -> str | None:
    """The collection a model id names (`ragqa-extractive:fdnews` → fdnews; the plain id:
    None); ValueError for an id that is not ours."""
    base, sep, collection = model.partition(COLLECTION_SEPARATOR)
    if base != MODEL_ID or (sep and not collection):
        raise ValueError(
            f"{model[:80]!r} does not exist; the models are {MODEL_ID} and "
            f"{MODEL_ID}{COLLECTION_SEPARATOR}<collection>"
        )
    return collection or None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


MODEL_CARD = ModelCard(id=MODEL_ID, created=MODEL_CREATED, owned_by="ragqa")


def model_card(collection: str | None = None) -> ModelCard:
    """The card of the plain model, or of the one answering from `collection`."""
    if collection is None:
        return MODEL_CARD
    return ModelCard(
        id=f"{MODEL_ID}{COLLECTION_SEPARATOR}{collection}", created=MODEL_CREATED, owned_by="ragqa"
    )


class QuestionError(ValueError):
    """No question can be read from the messages; the message names the field."""


class Resolved(NamedTuple):
    """The question to retrieve with, how it was rewritten (None: it was not) and the
    reply's first line that shows the rewrite ("" when none)."""

    question: str
    follow_up: FollowUp | None
    lead: str


def resolve_question(messages: Sequence[ChatMessage]) -> Resolved:
    """The question to retrieve with (see the module docstring); earlier user messages that
    are not valid questions on their own are not read as context."""
    users = [
        (i, m.text.strip()) for i, m in enumerate(messages) if m.role == "user" and m.text.strip()
    ]
    if not users:
        raise QuestionError("messages: no user message with text to answer")
    last_index, asked = users[-1]
    try:
        asked = clean_question(asked[-MAX_QUESTION_CHARS:])
    except ValueError as exc:
        raise QuestionError(f"messages[{last_index}].content: {exc}") from exc
    rewrite = standalone([text for _, text in users[:-1] if _valid(text)], asked)
    if not rewrite.rewritten or not _valid(rewrite.question):
        return Resolved(asked, None, "")
    return Resolved(
        rewrite.question, FollowUp(asked=asked, kind=rewrite.kind), answered_as(rewrite.question)
    )


def _valid(text: str) -> bool:
    try:
        clean_question(text)
    except ValueError:
        return False
    return True


def answered_as(question: str) -> str:
    """The reply's first line for a rewritten question, in the question's language."""
    if any("\u3400" <= c <= "\u9fff" for c in question):
        return f"（按“{question}”回答）\n\n"
    return f"(answered as: {question})\n\n"


UNDATED = "undated"
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>])")
"""What could end or restyle a link's text (line starts are `[n]`, so `#`, `-` are inert)."""


def _markdown_text(text: str) -> str:
    """`text` with Markdown's punctuation backslash-escaped, so a title renders as written."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _markdown_url(url: str) -> str:
    """A link destination CommonMark takes whole: `<...>`, with `<`, `>` and spaces encoded."""
    return "<" + url.replace("<", "%3C").replace(">", "%3E").replace(" ", "%20") + ">"


def _source_line(n: int, p: Passage, url: str) -> str:
    """`[n] [title](url) · date · byline` (the byline where the page states one): what a
    reader needs (the doc_id is in `references`)."""
    title = _markdown_text(p.title or p.source)
    byline = f" · {_markdown_text(p.byline)}" if p.byline else ""
    return f"[{n}] [{title}]({_markdown_url(url)}) · {p.published or UNDATED}{byline}"


Link = Callable[[str, int, int], str]
"""`(doc_id, char_start, char_end) -> URL` of the cited text (`service.links.cited_url`)."""


def compose(
    result: AskResult, link: Link, lead: str = ""
) -> tuple[str, list[Annotation], list[Reference]]:
    """The reply text (after `lead`), its annotations (offsets into the text) and the
    references. Source lines are paragraphs of their own (a blank line between them), so a
    CommonMark renderer shows one per line."""
    annotations: list[Annotation] = []
    if result.answer is not None:
        a = result.answer
        head = f"{a.text} [{a.passage_rank}]"
        annotations.append(
            Annotation(
                url_citation=UrlCitation(
                    start_index=len(lead),
                    end_index=len(lead) + len(a.text),
                    title=a.title,
                    url=link(a.doc_id, a.char_start, a.char_end),
                    doc_id=a.doc_id,
                    char_start=a.char_start,
                    char_end=a.char_end,
                )
            )
        )
    else:
        head = NO_ANSWER
    reply = lead + head
    if result.passages:
        reply += SOURCES_HEADING
    for n, p in enumerate(result.passages, 1):
        url = link(p.doc_id, p.char_start, p.char_end)
        line = _source_line(n, p, url)
        reply += "\n\n"
        start = len(reply)
        reply += line
        annotations.append(
            Annotation(
                url_citation=UrlCitation(
                    start_index=start,
                    end_index=start + len(line),
                    title=p.title,
                    url=url,
                    doc_id=p.doc_id,
                    char_start=p.char_start,
                    char_end=p.char_end,
                )
            )
        )
    references = [
        Reference(
            index=n,
            doc_id=p.doc_id,
            title=p.title,
            source=p.source,
            published=p.published,
            byline=p.byline,
            char_start=p.char_start,
            char_end=p.char_end,
            text=p.text,
            score=p.score,
        )
        for n, p in enumerate(result.passages, 1)
    ]
    return reply, annotations, references


def new_completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def completion(
    result: AskResult,
    question: str,
    link: Link,
    completion_id: str | None = None,
    model: str = MODEL_ID,
    *,
    follow_up: FollowUp | None = None,
    lead: str = "",
    count: Callable[[str], int] | None = None,
    messages: Sequence[ChatMessage] = (),
) -> ChatCompletion:
    """The completion; with `count` (a text's tokens), its `usage` for `messages`."""
    reply, annotations, references = compose(result, link, lead)
    return ChatCompletion(
        id=completion_id or new_completion_id(),
        created=int(time.time()),
        model=model,
        choices=[Choice(message=AssistantMessage(content=reply, annotations=annotations))],
        references=references,
        question=question,
        follow_up=follow_up,
        usage=None if count is None else usage(count, messages, reply),
    )


def chunk(
    completion_id: str,
    created: int,
    delta: dict[str, Any],
    finish_reason: str | None = None,
    model: str = MODEL_ID,
    **extra: Any,
) -> dict[str, Any]:
    """One `chat.completion.chunk` object."""
    body: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    body.update(extra)
    return body
