"""The embeddable widget in a real browser (Debian's headless Chromium) against the real service.

These drive `/demo` the way a visitor would: keyboard to open the panel, Chinese typed into
the box, answers and citations read off the page. Error paths use the real service (422) or
route interception (429, network down, a broken stream). Screenshots land in
`test-artifacts/` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.servers import running_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

ZH_QUESTION = "白银炉能耗降低了多少"
SHOWCASE_QUESTION = "酒钢集团的产品种类扩展到了多少个"
EN_QUESTION = "How many investment-attraction task forces did Lanzhou New Area set up?"

# Locators pierce open shadow roots, so these reach inside the widget.
LAUNCHER = "rag-chat-launcher .launcher"
PANEL = "rag-chat-launcher .panel"
INPUT = "rag-chat-launcher textarea"
REPLIES = "rag-chat-launcher .msg.bot:not(.hello)"
QUESTIONS = "rag-chat-launcher .msg.user"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Chromium for the module (never Playwright's own download)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium. Install it with "
            "`apt-get update && apt-get install -y chromium` (scripts/test does this)."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    """A fresh page (own context: no shared cookies/storage); fails on any uncaught JS error."""
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", reduced_motion="reduce")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"


def ask_api(base_url: str, question: str) -> dict:  # type: ignore[type-arg]
    """The same question over plain HTTP, to compare what the widget shows against."""
    response = httpx.post(f"{base_url}/v1/ask", json={"question": question, "top_k": 5}, timeout=60)
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def open_demo(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/demo")
    page.wait_for_function("() => window.RagChat && window.RagChat.floating")


def open_with_keyboard(page) -> None:  # type: ignore[no-untyped-def]
    """Tab until the floating button has focus (bounded), then press Enter."""
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate(
            "() => document.activeElement?.tagName === 'RAG-CHAT-LAUNCHER' &&"
            " document.activeElement.shadowRoot.activeElement?.classList.contains('launcher')"
        ):
            break
    else:
        pytest.fail("the floating button was not reachable with Tab")
    page.keyboard.press("Enter")
    page.locator(PANEL).wait_for(state="visible")


def ask_with_keyboard(page, question: str) -> None:  # type: ignore[no-untyped-def]
    page.locator(INPUT).focus()
    page.keyboard.type(question)
    page.keyboard.press("Enter")


def last_reply(page):  # type: ignore[no-untyped-def]
    return page.locator(REPLIES).last


def wait_idle(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "() => document.querySelector('rag-chat-launcher').shadowRoot"
        ".querySelector('.log').getAttribute('aria-busy') === 'false'",
        timeout=60_000,
    )


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    """Save the page with the last question at the top of the conversation."""
    page.evaluate(
        """() => { window.scrollTo(0, 0);
            const root = document.querySelector('rag-chat-launcher').shadowRoot;
            const log = root.querySelector('.log');
            log.scrollTop = [...log.querySelectorAll('.msg.user')].pop().offsetTop - 8; }"""
    )
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def test_visitor_asks_in_chinese_by_keyboard_and_sees_the_highlighted_answer_with_citation(
    page, live_server
) -> None:
    base = live_server
    expected = ask_api(base, ZH_QUESTION)
    assert expected["answer"] is not None, "the service should answer the demo question"

    open_demo(page, base)
    open_with_keyboard(page)
    assert (
        page.evaluate(
            "() => document.querySelector('rag-chat-launcher').shadowRoot.activeElement?.tagName"
        )
        == "TEXTAREA"
    ), "opening the panel puts the cursor in the question box"
    ask_with_keyboard(page, ZH_QUESTION)
    reply = last_reply(page)
    reply.locator(".answer-text mark").wait_for(timeout=60_000)

    answer = expected["answer"]
    assert reply.locator(".answer-text mark").inner_text() == answer["text"]
    assert page.locator(QUESTIONS).last.inner_text().endswith(ZH_QUESTION)
    assert reply.locator(".cite-btn").count() == len(expected["passages"]) >= 1

    # Expand the answer's citation with the keyboard: its passage shows the span in <mark>.
    button = reply.locator(f".cite-btn[data-rank='{answer['passage_rank']}']")
    assert button.get_attribute("aria-expanded") == "false"
    button.focus()
    page.keyboard.press("Enter")
    assert button.get_attribute("aria-expanded") == "true"
    region = reply.locator(f"#{button.get_attribute('aria-controls')}")
    assert region.is_visible()
    passage = next(p for p in expected["passages"] if p["rank"] == answer["passage_rank"])
    start = passage["highlight"]["char_start"] - passage["char_start"]
    end = passage["highlight"]["char_end"] - passage["char_start"]
    assert region.locator("mark").inner_text() == passage["text"][start:end] == answer["text"]

    # Escape closes the floating panel and gives focus back to the button.
    page.locator(INPUT).focus()
    page.keyboard.press("Escape")
    assert page.locator(PANEL).is_hidden()
    assert page.evaluate(
        "() => document.querySelector('rag-chat-launcher').shadowRoot.activeElement"
        "?.classList.contains('launcher')"
    )


def test_an_english_question_gets_an_answer(page, live_server) -> None:
    base = live_server
    expected = ask_api(base, EN_QUESTION)
    assert expected["answer"] is not None

    open_demo(page, base)
    page.locator(LAUNCHER).click()
    ask_with_keyboard(page, EN_QUESTION)
    mark = last_reply(page).locator(".answer-text mark")
    mark.wait_for(timeout=60_000)
    assert mark.inner_text() == expected["answer"]["text"]


def test_loading_state_is_announced_while_the_service_works(page, live_server) -> None:
    base = live_server
    held = []
    page.route("**/v1/ask/stream", lambda route: held.append(route))
    open_demo(page, base)
    page.locator(LAUNCHER).click()
    ask_with_keyboard(page, ZH_QUESTION)
    status = last_reply(page).locator(".status")
    status.wait_for()
    assert "正在检索" in status.inner_text()
    assert page.locator("rag-chat-launcher .log").get_attribute("aria-busy") == "true"
    page.wait_for_timeout(50)
    assert len(held) == 1
    held[0].continue_()
    last_reply(page).locator(".answer-text mark").wait_for(timeout=60_000)
    wait_idle(page)
    assert status.count() == 0


def test_a_new_question_or_closing_the_panel_cancels_the_one_in_flight(page, live_server) -> None:
    held: list[object] = []

    def hold_first(route) -> None:  # type: ignore[no-untyped-def]
        if held:
            route.continue_()
        else:
            held.append(route)  # never answered: only cancelling can end it

    page.route("**/v1/ask/stream", hold_first)
    open_demo(page, live_server)
    page.locator(LAUNCHER).click()
    ask_with_keyboard(page, "金川集团科技投入年均增长多少")
    page.locator(REPLIES).last.locator(".status").wait_for()
    ask_with_keyboard(page, ZH_QUESTION)
    first, second = page.locator(REPLIES).all()
    assert "已取消" in first.inner_text()
    second.locator(".answer-text mark").wait_for(timeout=60_000)

    # Closing the panel cancels too, and the widget is ready again when reopened.
    held.clear()
    ask_with_keyboard(page, "金川集团科技投入年均增长多少")
    page.locator(REPLIES).last.locator(".status").wait_for()
    page.keyboard.press("Escape")
    assert "已取消" in page.locator(REPLIES).last.inner_text()
    page.locator(LAUNCHER).click()
    wait_idle(page)
    ask_with_keyboard(page, ZH_QUESTION)
    page.locator(REPLIES).last.locator(".answer-text mark").wait_for(timeout=60_000)


def test_rate_limit_is_shown_in_plain_words_and_the_next_question_works(page, live_server) -> None:
    base = live_server
    open_demo(page, base)
    page.route(
        "**/v1/ask/stream",
        lambda route: route.fulfill(
            status=429,
            headers={"Retry-After": "7", "Content-Type": "application/json"},
            body=json.dumps({"error": {"code": "rate_limited", "message": "too many requests"}}),
        ),
    )
    page.locator(LAUNCHER).click()
    ask_with_keyboard(page, ZH_QUESTION)
    reply = last_reply(page)
    reply.locator("p").first.wait_for()
    wait_idle(page)
    assert "error" in (reply.get_attribute("class") or "")
    assert "请等待 7 秒" in reply.inner_text()

    page.unroute("**/v1/ask/stream")
    ask_with_keyboard(page, ZH_QUESTION)
    last_reply(page).locator(".answer-text mark").wait_for(timeout=60_000)


def test_an_over_long_question_shows_the_services_message(page, live_server) -> None:
    base = live_server
    open_demo(page, base)
    page.locator(LAUNCHER).click()
    page.locator(INPUT).fill("问" * 1001)
    page.locator(INPUT).press("Enter")
    wait_idle(page)
    reply = last_reply(page)
    assert "error" in (reply.get_attribute("class") or "")
    text = reply.inner_text()
    assert text.startswith("答：无法处理这个问题：") or "无法处理这个问题" in text
    assert "1000" in text, f"the 422 message should name the limit: {text!r}"
    assert page.locator(INPUT).is_editable()


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("network", "无法连接到问答服务"),
        ("server_error", "HTTP 500"),
        ("stream_error", "回答时出错：the index went away"),
        ("malformed", "服务返回的数据不完整"),
        ("truncated", "服务返回的数据不完整"),
    ],
)
def test_failures_are_explained_and_the_widget_recovers(
    page, live_server, kind: str, expected: str
) -> None:
    base = live_server
    passages_event = 'event: passages\ndata: {"question": "q", "passages": []}\n\n'
    bodies = {
        "stream_error": passages_event
        + 'event: error\ndata: {"error": {"code": "x", "message": "the index went away"}}\n\n',
        "malformed": 'event: answer\ndata: {"answer": nul\n\n',
        "truncated": passages_event,
    }

    def broken(route) -> None:  # type: ignore[no-untyped-def]
        if kind == "network":
            route.abort("connectionrefused")
        elif kind == "server_error":
            route.fulfill(status=500, body="Internal Server Error")
        else:
            route.fulfill(status=200, content_type="text/event-stream", body=bodies[kind])

    open_demo(page, base)
    page.route("**/v1/ask/stream", broken)
    page.locator(LAUNCHER).click()
    ask_with_keyboard(page, "金川集团科技投入年均增长多少")
    wait_idle(page)
    assert expected in last_reply(page).inner_text()

    page.unroute("**/v1/ask/stream")
    ask_with_keyboard(page, ZH_QUESTION)
    last_reply(page).locator(".answer-text mark").wait_for(timeout=60_000)


def without_answer(stream: str) -> str:
    """The real stream with its answer taken out, as when the corpus does not say."""
    out = []
    for line in stream.splitlines():
        if line.startswith("data: ") and '"answer"' in line:
            payload = json.loads(line.removeprefix("data: "))
            payload["answer"] = None
            for passage in payload["passages"]:
                passage["highlight"] = None
            line = "data: " + json.dumps(payload, ensure_ascii=False)
        out.append(line)
    return "\n".join(out) + "\n"


def test_no_answer_is_said_honestly_with_the_closest_passages(page, live_server) -> None:
    def no_answer(route) -> None:  # type: ignore[no-untyped-def]
        response = route.fetch()
        route.fulfill(response=response, body=without_answer(response.text()))

    open_demo(page, live_server)
    page.route("**/v1/ask/stream", no_answer)
    page.locator(LAUNCHER).click()
    ask_with_keyboard(page, ZH_QUESTION)
    wait_idle(page)
    reply = last_reply(page)
    assert "资料中没有找到答案" in reply.inner_text()
    assert reply.locator(".cites h3").inner_text() == "相关段落"
    assert reply.locator(".cite-btn").count() >= 1
    assert reply.locator("mark").count() == 0


def test_enter_that_confirms_an_ime_candidate_does_not_send(page, live_server) -> None:
    open_demo(page, live_server)
    page.locator(LAUNCHER).click()
    textarea = page.locator(INPUT)
    textarea.fill("白银炉")
    for init in ("{key: 'Enter', isComposing: true}", "{key: 'Enter', keyCode: 229}"):
        page.evaluate(
            f"""() => {{
                const ta = document.querySelector('rag-chat-launcher').shadowRoot
                    .querySelector('textarea');
                ta.dispatchEvent(new KeyboardEvent('keydown',
                    {{...{init}, bubbles: true, cancelable: true, composed: true}}));
            }}"""
        )
    assert page.locator(QUESTIONS).count() == 0
    assert textarea.input_value() == "白银炉"
    # Shift+Enter is a new line; plain Enter sends.
    textarea.press("Shift+Enter")
    assert textarea.input_value() == "白银炉\n"
    textarea.press("Enter")
    assert page.locator(QUESTIONS).count() == 1


def test_requests_carry_no_credentials(page, live_server) -> None:
    base = live_server
    page.context.add_cookies([{"name": "session", "value": "secret", "url": base}])
    sent: list[dict[str, str]] = []
    page.on(
        "request",
        lambda request: sent.append(request.headers) if "/v1/" in request.url else None,
    )
    open_demo(page, base)
    page.locator(LAUNCHER).click()
    ask_with_keyboard(page, ZH_QUESTION)
    last_reply(page).locator(".answer-text mark").wait_for(timeout=60_000)
    assert sent, "the widget asked the service"
    for headers in sent:
        assert "authorization" not in {k.lower() for k in headers}
        assert "cookie" not in {k.lower() for k in headers}


def test_host_page_css_does_not_reach_the_widget(page, live_server) -> None:
    open_demo(page, live_server)
    page.locator(LAUNCHER).click()
    style = page.evaluate(
        """() => {
            const pick = (el) => { const s = getComputedStyle(el);
                return {size: s.fontSize, color: s.color, border: s.borderStyle}; };
            const root = document.querySelector('rag-chat-launcher').shadowRoot;
            return {page: pick(document.querySelector('main button')),
                    send: pick(root.querySelector('.send')),
                    log: pick(root.querySelector('.log'))};
        }"""
    )
    assert style["page"]["size"] == "30px", "the demo's hostile CSS is in force on the page"
    assert style["send"]["size"] != "30px" and style["log"]["size"] != "30px"
    assert style["send"]["color"] != "rgb(255, 0, 0)" and style["send"]["border"] != "dashed"


def test_including_the_script_twice_gives_one_button_and_one_element(
    page, live_server, customer_site
) -> None:
    origin, pages = customer_site
    tag = f'<script src="{live_server}/widget.js" data-endpoint="{live_server}"></script>'
    inline = '<rag-chat lang="en" theme="dark" heading="Ask us"></rag-chat>'
    pages["/twice.html"] = f"<!doctype html><body>{tag}{tag}{inline}</body>"
    page.goto(f"{origin}/twice.html")
    page.wait_for_function("() => window.RagChat && window.RagChat.floating")
    assert page.locator("rag-chat-launcher").count() == 1
    assert page.locator("rag-chat .panel[role=region]").count() == 1
    # The inline element's own attributes: English strings, dark theme, its heading.
    assert page.locator("rag-chat textarea").get_attribute("placeholder") == (
        "Ask a question, press Enter to send"
    )
    assert page.locator("rag-chat .root").get_attribute("data-theme") == "dark"
    assert page.locator("rag-chat h2").inner_text() == "Ask us"


def test_inline_element_answers_from_a_suggestion(page, live_server) -> None:
    base = live_server
    open_demo(page, base)
    inline = page.locator("rag-chat")
    assert inline.locator(".launcher").count() == 0
    inline.locator(".chip").first.click()
    inline.locator(".answer-text mark").wait_for(timeout=60_000)


def test_sse_parser_handles_split_chunks_crlf_comments_and_multiline_data(
    page, live_server
) -> None:
    open_demo(page, live_server)
    events = page.evaluate(
        """() => {
            const seen = [];
            const p = window.RagChat.createSseParser((e) => seen.push(e));
            const stream = ': keep-alive\\r\\n\\r\\nevent: passages\\r\\ndata: {"a":\\r\\n' +
                'data: 1}\\r\\n\\r\\nevent:answer\\ndata:x\\n\\n: c\\revent: done\\rdata: {}\\r\\r';
            // Every split point, including between the CR and LF of a CRLF.
            for (let i = 0; i < stream.length; i += 3) p.push(stream.slice(i, i + 3));
            p.end();
            return seen;
        }"""
    )
    assert events == [
        {"event": "passages", "data": '{"a":\n1}'},
        {"event": "answer", "data": "x"},
        {"event": "done", "data": "{}"},
    ]


@pytest.mark.parametrize(
    ("name", "viewport", "scheme"),
    [
        ("widget-desktop-light", DESKTOP, "light"),
        ("widget-desktop-dark", DESKTOP, "dark"),
        ("widget-phone-light", PHONE, "light"),
        ("widget-phone-dark", PHONE, "dark"),
    ],
)
def test_screenshots(browser, live_server, name: str, viewport: dict, scheme: str) -> None:  # type: ignore[type-arg]
    context = browser.new_context(
        viewport=viewport, color_scheme=scheme, locale="zh-CN", reduced_motion="reduce"
    )
    page = context.new_page()
    try:
        open_demo(page, live_server)
        page.locator(LAUNCHER).click()
        ask_with_keyboard(page, SHOWCASE_QUESTION)
        reply = last_reply(page)
        reply.locator(".answer-text mark").wait_for(timeout=60_000)
        # The [n] after the answer opens that citation.
        reply.locator(".via .ref").click()
        assert reply.locator(".cite-btn[aria-expanded=true] + .passage mark").is_visible()
        wait_idle(page)
        box = page.locator(PANEL).bounding_box()
        assert box is not None
        if viewport is PHONE:
            # Under 480 px the panel takes the whole screen.
            assert box["width"] == viewport["width"] and box["height"] == viewport["height"]
        background = page.evaluate(
            "() => getComputedStyle(document.querySelector('rag-chat-launcher')"
            ".shadowRoot.querySelector('.panel')).backgroundColor"
        )
        dark = [int(c) for c in re.findall(r"\d+", background)[:3]]
        assert (sum(dark) < 200) == (scheme == "dark"), background
        screenshot(page, name)
    finally:
        context.close()


# --- A customer's page on another origin, and hostile article text -------------------------

HOSTILE_IMG = "<img src=x onerror=alert(1)>"
HOSTILE_SCRIPT = "<script>alert(2)</script>"
XSS_QUESTION = "玄武岩纤维厂今年的年产量是多少"
XSS_ARTICLE = f"""玄武岩纤维厂产量翻番 {HOSTILE_IMG}

