"""Stage 4, answer choice: the best-supported sentence of the top passages, or None.

Each candidate sentence is scored from a few interpretable features: its similarity to the
question, the question's keywords in it and in its passage (the words naming what the
question is about must be in the passage: 白银炉, not another furnace), whether it holds
the kind of thing asked for (a number for "多少 / how many", a person for "谁 / who", a date
for "哪一年 / when"), whether it says anything the question does not already say, and its
passage's rank. Whether the best one answers at all ("the corpus does not say") is not
decided here: the abstention model (`index.rank.abstain`, pipeline stage 5) reads its evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from index.rank.matching import QueryTerms, coverage, normalized
from index.rank.params import AnswerParams
from index.rank.types import AnswerChoice, Evidence, Query, Ranking, SentenceCandidate
from index.rank.wordbridge import bridge
from index.search.view import IndexView
from index.text.tokenize import has_cjk, tokenize

_ASKS_QUANTITY = re.compile(
    r"多少|几[个家项次倍年名位成座条台种]|多大|多高|多快|多厚|多薄|多长|多远|比例|比重|占比|增速|增幅"
    r"|第几|百分之|how (many|much|fast|large|big|high|thin|thick|long)"
    r"|what (share|percentage|proportion|rate|portion)|by what|growth rate",
    re.IGNORECASE,
)
_ASKS_PERSON = re.compile(r"谁|哪位|\bwho\b|\bwhom\b", re.IGNORECASE)
_ASKS_TIME = re.compile(r"哪一?年|何时|什么时候|\bwhen\b|what year|which year", re.IGNORECASE)
_NUMBER = re.compile(
    r"\d+(?:\.\d+)?|[一二三四五六七八九十两百千万亿]+(?=[个家项次倍成位名座条台种%年])"
)
_DATE = re.compile(r"\d{4}年(?:\d{1,2}月)?(?:\d{1,2}日)?|\d{1,2}月\d{1,2}日|\d{1,2}月|\d+号")
_PERSON_CUE = re.compile(
    r"书记|经理|董事长|主任|工程师|局长|院长|市长|省长|部长|主席|总裁|负责人|厂长|校长"
    r"|说|介绍|表示|告诉|指出|强调"
)
_YEAR = re.compile(r"\d{4}年|\d{1,2}月")
_CONTENT_CHAR = re.compile(r"[\w\u4e00-\u9fff]")


@dataclass(frozen=True)
class AnswerFeatures:
    """Why a sentence scores what it does (kept for evaluation reports)."""

    similarity: float
    keywords: float
    beyond_title: float
    context_keywords: float
    focus: float
    subject: float
    answer_type: float
    novelty: float
    passage_prior: float
    bridge: float = 0.0
    """Share of the Chinese words bridged from an English question found in the sentence."""


def answer_type_match(question: str, sentence: str, question_numbers: frozenset[str]) -> float:
    """1 when the sentence holds the kind of thing asked for (or nothing specific is asked)."""
    if _ASKS_QUANTITY.search(question):
        found = set(_NUMBER.findall(_DATE.sub(" ", normalized(sentence))))
        return 1.0 if found - question_numbers else 0.0
    if _ASKS_PERSON.search(question):
        return 1.0 if _PERSON_CUE.search(sentence) else 0.0
    if _ASKS_TIME.search(question):
        return 1.0 if _YEAR.search(sentence) else 0.0
    return 1.0


def novelty(question: str, sentence: str) -> float:
    """Share of the sentence's characters the question does not contain (0 = a restatement)."""
    asked = set(normalized(question))
    chars = _CONTENT_CHAR.findall(normalized(sentence))
    if not chars:
        return 0.0
    return sum(1 for c in chars if c not in asked) / len(chars)


def beyond_title(terms: QueryTerms, title: str) -> frozenset[str]:
    """The question's keywords its document's title does not contain.

    The title names what the whole article is about ("黄鳍紫鱼"), so its sentences need not
    repeat it; the words left ("体长") are what the answering sentence has to say. Fitted by
    `ragqa eval tune` (`AnswerParams.w_beyond_title`), held out by article, this feature took
    CMRC trial answer accuracy from 71.3% to 76.5% (2026-12-02)."""
    named = normalized(title)
    return frozenset(t for t in terms.tokens if t not in named)


def features(
    candidate: SentenceCandidate,
    question: str,
    terms: QueryTerms,
    params: AnswerParams,
    bridged: frozenset[str] = frozenset(),
) -> AnswerFeatures:
    """The feature vector of one candidate sentence; `bridged`: the Chinese words an English
    question's words were matched to in the top passages (`index.rank.wordbridge.bridge`)."""
    share = terms.lexical_share
    return AnswerFeatures(
        similarity=candidate.similarity,
        keywords=share * coverage(terms.tokens, candidate.text, terms.weights),
        beyond_title=share
        * coverage(beyond_title(terms, candidate.title), candidate.text, terms.weights),
        context_keywords=share * coverage(terms.tokens, candidate.passage_text, terms.weights),
        focus=coverage(terms.focus, candidate.text, terms.weights),
        subject=share * coverage(terms.tokens - terms.focus, candidate.passage_text, terms.weights),
        answer_type=answer_type_match(question, candidate.text, terms.numbers),
        novelty=min(novelty(question, candidate.text) / params.novelty_full, 1.0),
        passage_prior=candidate.passage_prior,
        bridge=coverage(bridged, candidate.text),
    )


