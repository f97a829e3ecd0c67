/*
 * rag-chat: the embeddable question box for this service. Plain JavaScript, no build step,
 * no dependencies, no runtime downloads.
 *
 * <script src="https://HOST/widget.js" data-endpoint="https://HOST" data-title="…" defer>
 *   → a floating button that opens a chat panel. Options: data-lang="zh|en",
 *   data-theme="light|dark|auto", data-open="true", data-suggestions="q1|q2",
 *   data-floating="false" (only define <rag-chat>), data-collection="fdnews" (answer from
 *   this collection only; several: "a,b"; sent as `collections`, as /v1/ask takes it).
 * <rag-chat endpoint="…" heading="…" lang theme suggestions collection> → the same panel
 *   inline (`title` works too, but also gives the element a tooltip).
 * It lives in a shadow root (host CSS and ours never meet), calls only public routes without
 * credentials, and sets data from the service only as text, never as HTML.
 */
(() => {
  "use strict";

  const VERSION = "1.0.0";
  const TIMEOUT_MS = 30000;
  const TOP_K = 5;
  const CONTEXT = 5; // at most this many earlier questions go with one
  // Captured now: document.currentScript is null once this first synchronous run is over.
  const SCRIPT = document.currentScript;

  const STRINGS = {
    zh: {
      title: "资料问答",
      close: "关闭问答",
      input: "输入问题",
      placeholder: "输入问题，按 Enter 发送",
      send: "发送",
      stop: "停止",
      you: "问：",
      bot: "答：",
      greeting: "你好！提出一个问题，我会在资料中找出原文答案，并注明出处。",
      tryAsking: "试试问：",
      searching: "正在检索",
      locating: "正在定位答案",
      sources: "出处",
      related: "相关段落",
      noAnswer: "资料中没有找到答案。以下是最接近的段落，供参考：",
      quotedFrom: "摘自",
      link: "原文",
      undated: "未注明日期",
      answeredAs: (q) => `按“${q}”回答`,
      footer: "答案均摘自原文 · 点击出处查看上下文",
      network: "无法连接到问答服务，请检查网络后重试。",
      timeout: "等待超时（30 秒），请稍后再试。",
      cancelled: "已取消。",
      rateWait: (s) => `请求太频繁，请等待 ${s} 秒后再试。`,
      rate: "请求太频繁，请稍后再试。",
      invalid: (m) => `无法处理这个问题：${m}`,
      server: (s) => `服务暂时出错（HTTP ${s}），请稍后重试。`,
      streamError: (m) => `回答时出错：${m}`,
      malformed: "服务返回的数据不完整，请重试。",
    },
    en: {
      title: "Ask the articles",
      close: "Close",
      input: "Your question",
      placeholder: "Ask a question, press Enter to send",
      send: "Send",
      stop: "Stop",
      you: "Question: ",
      bot: "Answer: ",
      greeting: "Hi! Ask a question and I will quote the answer from the articles, with its source.",
      tryAsking: "Try asking:",
      searching: "Searching",
      locating: "Finding the answer",
      sources: "Sources",
      related: "Related passages",
      noAnswer: "The articles don't say. These are the closest passages:",
      quotedFrom: "Quoted from",
      link: "Source",
      undated: "undated",
      answeredAs: (q) => `Answered as: ${q}`,
      footer: "Answers are quoted from the articles · open a source to see its context",
      network: "Can't reach the question service. Check your connection and try again.",
      timeout: "No reply within 30 seconds. Please try again later.",
      cancelled: "Cancelled.",
      rateWait: (s) => `Too many questions. Please wait ${s} s and try again.`,
      rate: "Too many questions. Please wait a moment.",
      invalid: (m) => `This question can't be answered: ${m}`,
      server: (s) => `The service had a problem (HTTP ${s}). Please try again later.`,
      streamError: (m) => `Error while answering: ${m}`,
      malformed: "The reply was incomplete. Please try again.",
    },
  };

  const DARK = `--bg:#17191e;--surface:#22262d;--text:#e7e9ec;--muted:#a0a8b3;--border:#323741;--accent:#6b95ff;--accent-text:#0b1020;--accent-soft:#243255;--mark:#705c12;--mark-text:#fff6d0;--error:#ff8a80;--error-soft:#3a2020;--shadow:0 12px 40px rgba(0,0,0,.5);`;
  const CSS = `
:host{all:initial;display:block}
:host([hidden]){display:none}
.root{--bg:#ffffff;--surface:#f4f6f8;--text:#1d2127;--muted:#5c6672;--border:#e1e5ea;--accent:#2356d8;--accent-text:#ffffff;--accent-soft:#e8efff;--mark:#ffe98a;--mark-text:#1d2127;--error:#b42318;--error-soft:#fdecea;--shadow:0 12px 40px rgba(16,24,40,.18);font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC",Roboto,"Helvetica Neue",Arial,sans-serif;font-size:15px;line-height:1.6;color:var(--text);text-align:left;letter-spacing:normal;word-spacing:normal;text-transform:none;font-weight:400;font-style:normal;-webkit-font-smoothing:antialiased;box-sizing:border-box}
.root *,.root *::before,.root *::after{box-sizing:inherit}
.root[data-theme="dark"]{${DARK}}
@media (prefers-color-scheme:dark){.root[data-theme="auto"]{${DARK}}}
button,textarea{font:inherit;color:inherit;margin:0}
button{cursor:pointer}
:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:56px;height:56px;border-radius:50%;border:0;background:var(--accent);color:var(--accent-text);box-shadow:var(--shadow);display:grid;place-items:center;padding:0}
.launcher:hover{filter:brightness(1.08)}
.launcher svg{width:26px;height:26px}
.panel{display:flex;flex-direction:column;background:var(--bg);color:var(--text);border:1px solid var(--border);border-radius:16px;overflow:hidden}
.panel[hidden]{display:none}
.floating .panel{position:fixed;right:20px;bottom:88px;z-index:2147483000;width:400px;height:min(640px,calc(100vh - 112px));box-shadow:var(--shadow)}
.inline .panel{width:100%;height:560px;max-height:90vh}
@media (max-width:480px){.floating .panel{inset:0;width:100%;height:100%;border-radius:0;border:0}.opened .launcher{display:none}}
@media (prefers-reduced-motion:no-preference){.floating .panel:not([hidden]){animation:rise .16s ease-out}.dots::after{animation:dots 1.2s steps(4) infinite}.chev{transition:transform .15s}}
@keyframes rise{from{opacity:0;transform:translateY(8px)} to{opacity:1;transform:none}}
header{display:flex;align-items:center;gap:10px;padding:12px 14px 12px 18px;border-bottom:1px solid var(--border);background:var(--bg)}
h2{flex:1;margin:0;font-size:16px;font-weight:600;line-height:1.4}
.close{width:32px;height:32px;border-radius:8px;border:0;background:transparent;color:var(--muted);display:grid;place-items:center;padding:0}
.close:hover{background:var(--surface);color:var(--text)}
.close svg{width:18px;height:18px}
.log{flex:1;overflow-y:auto;padding:16px;display:flex;flex-direction:column;gap:14px;position:relative}
.msg{max-width:92%;padding:10px 14px;border-radius:14px;overflow-wrap:anywhere}
.msg p{margin:0}
.user{align-self:flex-end;background:var(--accent);color:var(--accent-text);border-bottom-right-radius:4px;white-space:pre-wrap}
.bot{align-self:flex-start;background:var(--surface);border-bottom-left-radius:4px;width:92%}
.bot.error{background:var(--error-soft);color:var(--error)}
.hello p + p{margin-top:8px;color:var(--muted);font-size:13px}
.chips{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}
.chip{border:1px solid var(--border);background:var(--bg);border-radius:999px;padding:4px 12px;font-size:13px;color:var(--accent);text-align:left}
.chip:hover{border-color:var(--accent)}
.status{color:var(--muted);font-size:14px}
.dots::after{content:"…";display:inline-block;width:1.2em;overflow:hidden;vertical-align:bottom}
@keyframes dots{from{width:0} to{width:1.2em}}
mark{background:var(--mark);color:var(--mark-text);border-radius:3px;padding:0 2px}
.answer-text mark{font-weight:600}
.ctx{color:var(--muted)}
.msg .via{margin-top:8px;font-size:12.5px;color:var(--muted)}
.msg .as{margin:0 0 6px;font-size:12.5px;color:var(--muted)}
.ref{border:0;background:var(--accent-soft);color:var(--accent);border-radius:6px;padding:0 6px;font-size:12px;font-weight:600;margin:0 2px;line-height:1.6}
.note{color:var(--muted);font-size:14px}
.cites{margin-top:10px;border-top:1px solid var(--border);padding-top:8px}
.cites h3{margin:0 0 4px;font-size:12px;font-weight:600;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.cites ol{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:2px}
.cite-btn{width:100%;display:grid;grid-template-columns:auto 1fr auto;gap:2px 8px;align-items:start;border:0;background:transparent;padding:6px 6px;border-radius:8px;text-align:left;font-size:13px}
.cite-btn:hover{background:var(--bg)}
.num{color:var(--accent);font-weight:600}
.ct{font-weight:500;overflow:hidden;display:-webkit-box;-webkit-line-clamp:2;-webkit-box-orient:vertical}
.meta{grid-column:2;color:var(--muted);font-size:12px}
.nw{white-space:nowrap}
.chev{grid-row:1;grid-column:3;width:16px;height:16px;color:var(--muted);margin-top:2px}
.cite-btn[aria-expanded="true"] .chev{transform:rotate(180deg)}
.passage{margin:2px 6px 8px;padding:10px 12px;background:var(--bg);border:1px solid var(--border);border-radius:8px;font-size:13.5px;line-height:1.7;white-space:pre-wrap;max-height:260px;overflow-y:auto}
.passage[hidden]{display:none}
.src{display:inline-block;margin:0 6px 6px 34px;font-size:12px;color:var(--accent)}
.via .src{margin:0 0 0 6px}
form{display:flex;gap:8px;align-items:flex-end;padding:12px 14px 6px;border-top:1px solid var(--border);background:var(--bg);margin:0}
textarea{flex:1;resize:none;min-height:42px;max-height:140px;padding:9px 12px;border-radius:12px;border:1px solid var(--border);background:var(--surface);line-height:1.5;font-size:15px;outline:none}
textarea:focus{border-color:var(--accent);box-shadow:0 0 0 3px var(--accent-soft)}
textarea::placeholder{color:var(--muted);opacity:1}
.send{height:42px;min-width:64px;padding:0 16px;border-radius:12px;border:0;background:var(--accent);color:var(--accent-text);font-weight:600}
.send.busy{background:var(--surface);color:var(--text);border:1px solid var(--border)}
footer{padding:0 16px 10px;font-size:11.5px;color:var(--muted);background:var(--bg)}
`;

  const icon = (d, cls = "") =>
    `<svg class="${cls}" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="${d}"/></svg>`;
  const ICON_CHAT = icon("M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12zM8.5 10.5h7M8.5 14h4.5");
  const ICON_CLOSE = icon("M6 6l12 12M18 6L6 18");
  const ICON_CHEVRON = icon("M6 9l6 6 6-6", "chev");
  // Static markup only (no data is ever interpolated here); texts are set with textContent.
  const PANEL_HTML = `
<section class="panel">
  <header><h2></h2><button type="button" class="close">${ICON_CLOSE}</button></header>
  <div class="log" role="log" aria-live="polite" aria-busy="false"></div>
  <form novalidate>
    <textarea rows="1" enterkeyhint="send" autocomplete="off"></textarea>
    <button type="submit" class="send"></button>
  </form>
  <footer></footer>
</section>`;

  let uid = 0;
  const nextId = (prefix) => `rag-${prefix}-${++uid}`;

  function attrs(node, values) {
    for (const [name, value] of Object.entries(values)) node.setAttribute(name, value);
    return node;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = String(text);
    return node;
  }

  /**
   * Incremental Server-Sent Events parser (the WHATWG algorithm, minus id/retry).
   * push() takes decoded text in arbitrary chunks; onEvent gets {event, data} per blank line.
   */
  function createSseParser(onEvent) {
    let buffer = "";
    let eventName = "";
    let data = [];
    function line(text) {
      if (text === "") {
        if (data.length || eventName) onEvent({ event: eventName || "message", data: data.join("\n") });
        eventName = "";
        data = [];
        return;
      }
      if (text[0] === ":") return; // a comment, e.g. ": keep-alive"
      const colon = text.indexOf(":");
      const field = colon < 0 ? text : text.slice(0, colon);
      let value = colon < 0 ? "" : text.slice(colon + 1);
      if (value[0] === " ") value = value.slice(1);
      if (field === "event") eventName = value;
      else if (field === "data") data.push(value);
    }
    return {
      push(text) {
        buffer += text;
        const breaks = /\r\n|\r|\n/g;
        let start = 0;
        let match;
        while ((match = breaks.exec(buffer))) {
          // A CR at the very end may be the first half of a CRLF split across chunks.
          if (match[0] === "\r" && match.index === buffer.length - 1) break;
          line(buffer.slice(start, match.index));
          start = breaks.lastIndex;
        }
        buffer = buffer.slice(start);
      },
      end() {
        // Per the spec an event not terminated by a blank line is dropped at end of stream.
        if (buffer.endsWith("\r")) line(buffer.slice(0, -1));
        buffer = "";
      },
    };
  }

  /** A link to the cited article (opens a new tab), or nothing: only http(s) URLs are links. */
  const sourceLink = (url, text, label) =>
    typeof url === "string" && /^https?:\/\//i.test(url)
      ? [attrs(el("a", "src", `${text} ↗`), { href: url, target: "_blank", rel: "noopener noreferrer", "aria-label": label })]
      : [];
  /** Text around a <mark> on [start, end); append() makes strings text nodes, never HTML. */
  const highlighted = (text, start, end) => [text.slice(0, start), el("mark", "", text.slice(start, end)), text.slice(end)];

  const STOPS = /[。！？!?；;\n]/;

  /** [before, answer, after]: the answer with about one sentence of context on each side. */
  function contextAround(text, start, end, reach = 50) {
    let before = text.slice(Math.max(0, start - reach), start);
    let after = text.slice(end, end + reach);
    if (start > reach) {
      // Start at a sentence boundary, unless that would leave only a stray quote mark.
      const cut = before.search(STOPS);
      before = cut >= 0 && before.length - cut > 8 ? before.slice(cut + 1) : `…${before}`;
    }
    if (end + reach < text.length) {
      let cut = after.length - 1;
      while (cut > 0 && !STOPS.test(after[cut])) cut--;
      after = cut > 0 ? after.slice(0, cut + 1) : `${after}…`;
    }
    return [before.trimStart(), text.slice(start, end), after.trimEnd()];
  }

  /** Where `span` (document offsets) falls inside passage `p`, or null if it does not. */
  function spanIn(p, span, expected) {
    const text = String(p.text ?? "");
    if (span && Number.isInteger(span.char_start) && Number.isInteger(p.char_start)) {
      const s = span.char_start - p.char_start;
      const e = span.char_end - p.char_start;
      if (s >= 0 && e > s && e <= text.length && (expected == null || text.slice(s, e) === expected)) return [s, e];
    }
    if (expected) {
      const at = text.indexOf(expected);
      if (at >= 0) return [at, at + expected.length];
    }
    return null;
  }

  /** A plain-words message for a non-2xx response. */
  async function describeFailure(res, t) {
    const body = await res.json().catch(() => null); // not JSON: say the status instead
    const message = body?.error?.message;
    if (res.status === 429) {
      const wait = parseInt(res.headers.get("Retry-After") || "", 10);
      return Number.isFinite(wait) && wait >= 0 ? t.rateWait(wait) : t.rate;
    }
    if (res.status >= 400 && res.status < 500) return t.invalid(typeof message === "string" ? message : `HTTP ${res.status}`);
    return t.server(res.status);
  }

  class Failure extends Error {}

  function parsePayload(data, t) {
    try {
      const value = data ? JSON.parse(data) : {};
      if (value && typeof value === "object") return value;
    } catch (_) {}
    throw new Failure(t.malformed);
  }

  function options(read, fallbackEndpoint) {
    const lang = (read("lang") || document.documentElement.lang || "zh").toLowerCase().startsWith("en") ? "en" : "zh";
    const theme = ["light", "dark", "auto"].includes(read("theme")) ? read("theme") : "light";
    const endpoint = (read("endpoint") || fallbackEndpoint || location.origin).replace(/\/+$/, "");
    const suggestions = (read("suggestions") || "").split("|").map((s) => s.trim()).filter(Boolean);
    const collections = (read("collection") || "").split(",").map((s) => s.trim()).filter(Boolean);
    return { lang, theme, endpoint, title: read("heading") || read("title") || STRINGS[lang].title, open: read("open") === "true", suggestions, collections };
  }

  /**
   * Render the chat panel into `shadow`; `floating` adds the button and dialog behaviour.
   * Returns {open, close, toggle, ask} for the page (window.RagChat) and tests.
   */
  function mountPanel(shadow, opts, floating) {
    const t = STRINGS[opts.lang];
    const style = el("style", "", CSS);
    const root = el("div", `root ${floating ? "floating" : "inline"}`);
    root.dataset.theme = opts.theme;
    root.innerHTML = PANEL_HTML;
    shadow.append(style, root);

    const panel = root.querySelector(".panel");
    const log = root.querySelector(".log");
    const form = root.querySelector("form");
    const input = root.querySelector("textarea");
    const send = root.querySelector(".send");
    const closeBtn = root.querySelector(".close");
    panel.id = nextId("panel");
    root.querySelector("h2").textContent = opts.title;
    root.querySelector("footer").textContent = t.footer;
    attrs(log, { "aria-label": opts.title });
    attrs(input, { placeholder: t.placeholder, "aria-label": t.input });
    attrs(closeBtn, { "aria-label": t.close });
    attrs(panel, { role: floating ? "dialog" : "region", "aria-label": opts.title });
    send.textContent = t.send;

    let launcher = null;
    if (floating) {
      panel.hidden = true;
      launcher = attrs(el("button", "launcher"), {
        type: "button",
        "aria-label": opts.title,
        "aria-haspopup": "dialog",
        "aria-expanded": "false",
        "aria-controls": panel.id,
      });
      launcher.innerHTML = ICON_CHAT;
      root.append(launcher);
      launcher.addEventListener("click", () => (panel.hidden ? open(true) : close(true)));
      closeBtn.addEventListener("click", () => close(true));
      panel.addEventListener("keydown", (e) => {
        if (e.key === "Escape" && !e.isComposing) {
          e.preventDefault();
          close(true);
        }
      });
    } else {
      closeBtn.remove();
    }

    // Greeting with optional example questions.
    const hello = el("div", "msg bot hello");
    hello.append(el("p", "", t.greeting));
    if (opts.suggestions.length) {
      hello.append(el("p", "", t.tryAsking));
      const chips = el("div", "chips");
      for (const q of opts.suggestions) {
        const chip = el("button", "chip", q);
        chip.type = "button";
        chip.addEventListener("click", () => ask(q));
        chips.append(chip);
      }
      hello.append(chips);
    }
    log.append(hello);

    let current = null; // {controller, why}
    const asked = []; // answered questions: a follow-up's context
    let composing = false;

    function setBusy(busy) {
      log.setAttribute("aria-busy", String(busy));
      send.classList.toggle("busy", busy);
      send.textContent = busy ? t.stop : t.send;
    }

    function cancel(why) {
      if (current) {
        current.why = why;
        current.controller.abort();
        current = null;
        setBusy(false);
      }
    }

    function open(focus) {
      if (!floating) return;
      panel.hidden = false;
      root.classList.add("opened");
      launcher.setAttribute("aria-expanded", "true");
      if (focus) input.focus();
    }

    function close(returnFocus) {
      if (!floating) return;
      cancel("cancelled");
      panel.hidden = true;
      root.classList.remove("opened");
      launcher.setAttribute("aria-expanded", "false");
      if (returnFocus) launcher.focus();
    }

    function scrollTo(question, reply) {
      // Keep the question and the start of a long answer in view, not its last citation.
      const top = question.offsetTop - 8;
      const tall = reply.offsetTop + reply.offsetHeight - top > log.clientHeight;
      log.scrollTop = tall ? top : log.scrollHeight;
    }

    /** One question and its reply bubble, filled in as the stream arrives. */
    function createTurn(question) {
      const q = el("div", "msg user");
      q.append(el("span", "sr", t.you), question);
      const bubble = el("div", "msg bot");
      bubble.append(el("span", "sr", t.bot));
      const status = el("p", "status");
      status.append(t.searching, el("span", "dots"));
      const body = el("div", "body");
      const cites = el("div", "cites");
      cites.hidden = true;
      bubble.append(status, body, cites);
      log.append(q, bubble);
      log.scrollTop = log.scrollHeight;
      const expanded = new Set();

      function renderCitations(passages, heading, answer) {
        const answerText = answer ? answer.text : null;
        cites.replaceChildren(el("h3", "", heading));
        const list = el("ol");
        for (const p of passages) {
          const rank = Number(p.rank);
          const item = el("li", "cite");
          const regionId = nextId("passage");
          const btn = attrs(el("button", "cite-btn"), { type: "button", "aria-controls": regionId, "data-rank": rank });
          const meta = el("span", "meta nw", [p.published || t.undated, p.byline].filter(Boolean).join(" · "));
          btn.append(el("span", "num", `[${rank}]`), el("span", "ct", p.title || p.source), meta);
          btn.insertAdjacentHTML("beforeend", ICON_CHEVRON);
          const region = attrs(el("div", "passage"), { id: regionId, role: "region", "aria-label": `[${rank}] ${p.title || ""}` });
          const text = String(p.text ?? "");
          const span = p.highlight ? spanIn(p, p.highlight, answerText) : null;
          region.append(...(span ? highlighted(text, span[0], span[1]) : [text]));
          const show = (on) => {
            btn.setAttribute("aria-expanded", String(on));
            region.hidden = !on;
            if (on) expanded.add(rank);
            else expanded.delete(rank);
          };
          show(expanded.has(rank));
          btn.addEventListener("click", () => {
            show(region.hidden);
            if (!region.hidden) region.scrollIntoView({ block: "nearest" });
          });
          // The passage holding the answer links to the answer span, the others to themselves.
          const cited = answer && Number(answer.passage_rank) === rank ? answer : p;
          item.append(btn, region, ...sourceLink(cited.url, t.link, `${t.link}: ${p.title || ""}`));
          list.append(item);
        }
        cites.append(list);
        cites.hidden = passages.length === 0;
      }

      function expandCitation(rank) {
        const btn = cites.querySelector(`.cite-btn[data-rank="${rank}"]`);
        if (btn && btn.getAttribute("aria-expanded") !== "true") btn.click();
        if (btn) btn.focus();
      }

      return {
        answeredAs(rewritten) {
          if (typeof rewritten === "string" && rewritten !== question && !bubble.querySelector(".as")) {
            bubble.insertBefore(el("p", "as", t.answeredAs(rewritten)), bubble.children[1]);
          }
        },
        passages(passages) {
          status.firstChild.textContent = t.locating;
          renderCitations(passages, t.sources, null);
        },
        answer(answer, passages) {
          status.remove();
          body.replaceChildren();
          if (answer && typeof answer.text === "string") {
            const p = passages.find((x) => Number(x.rank) === Number(answer.passage_rank));
            const span = p ? spanIn(p, answer, answer.text) : null;
            const para = el("p", "answer-text");
            if (p && span) {
              // The answer in the words around it: context dimmed, the span itself marked.
              const [before, mark, after] = contextAround(String(p.text), span[0], span[1]);
              para.append(el("span", "ctx", before), el("mark", "", mark), el("span", "ctx", after));
            } else {
              para.append(el("mark", "", answer.text));
            }
            const via = el("p", "via");
            const ref = attrs(el("button", "ref", `[${answer.passage_rank}]`), {
              type: "button",
              "aria-label": `${t.quotedFrom} [${answer.passage_rank}]`,
            });
            ref.addEventListener("click", () => expandCitation(answer.passage_rank));
            const cited = [answer.title || answer.source, answer.published || t.undated, answer.byline].filter(Boolean).join(" · ");
            via.append(`${t.quotedFrom} `, ref, ` ${cited}`, ...sourceLink(answer.url, t.link, `${t.link}: ${answer.title || ""}`));
            body.append(para, via);
            renderCitations(passages, t.sources, answer);
          } else {
            body.append(el("p", "note", t.noAnswer));
            renderCitations(passages, t.related, null);
          }
          scrollTo(q, bubble);
        },
        fail(message) {
          status.remove();
          cites.hidden = true;
          bubble.classList.add("error");
          body.replaceChildren(el("p", "", message));
          scrollTo(q, bubble);
        },
        finish() {
          status.remove();
        },
      };
    }

    async function ask(raw) {
      const question = String(raw).trim();
      if (!question) return;
      cancel("cancelled");
      const turn = createTurn(question);
      const job = { controller: new AbortController(), why: null };
      current = job;
      setBusy(true);
      const timer = setTimeout(() => {
        if (current === job) cancel("timeout");
      }, TIMEOUT_MS);
      try {
        await runQuestion(question, asked.slice(-CONTEXT), job.controller.signal, turn);
        asked.push(question);
      } catch (err) {
        if (job.why === "cancelled") turn.fail(t.cancelled);
        else if (job.why === "timeout") turn.fail(t.timeout);
        else if (err instanceof Failure) turn.fail(err.message);
        else turn.fail(t.network);
      } finally {
        clearTimeout(timer);
        if (current === job) {
          current = null;
          setBusy(false);
        }
      }
    }

    async function runQuestion(question, context, signal, turn) {
      const init = {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        // The scope's names are the API's (`collections`); none given: every collection.
        body: JSON.stringify({
          question,
          top_k: TOP_K,
          ...(opts.collections.length ? { collections: opts.collections } : {}),
          ...(context.length ? { context } : {}),
        }),
        credentials: "omit",
        mode: "cors",
        cache: "no-store",
        signal,
      };
      let res = await fetch(`${opts.endpoint}/v1/ask/stream`, init);
      const streamMissing = [404, 405, 501].includes(res.status);
      if (streamMissing || (res.ok && !res.body)) {
        // No streaming route (or no readable streams here): one plain JSON answer instead.
        res = await fetch(`${opts.endpoint}/v1/ask`, { ...init, headers: { "Content-Type": "application/json" } });
        if (!res.ok) throw new Failure(await describeFailure(res, t));
        const result = await res.json().catch(() => null);
        if (!result || !Array.isArray(result.passages)) throw new Failure(t.malformed);
        turn.answeredAs(result.question);
        turn.answer(result.answer, result.passages);
        return;
      }
      if (!res.ok) throw new Failure(await describeFailure(res, t));

      let answered = false;
      let finished = false;
      const parser = createSseParser(({ event, data }) => {
        if (finished || !["passages", "answer", "error", "done"].includes(event)) return;
        const payload = parsePayload(data, t);
        if (event === "done") finished = true;
        else if (event === "error") throw new Failure(t.streamError(String(payload.error?.message ?? t.malformed)));
        else if (!Array.isArray(payload.passages)) throw new Failure(t.malformed);
        else if (event === "passages") {
          turn.answeredAs(payload.question);
          turn.passages(payload.passages);
        }
        else {
          turn.answer(payload.answer, payload.passages);
          answered = true;
        }
      });
      const reader = res.body.getReader();
      const decoder = new TextDecoder("utf-8");
      try {
        while (!finished) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.push(decoder.decode(value, { stream: true }));
        }
        parser.push(decoder.decode());
        parser.end();
      } finally {
        reader.cancel().catch(() => {});
      }
      if (!answered) throw new Failure(t.malformed);
      turn.finish();
    }

    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (current && !input.value.trim()) {
        cancel("cancelled"); // the button reads "Stop" while a question is in flight
        return;
      }
      const question = input.value;
      if (!question.trim()) return;
      input.value = "";
      autosize();
      ask(question);
    });
    input.addEventListener("compositionstart", () => (composing = true));
    input.addEventListener("compositionend", () => (composing = false));
    input.addEventListener("keydown", (e) => {
      if (e.key !== "Enter" || e.shiftKey) return;
      // Enter that confirms an IME candidate (Chinese input) must not send the question.
      if (e.isComposing || composing || e.keyCode === 229) return;
      e.preventDefault();
      form.requestSubmit();
    });
    function autosize() {
      input.style.height = "auto";
      input.style.height = `${Math.min(input.scrollHeight + 2, 140)}px`;
    }
    input.addEventListener("input", autosize);

    if (floating && opts.open) open(false);
    return { open: () => open(true), close: () => close(true), toggle: () => (panel.hidden ? open(true) : close(true)), ask };
  }

  class RagChatElement extends HTMLElement {
    connectedCallback() {
      if (this.shadowRoot) return;
      const read = (name) => this.getAttribute(name) || "";
      this.controller = mountPanel(this.attachShadow({ mode: "open" }), options(read, scriptOrigin()), false);
    }
    ask(question) {
      return this.controller && this.controller.ask(question);
    }
  }

  function scriptOrigin() {
    try {
      return SCRIPT && SCRIPT.src ? new URL(SCRIPT.src, location.href).origin : location.origin;
    } catch (_) {
      return location.origin;
    }
  }

  function mountLauncher() {
    const read = (name) => (SCRIPT && SCRIPT.dataset[name]) || "";
    if (read("floating") === "false") return;
    // Including the script twice must not give the page two buttons.
    if (window.RagChat && window.RagChat.floating) return;
    const host = document.createElement("rag-chat-launcher");
    document.body.append(host);
    const controller = mountPanel(host.attachShadow({ mode: "open" }), options(read, scriptOrigin()), true);
    Object.assign(window.RagChat, controller, { floating: controller });
  }

  if (!customElements.get("rag-chat")) customElements.define("rag-chat", RagChatElement);
  window.RagChat = window.RagChat || { version: VERSION, createSseParser, floating: null };
  if (document.body) mountLauncher();
  else document.addEventListener("DOMContentLoaded", mountLauncher, { once: true });
})();
