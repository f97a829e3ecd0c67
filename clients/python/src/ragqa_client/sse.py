"""The events of `POST /v1/ask/stream`, read line by line from its Server-Sent Events.

The service sends `passages`, then `answer`, then `done`; an `error` event (the JSON error
body) ends a stream that failed after it started, and `: keep-alive` comments arrive while
the engine works. A decoder is fed the lines of the response (the sync and async clients
read them their own way) and hands back each typed event as its block completes.
"""

from __future__ import annotations

import json
from typing import Any

from ragqa_client.errors import ConnectionFailed, error_from_body
from ragqa_client.models import AnswerEvent, PassagesEvent, StreamEvent

EVENTS: dict[str, type[PassagesEvent] | type[AnswerEvent]] = {
    "passages": PassagesEvent,
    "answer": AnswerEvent,
}


class EventDecoder:
    """Feed it lines; `feed` returns an event when a blank line ends its block."""

    def __init__(self) -> None:
        self.done = False
        self._event = ""
        self._data: list[str] = []

    def feed(self, line: str) -> StreamEvent | None:
        """The event a line completes, if any; raises `ApiError` for an `error` event."""
        line = line.rstrip("\r\n")
        if line:
            if not line.startswith(":"):  # a comment (keep-alive) is not part of any event
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "event":
                    self._event = value
                elif name == "data":
                    self._data.append(value)
            return None
        event, data = self._event, "\n".join(self._data)
        self._event, self._data = "", []
        if not event and not data:
            return None
        body: Any = json.loads(data) if data else {}
        if event == "error":
            raise error_from_body(None, body)
        if event == "done":
            self.done = True
            return None
        kind = EVENTS.get(event)
        return kind.model_validate(body) if kind is not None else None

    def finish(self) -> None:
        """The response ended: refuse a stream cut off before its `done` event."""
        if not self.done:
            raise ConnectionFailed("the stream ended before its done event")