玄武岩纤维厂位于河西走廊。该厂今年的年产量达到了4321吨，比去年增长了一倍。

厂长说，网页上出现的 {HOSTILE_IMG} 和 {HOSTILE_SCRIPT} 只是普通文字，不会被执行。
"""


@contextmanager
def page_server(pages: dict[str, str]) -> Iterator[str]:
    """A tiny static server on its own port (so its own origin); `pages` maps path to HTML."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path, "not found").encode()
            self.send_response(200 if self.path in pages else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def customer_site() -> Iterator[tuple[str, dict[str, str]]]:
    """A customer's site on another origin; tests fill in its pages."""
    pages: dict[str, str] = {}
    with page_server(pages) as origin:
        yield origin, pages


@pytest.fixture(scope="module")
def hostile_server(customer_site, embedder, tmp_path_factory):  # type: ignore[no-untyped-def]
    """A second real server over a one-article corpus full of markup, allowing the customer
    site's origin (and only it) through CORS."""
    from index.store.build import build_index

    origin, _ = customer_site
    tmp = tmp_path_factory.mktemp("hostile")
    corpus_dir = tmp / "corpus"
    corpus_dir.mkdir()
    (corpus_dir / "hostile.txt").write_text(XSS_ARTICLE, encoding="utf-8")
    build_index(corpus_dir, tmp / "index", embedder.name, progress=False, embedder=embedder)
    with running_server(
        {
            "RAGQA_INDEX_DIR": str(tmp / "index"),
            "RAGQA_CORPUS_DIR": str(corpus_dir),
            "RAGQA_MODEL": embedder.name,
            "RAGQA_CORS_ORIGINS": origin,
        },
        tmp / "server.log",
    ) as base:
        yield base


def test_article_markup_is_shown_as_text_never_run(page, customer_site, hostile_server) -> None:
    origin, pages = customer_site
    pages["/xss.html"] = (
        f'<!doctype html><html lang="zh"><body><h1>客户网站</h1>'
        f'<script src="{hostile_server}/widget.js" data-endpoint="{hostile_server}"'
        f' data-open="true" defer></script></body></html>'
    )
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{origin}/xss.html")
    page.wait_for_function("() => window.RagChat && window.RagChat.floating")
    ask_with_keyboard(page, XSS_QUESTION)
    reply = last_reply(page)
    reply.locator(".answer-text mark").wait_for(timeout=60_000)
    assert "4321吨" in reply.locator(".answer-text").inner_text()
    for button in reply.locator(".cite-btn").all():
        button.click()
    page.wait_for_timeout(200)  # let any injected handler have its chance to fire

    assert dialogs == []
    shadow_counts = page.evaluate(
        """() => { const root = document.querySelector('rag-chat-launcher').shadowRoot;
            return ['img', 'script'].map((tag) => root.querySelectorAll(tag).length); }"""
    )
    assert shadow_counts == [0, 0]
    assert page.locator("img").count() == 0
    text = reply.inner_text()
    assert HOSTILE_IMG in text and HOSTILE_SCRIPT in text


def test_cors_lets_the_allowed_origin_read_answers_and_no_one_else(
    page, customer_site, hostile_server, live_server
) -> None:
    origin, pages = customer_site
    pages["/blank.html"] = "<!doctype html><title>customer</title>"
    page.goto(f"{origin}/blank.html")
    script = """async ([url, question]) => {
        try {
            const r = await fetch(url + '/v1/ask', {method: 'POST', credentials: 'omit',
                headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({question, top_k: 1})});
            return {ok: r.ok, type: r.type, body: await r.json()};
        } catch (e) { return {error: String(e)}; }
    }"""
    allowed = page.evaluate(script, [hostile_server, XSS_QUESTION])
    assert allowed.get("ok") is True and allowed["type"] == "cors", allowed
    assert "4321吨" in allowed["body"]["answer"]["text"]
    # The shared live server does not list this origin: the browser withholds the reply.
    refused = page.evaluate(script, [live_server, XSS_QUESTION])
    assert "error" in refused and "Failed to fetch" in refused["error"], refused
