"""The question-answering engine: a loaded index plus the model, answering `ask` and `search`.

A thin facade over `index.rank.pipeline.Pipeline`, where the stages are listed in order.
This is the one object the service holds. It is read-only once loaded, so a reload builds a
new engine and swaps the reference; in-flight requests finish on the old one. A request runs
one encoder pass (the question; an English question's words for the word bridge, when not
cached, in a second one, in a worker thread beside the first); passages and sentences were
embedded at build time.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from index.contents import Contents
from index.encode.embedder import Embedder, load_embedder, resolve_encoder
from index.errors import IndexMismatchError
from index.rank.abstain import AbstentionModel
from index.rank.answer import choose_answer
from index.rank.fitted import Fitted, shipped
from index.rank.glossary import Glossary, glossary_of
from index.rank.params import AnswerParams, RankingParams
from index.rank.pipeline import EVIDENCE, Pipeline, RetrievalConfig, Trace
from index.rank.types import Query, Ranking
from index.rank.wordbridge import PhraseCache
from index.reader.runtime import Reader
from index.reader.stage import ReaderStage
from index.search.filters import Catalog
from index.search.view import IndexView
from index.store.files import IndexData, IndexManifest, read_index
from index.text.searchable import has_searchable_content
from index.types import (
    Allowed,
    Answer,
    AskResult,
    Passage,
    Span,
    cite,
)


@dataclass(frozen=True)
class Retrieved:
    """The first half of `Engine.ask`: ranked passages, and the pipeline's trace through
    stage 3 that the answer step resumes."""

    question: str
    passages: list[Passage]
    took_ms: float
    trace: Trace
    started: float

    @property
    def query(self) -> Query:
        """Stage 0's reading of the question."""
        assert self.trace.query is not None
        return self.trace.query

    @property
    def ranking(self) -> Ranking:
        """The passages best first after stage 3."""
        assert self.trace.ranking is not None
        return self.trace.ranking


