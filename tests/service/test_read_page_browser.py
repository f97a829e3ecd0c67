"""From the widget to the article: a reader clicks a citation's link in Chromium and lands on
ragqa's read page with the cited span highlighted and in view (issue 23, "what a reader
sees"). The page's screenshot lands in `test-artifacts/read-page.png`; docs/read-page.png is
a copy of it."""

from __future__ import annotations

import pytest

from tests.service.test_widget_browser import (
    ARTIFACTS,
    INPUT,
    LAUNCHER,
    ZH_QUESTION,
    ask_api,
    browser,  # noqa: F401  (the module's Chromium, a fixture)
    last_reply,
    open_demo,
    page,  # noqa: F401  (a fresh page, a fixture)
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_citation_link_opens_the_article_with_the_answer_marked(page, live_server) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    expected = ask_api(live_server, ZH_QUESTION)
    answer = expected["answer"]
    assert answer is not None
    rank = answer["passage_rank"]
    passage = next(p for p in expected["passages"] if p["rank"] == rank)
    assert answer["url"] == (
        f"{live_server}/read/{answer['doc_id']}"
        f"?start={answer['char_start']}&end={answer['char_end']}#cited"
    )

    open_demo(page, live_server)
    page.locator(LAUNCHER).click()
    page.locator(INPUT).fill(ZH_QUESTION)
    page.keyboard.press("Enter")
    reply = last_reply(page)
    reply.locator(".answer-text mark").wait_for(timeout=60_000)

    # Each citation: title, date (the seed articles are undated) and byline if any, and a link.
    item = reply.locator(".cite").nth(rank - 1)
    assert item.locator(".ct").inner_text() == passage["title"]
    meta = [passage["published"] or "未注明日期", passage["byline"]]
    assert item.locator(".meta").inner_text() == " · ".join(m for m in meta if m)
    link = item.locator("a.src")
    assert link.inner_text() == "原文 ↗"
    # The passage holding the answer links to the answer span; the others to themselves.
    assert link.get_attribute("href") == answer["url"]
    assert link.get_attribute("target") == "_blank"
    assert link.get_attribute("rel") == "noopener noreferrer"
    others = [p["url"] for p in expected["passages"] if p["rank"] != rank]
    shown = [
        reply.locator(".cite").nth(p["rank"] - 1).locator("a.src").get_attribute("href")
        for p in expected["passages"]
        if p["rank"] != rank
    ]
    assert shown == others

    with page.context.expect_page() as opened:
        link.click()
    article = opened.value
    article.wait_for_load_state()
    assert article.url == answer["url"]
    assert article.title() == passage["title"]
    mark = article.locator("mark#cited")
    start = passage["highlight"]["char_start"] - passage["char_start"]
    end = passage["highlight"]["char_end"] - passage["char_start"]
    assert mark.inner_text() == passage["text"][start:end] == answer["text"]
    assert article.locator("h1").inner_text() == passage["title"]
    assert article.locator(".meta").inner_text() == f"未注明日期 · {passage['source']}"
    # Scrolled into view: the mark lies inside the viewport although it is far down the text.
    assert article.evaluate("() => window.scrollY") > 0
    box = mark.bounding_box()
    viewport = article.viewport_size
    assert box is not None and viewport is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]
    # A small screenshot for the docs (docs/read-page.png is a copy).
    article.set_viewport_size({"width": 720, "height": 520})
    article.evaluate("() => document.getElementById('cited').scrollIntoView({block: 'center'})")
    ARTIFACTS.mkdir(exist_ok=True)
    article.screenshot(path=str(ARTIFACTS / "read-page.png"))
