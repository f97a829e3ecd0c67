"""Stage 0, the query: the question encoded once and read for every later stage.

An English question's content words and word pairs are encoded too (the word bridge, in a
second call, cached and run in a worker thread while the question is ranked: only stage 4
reads them); BM25 reads the question as written, or an English one through the pinyin and
glossary bridge; its keywords, focus words and numbers are picked out (`index.rank.matching`).
"""

from __future__ import annotations

from concurrent.futures import Future

import numpy as np

from index.encode.words import QueryEncoder
from index.rank.glossary import Glossary, glossary_terms
from index.rank.matching import QueryTerms, query_terms
from index.rank.params import AnswerParams, RankingParams
from index.rank.types import Query, SentenceScores
from index.rank.wordbridge import PhraseCache, english_phrases
from index.search.view import IndexView
from index.text.tokenize import has_cjk
from index.types import Allowed


def read(
    index: IndexView,
    question: str,
    encoder: QueryEncoder,
    phrases: PhraseCache,
    ranking: RankingParams,
    answering: AnswerParams,
    allowed: Allowed | None = None,
    glossary: Glossary | None = None,
    *,
    fitting: bool = False,
) -> tuple[Query, Future[np.ndarray] | None]:
    """Stage 0: the question read for every stage, and its bridge phrases' vectors on their
    way (None: nothing to bridge). The one encoder pass of a request is here."""
    texts = encoder_texts(index, question, answering, fitting=fitting)
    # An English question's phrases (the word bridge) are encoded in a worker thread
    # while the question is encoded and its passages ranked: only stage 4 reads them.
    pending = phrases.encoding(encoder, texts[1:]) if len(texts) > 1 else None
    vector = encoder.encode_queries([question])[0]
    return read_query(index, question, vector, ranking, allowed, glossary=glossary), pending


def encoder_texts(
    index: IndexView, question: str, params: AnswerParams, *, fitting: bool = False
) -> list[str]:
    """What a request encodes: the question, and for an English question over an index with
    word vectors its content words and word pairs (the bridge), when the bridge's answer
    weight is not 0 (or for `fitting` it)."""
    if has_cjk(question) or not len(index.words) or not (params.w_bridge or fitting):
        return [question]
    return [question, *english_phrases(question, params.bridge_pairs)]


def read_query(
    index: IndexView,
    question: str,
    vector: np.ndarray,
    params: RankingParams,
    allowed: Allowed | None = None,
    phrase_vectors: np.ndarray | None = None,
    glossary: Glossary | None = None,
) -> Query:
    """The question read for every stage (`phrase_vectors`: the rest of `encoder_texts`;
    `glossary`: the English→Chinese glossary, None for the shipped one).

    A Chinese question is read by BM25 as is, trusted as far as its words occur in the corpus.
    An English question is read through the bridge: the place and company names it romanises
    and the glossary terms it uses, trusted `bridge_share` as much (a partial reading).
    """
    names: list[str] = []
    if has_cjk(question):
        lexical, share = question, index.vocabulary_hit(question)
    else:
        names = index.bridge.expand(question)
        words = names + glossary_terms(question, glossary)
        lexical = " ".join(words)
        share = params.bridge_share * index.vocabulary_hit(lexical) if words else 0.0
    terms = query_terms(lexical, share, question, index.idf, params.focus_window, names)
    phrases = phrase_vectors if phrase_vectors is not None and len(phrase_vectors) else None
    sentences = SentenceScores(index, vector)
    return Query(question, vector, lexical, terms, allowed, sentences, phrases)


def unsearchable_query(index: IndexView, question: str) -> Query:
    """A question with nothing to search for: no vector, no terms; it ranks nothing."""
    vector = np.zeros(index.dim, dtype=np.float32)
    terms = QueryTerms(frozenset(), {}, frozenset(), frozenset(), 0.0)
    return Query(question, vector, "", terms, None, SentenceScores(index, vector))
