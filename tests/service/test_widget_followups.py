"""The widget's conversation reads a follow-up as the chat does: in a real browser (Debian's
headless Chromium) against the real service, "那么金昌呢？" after "白银炉能耗降低了多少" is sent
with the earlier question as `context`, answered about Jinchang, and the rewrite is shown."""

from __future__ import annotations

import json

import pytest

from tests.service.test_widget_browser import (  # noqa: F401 (fixtures)
    INPUT,
    ZH_QUESTION,
    ask_with_keyboard,
    browser,
    last_reply,
    open_demo,
    open_with_keyboard,
    page,
    wait_idle,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

JINCHANG_15 = "生产效率提高20%，能耗降低15%。"


def test_a_follow_up_in_the_widget_is_answered_as_a_standalone_question(page, live_server) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    bodies: list[dict[str, object]] = []

    def record(request) -> None:  # type: ignore[no-untyped-def]
        if request.url.endswith("/v1/ask/stream"):
            bodies.append(json.loads(request.post_data or "{}"))

    page.on("request", record)
    open_demo(page, live_server)
    open_with_keyboard(page)
    ask_with_keyboard(page, ZH_QUESTION)
    wait_idle(page)
    assert last_reply(page).locator(".as").count() == 0
    ask_with_keyboard(page, "那么金昌呢？")
    wait_idle(page)
    reply = last_reply(page)
    assert reply.locator(".as").inner_text() == "按“金昌能耗降低了多少”回答"
    assert JINCHANG_15 in reply.locator(".answer-text mark").inner_text()
    assert bodies == [
        {"question": ZH_QUESTION, "top_k": 5},
        {"question": "那么金昌呢？", "top_k": 5, "context": [ZH_QUESTION]},
    ]
    assert page.locator(INPUT).input_value() == ""
