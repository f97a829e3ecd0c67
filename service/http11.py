"""The HTTP/1.1 protocol the service runs under uvicorn: h11, with its own parse errors in the
API's JSON error shape.

A request uvicorn cannot parse (raw non-ASCII bytes in the request line, a malformed header)
never reaches the app; uvicorn answers it with a plain-text 400 "Invalid HTTP request
received.". This subclass sends the same 400, closing the connection, as
``{"error": {"code": "malformed_request", "message": ...}}``. (No CORS headers: the request
was never read far enough to know its origin.) `ragqa serve` and `python -m service` run
with it; uvicorn's own command line offers only its built-in protocols, so
`uvicorn service.main:create_app --factory` keeps the plain-text 400.
"""

from __future__ import annotations

import json

import h11
from uvicorn.protocols.http.h11_impl import STATUS_PHRASES, H11Protocol

UNPARSABLE = json.dumps(
    {
        "error": {
            "code": "malformed_request",
            "message": "request: not valid HTTP/1.1 (a request line or header with raw "
            "non-ASCII bytes or bad syntax); percent-encode the URL's UTF-8 bytes",
        }
    }
).encode("ascii")


class JsonErrorH11Protocol(H11Protocol):
    """uvicorn's h11 protocol whose 400 for an unparsable request is a JSON error."""

    def send_400_response(self, msg: str) -> None:
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(UNPARSABLE)).encode("ascii")),
            (b"connection", b"close"),
        ]
        event = h11.Response(status_code=400, headers=headers, reason=STATUS_PHRASES[400])
        for part in (event, h11.Data(data=UNPARSABLE), h11.EndOfMessage()):
            output = self.conn.send(part)
            if output:
                self.transport.write(output)
        self.transport.close()
