"""Stage 4 with the reader: the answer features shortlist, the reader chooses.

`ReaderStage(reader)` is an `index.rank.pipeline.AnswerStage`: every sentence of the top
passages is scored by the answer features (cheap), the best `reader.params.candidates` are
read with the question, each scores the reader's score plus `feature_weight` times its
features' score, and the best is the answer. Stage 5 abstains when that score is below the
fitted threshold, and (unless the stage was fitted `abstain_on_features=False`) when the
abstention model, reading the evidence of the features' own best sentence as it does without
a reader, says the corpus does not answer.
"""

from __future__ import annotations

from dataclasses import replace

from index.rank.answer import ScoredSentences, choice_of, score_sentences
from index.rank.params import AnswerParams
from index.rank.types import AnswerChoice, Query, Ranking
from index.reader.runtime import Reader
from index.search.view import IndexView


class ReaderStage:
    """The answer stage of an engine that reads with `reader`."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.features = AnswerParams()
        """The shortlist's answer features, on their documented defaults: the ones the
        reader's feature weight and threshold were fitted with (`eval.reader_fit`), whatever
        answer weights `index/rank/params.json` gives the engine."""

    def _blend(
        self, question: str, shortlist: list[tuple[float, int]], found: ScoredSentences
    ) -> list[tuple[float, int]]:
        """(the reader's score + the weight times the features', sentence) of `shortlist`."""
        if not shortlist:
            return []
        read = self.reader.score(question, [found.candidates[i].text for _, i in shortlist])
        weight = self.reader.params.feature_weight
        return [
            (float(r) + weight * feature, i)
            for r, (feature, i) in zip(read.tolist(), shortlist, strict=True)
        ]

    def __call__(
        self, index: IndexView, query: Query, ranking: Ranking, params: AnswerParams
    ) -> AnswerChoice | None:
        found = score_sentences(index, query, ranking, self.features)
        if found is None:
            return None
        chosen = self.reader.params
        shortlist = found.scored[: chosen.candidates]
        if chosen.accept_first is None:  # every candidate, in one batch
            blended = self._blend(query.question, shortlist, found)
        else:
            # the features' first sentence first: when it alone blends high enough, it is the
            # answer and the others go unread (the fitted `accept_first`, docs/reader.md)
            blended = self._blend(query.question, shortlist[:1], found)
            if blended[0][0] < chosen.accept_first:
                blended += self._blend(query.question, shortlist[1:], found)
        scored = sorted(blended, key=lambda pair: -pair[0])
        choice = choice_of(found, query, ranking, scored, chosen.threshold)
        if not chosen.abstain_on_features:
            return choice  # the reader's threshold alone is stage 5 (the engine passes no model)
        # stage 5's abstention model reads the evidence of the features' own best sentence
        # (with the engine's answer weights, the ones it was fitted with), as without a
        # reader; the reader's threshold adds its own "no" (docs/reader.md)
        own = found if params == self.features else score_sentences(index, query, ranking, params)
        return replace(choice, evidence=choice_of(own or found, query, ranking).evidence)
