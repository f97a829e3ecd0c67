"""Stage 4 with the reader: the answer features shortlist, the reader chooses.

`ReaderStage(reader)` is an `index.rank.pipeline.AnswerStage`: every sentence of the top
passages is scored by the answer features (cheap), the best `reader.params.candidates` are
read with the question, and the reader's best is the answer, carrying the reader's threshold
so that stage 5 abstains on the reader's word.
"""

from __future__ import annotations

from index.rank.answer import choice_of, score_sentences
from index.rank.params import AnswerParams
from index.rank.types import AnswerChoice, Query, Ranking
from index.reader.runtime import Reader
from index.search.view import IndexView


class ReaderStage:
    """The answer stage of an engine that reads with `reader`."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    def __call__(
        self, index: IndexView, query: Query, ranking: Ranking, params: AnswerParams
    ) -> AnswerChoice | None:
        found = score_sentences(index, query, ranking, params)
        if found is None:
            return None
        shortlist = [i for _, i in found.scored[: self.reader.params.candidates]]
        read = self.reader.score(query.question, [found.candidates[i].text for i in shortlist])
        scored = sorted(
            ((float(r), i) for r, i in zip(read.tolist(), shortlist, strict=True)),
            key=lambda pair: -pair[0],
        )
        return choice_of(found, query, ranking, scored, self.reader.params.threshold)