class Engine:
    """Answers questions from one index directory. Load with `Engine.load`."""

    def __init__(
        self,
        data: IndexData,
        embedder: Embedder,
        config: RetrievalConfig | None = None,
        abstention: AbstentionModel | None = None,
        *,
        ranking: RankingParams | None = None,
        answering: AnswerParams | None = None,
        view: IndexView | None = None,
        catalog: Catalog | None = None,
        glossary: Glossary | None = None,
        fitted: Fitted | None = None,
        reader: Reader | None = None,
    ) -> None:
        self.data = data
        self.embedder = embedder
        self.config = config or RetrievalConfig()
        self.fitted = fitted if fitted is not None else shipped()
        """The fitted numbers (loaded and checked by whoever built the engine over its index;
        the shipped file's, unchecked, when none was passed)."""
        self.abstention = abstention if abstention is not None else self.fitted.abstention
        self.ranking = ranking if ranking is not None else self.fitted.ranking
        self.answering = answering if answering is not None else self.fitted.answering
        self.index = view or IndexView(data)
        self.glossary = glossary_of(None) if glossary is None else glossary
        """The English→Chinese glossary of English questions (`Settings.glossary`)."""
        self.pipeline = Pipeline(
            self.index,
            embedder,
            self.config,
            self.ranking,
            self.answering,
            # with a reader whose stage was fitted to decide alone, its threshold is stage 5
            None
            if reader is not None and not reader.params.abstain_on_features
            else self.abstention,
            phrases=PhraseCache(),
            glossary=self.glossary,
            answer_stage=choose_answer if reader is None else ReaderStage(reader),
        )
        """Stages 0-5, run once each, in order, for every question."""
        self.reader = reader
        """The trained reader stage 4 chooses with (None: the answer features alone)."""
        self.catalog = catalog if catalog is not None else Catalog.single(len(data.documents))
        """Collection, metadata and alive flag per document row (tombstones are not alive)."""
        self.contents = Contents(data, self.catalog)
        """Its documents, collections and metadata, and the scope of a query over them."""

    @classmethod
    def load(
        cls,
        index_dir: Path,
        model: str | None = None,
        embedder: Embedder | None = None,
        config: RetrievalConfig | None = None,
        encoder: str | None = None,
        *,
        mmap: bool = True,
        verify: bool = True,
        defaults: bool = False,
        glossary: Glossary | None = None,
        fitted: Fitted | None = None,
        reader: Reader | None = None,
    ) -> Engine:
        """Load the index at `index_dir`; refuse (IndexMismatchError) if `model` or `encoder`
        (int8, fp32, auto) differs from what built it. None = whatever built it. Pass the
        `embedder` of a live engine to reuse its model.

        The vectors are memory-mapped by default (`mmap`), so worker processes share them;
        `verify` checks every file against the manifest's checksums first.

        The fitted bundle (`fitted`, else `index/rank/params.json` read now) is refused
        (ParamsMismatchError) when it was fitted for an index built with another model,
        encoder or chunking;
        `defaults=True` runs on the documented defaults and the shipped abstention model
        instead (evaluation variants with other chunk sizes or models). `glossary` is the
        English→Chinese glossary (`glossary.glossary_of(settings.glossary)`; None: the
        shipped one). `reader`: the trained reader stage 4 chooses with (None: the answer
        features alone)."""
        data = read_index(index_dir, verify=verify, mmap=mmap)
        built_with = data.manifest.model
        if model is not None and model != built_with:
            raise IndexMismatchError(
                f"the index at {index_dir} was built with model {built_with!r} and cannot be "
                f"queried with {model!r}: rebuild it (`ragqa build --model {model}`) or set "
                f"the model back to {built_with!r}"
            )
        variant = data.manifest.encoder
        wanted = resolve_encoder(encoder, built_with) if encoder is not None else variant
        if wanted != variant:
            raise IndexMismatchError(
                f"the index at {index_dir} holds {variant} vectors and cannot be queried with "
                f"{wanted} query vectors: rebuild it (`ragqa build --encoder {wanted}`) or set "
                f"RAGQA_ENCODER={variant}"
            )
        if embedder is None or embedder.name != built_with or embedder.encoder != variant:
            embedder = load_embedder(built_with, encoder=variant)
        if embedder.dim != data.manifest.dim:
            raise IndexMismatchError(
                f"model {built_with!r} gives {embedder.dim}-dimensional vectors but the index "
                f"holds {data.manifest.dim}-dimensional ones: rebuild it"
            )
        if defaults:
            return cls(
                data,
                embedder,
                config,
                fitted=Fitted.defaults(),
                glossary=glossary,
                reader=reader,
            )
        fitted = fitted if fitted is not None else Fitted.load()
        fitted.check(data.manifest, str(getattr(embedder, "encoder", "fp32")), index_dir)
        return cls(data, embedder, config, glossary=glossary, fitted=fitted, reader=reader)

    def with_config(self, config: RetrievalConfig) -> Engine:
        """The same index and model with another retriever/fusion (for evaluation runs)."""
        return self._copy(config=config)

    def with_params(
        self, ranking: RankingParams | None = None, answering: AnswerParams | None = None
    ) -> Engine:
        """The same index and model with other ranking and/or answer parameters (fitting)."""
        return self._copy(ranking=ranking or self.ranking, answering=answering or self.answering)

    def _copy(self, **changes: object) -> Engine:
        kwargs: dict[str, object] = {
            "config": self.config,
            "ranking": self.ranking,
            "answering": self.answering,
            **changes,
        }
        return Engine(
            self.data,
            self.embedder,
            kwargs["config"],  # type: ignore[arg-type]
            self.abstention,
            ranking=kwargs["ranking"],  # type: ignore[arg-type]
            answering=kwargs["answering"],  # type: ignore[arg-type]
            view=self.index,
            catalog=self.catalog,
            glossary=self.glossary,
            fitted=self.fitted,
            reader=self.reader,
        )

    @property
    def manifest(self) -> IndexManifest:
        return self.data.manifest

    @property
    def n_passages(self) -> int:
        """Number of chunks in the index (for /metrics)."""
        return len(self.data.chunks)

    @property
    def model_name(self) -> str:
        """The model that built the index (from the manifest)."""
        return self.data.manifest.model

    # -- ask / search ------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        top_k: int = 5,
        *,
        collections: Sequence[str] | None = None,
        allowed: Allowed | None = None,
    ) -> AskResult:
        """Ranked passages and an extractive answer (None when the corpus does not say).

        `collections=None` searches every collection in one merged ranking. Filters reach the
        pipeline as `allowed=engine.contents.scope(collections, filters)`."""
        return self.answer(self.retrieve(question, top_k, collections=collections, allowed=allowed))

    def search(
        self,
        query: str,
        top_k: int = 5,
        *,
        collections: Sequence[str] | None = None,
        allowed: Allowed | None = None,
    ) -> list[Passage]:
        """Ranked passages only (no answer extraction)."""
        return self.retrieve(query, top_k, collections=collections, allowed=allowed).passages

    def retrieve(
        self,
        question: str,
        top_k: int = 5,
        *,
        collections: Sequence[str] | None = None,
        allowed: Allowed | None = None,
    ) -> Retrieved:
        """Stages 0-3 (query, candidates, fusion, sentence evidence): the heavy half of `ask`,
        with its one encoder pass. `collections` and `allowed` restrict the
        documents it may return.

        A question with nothing searchable in it (`has_searchable_content`) retrieves no
        passages and gets no answer, without running the model."""
        started = time.perf_counter()
        scope = (
            self.contents.allowed(collections, None, allowed)
            if has_searchable_content(question)
            else None
        )
        trace = self.pipeline.run(question, scope, stop_after=EVIDENCE)
        assert trace.ranking is not None
        passages = [
            self._passage(rank, chunk, score)
            for rank, (chunk, score) in enumerate(trace.ranking.passages[:top_k], 1)
        ]
        took = (time.perf_counter() - started) * 1000
        return Retrieved(question, passages, took, trace, started)

    def answer(self, retrieved: Retrieved) -> AskResult:
        """Stages 4-5 (answer choice, abstention) over retrieved passages: no model call."""
        choice = self.pipeline.resume(retrieved.trace).answer
        answer: Answer | None = None
        passages = retrieved.passages
        if choice is not None:
            best = choice.sentence
            doc, _, _ = self.index.passage(choice.chunk)
            answer = Answer(
                text=best.text,
                citation=cite(doc, best.char_start, best.char_end, self.contents.news_of(doc)),
                passage_rank=best.passage_index + 1,
                score=round(choice.score, 4),
            )
            passages = [self._highlight(p, answer) for p in passages]
        took = (time.perf_counter() - retrieved.started) * 1000
        return AskResult(retrieved.question, answer, passages, round(took, 2))

    def _passage(self, rank: int, chunk: int, score: float) -> Passage:
        doc, start, end = self.index.passage(chunk)
        return Passage(
            rank=rank,
            score=round(float(score), 4),
            text=doc.text[start:end],
            citation=cite(doc, start, end, self.contents.news_of(doc)),
        )

    @staticmethod
    def _highlight(passage: Passage, answer: Answer) -> Passage:
        inside = (
            passage.doc_id == answer.doc_id
            and passage.char_start <= answer.char_start
            and answer.char_end <= passage.char_end
        )
        return (
            replace(passage, highlight=Span(answer.char_start, answer.char_end))
            if inside
            else passage
        )