def score(f: AnswerFeatures, params: AnswerParams) -> float:
    """Linear evidence score; the weights are `AnswerParams`."""
    return (
        params.w_similarity * f.similarity
        + params.w_keywords * f.keywords
        + params.w_beyond_title * f.beyond_title
        + params.w_context * f.context_keywords
        + params.w_focus * f.focus
        + params.w_subject * f.subject
        + params.w_answer_type * f.answer_type
        + params.w_novelty * f.novelty
        + params.w_passage * f.passage_prior
        + params.w_bridge * f.bridge
    )


# -- the stage ---------------------------------------------------------------------------


def answer_candidates(
    index: IndexView, query: Query, ranking: Ranking, params: AnswerParams
) -> list[SentenceCandidate]:
    """Every sentence of the top `passages` passages, clipped to its passage."""
    candidates: list[SentenceCandidate] = []
    chunk_ids = ranking.top(params.passages)
    query.sentences.prefetch(chunk_ids)
    for position, chunk in enumerate(chunk_ids):
        doc, start, end = index.passage(chunk)
        rows, sims = query.sentences.of_passage(chunk)
        if not rows.size:
            continue
        prior = 1.0 - position / max(len(chunk_ids), 1)
        context = f"{doc.title}\n{doc.text[start:end]}"
        for row, sim in zip(rows.tolist(), sims.tolist(), strict=True):
            _, s_start, s_end = index.sentences[row].tolist()
            a, b = max(s_start, start), min(s_end, end)
            if b > a:
                candidates.append(
                    SentenceCandidate(
                        position, a, b, doc.text[a:b], context, float(sim), prior, doc.title
                    )
                )
    return candidates


def bridged_words(
    index: IndexView, query: Query, ranking: Ranking, params: AnswerParams
) -> frozenset[str]:
    """The Chinese words of the top `bridge_passages` passages that an English question's
    words and word pairs name (`index.rank.wordbridge.bridge`); empty for a Chinese question."""
    if query.phrase_vectors is None:
        return frozenset()
    words: set[str] = set()
    for chunk in ranking.top(params.bridge_passages):
        doc, start, end = index.passage(chunk)
        words.update(passage_words(f"{doc.title}\n{doc.text[start:end]}"))
    return bridge(query.phrase_vectors, index.words, words, params.bridge_threshold)


@lru_cache(maxsize=4096)
def passage_words(text: str) -> frozenset[str]:
    """The jieba words of a passage (title + text), cached: the same top passages come back
    for many questions, and tokenizing three of them cost about 4 ms of an English ask."""
    return frozenset(tokenize(text))


@dataclass(frozen=True)
class ScoredSentences:
    """Every candidate sentence of the top passages, its features, and (score, position)
    pairs best first: what stage 4 chooses from."""

    candidates: list[SentenceCandidate]
    features: list[AnswerFeatures]
    scored: list[tuple[float, int]]


def score_sentences(
    index: IndexView, query: Query, ranking: Ranking, params: AnswerParams
) -> ScoredSentences | None:
    """The answer features' score of every sentence of the top passages (None: no sentences)."""
    candidates = answer_candidates(index, query, ranking, params)
    if not candidates:
        return None
    bridged = bridged_words(index, query, ranking, params)
    evidence_of = [features(c, query.question, query.terms, params, bridged) for c in candidates]
    scored = sorted(
        ((score(f, params), i) for i, f in enumerate(evidence_of)), key=lambda pair: -pair[0]
    )
    return ScoredSentences(candidates, evidence_of, scored)


def choice_of(
    found: ScoredSentences,
    query: Query,
    ranking: Ranking,
    scored: list[tuple[float, int]] | None = None,
    threshold: float | None = None,
) -> AnswerChoice:
    """The best of `scored` (default: the answer features' order) and the evidence about it;
    `threshold`: the chooser's own "does not answer" line, if it has one (stage 5 reads it)."""
    order = found.scored if scored is None else scored
    terms, question = query.terms, query.question
    best_score, best_at = order[0]
    best = found.candidates[best_at]
    runner_up = order[1][0] if len(order) > 1 else 0.0
    evidence = Evidence(
        score=best_score,
        similarity=best.similarity,
        support=coverage(terms.tokens, best.passage_text, terms.weights),
        focus_support=coverage(terms.focus, best.passage_text, terms.weights),
        margin=best_score - runner_up,
        lexical_share=terms.lexical_share,
        english=0.0 if has_cjk(question) else 1.0,
        has_focus=1.0 if terms.focus else 0.0,
        answer_type=found.features[best_at].answer_type,
        name_support=coverage(terms.names, best.passage_text, terms.weights)
        if terms.names
        else 1.0,
        has_names=1.0 if terms.names else 0.0,
    )
    chunk = ranking.passages[best.passage_index][0]
    return AnswerChoice(best, chunk, best_score, evidence, threshold)


def choose_answer(
    index: IndexView, query: Query, ranking: Ranking, params: AnswerParams
) -> AnswerChoice | None:
    """The best-scoring candidate sentence and the evidence about it (None: no sentences)."""
    found = score_sentences(index, query, ranking, params)
    return None if found is None else choice_of(found, query, ranking)
