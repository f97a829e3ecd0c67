"""`ragqa eval fit-reader`: fit how stage 4 uses the trained reader, on paragraphs nobody
trained or tuned on, and write `index/reader/weights/stage.json`.

The fit set: 160 of the paragraphs the reader's training run held out (whole paragraphs of
CMRC 2018 train and DRCD, the same seeded split as `ragqa train reader`), indexed as a corpus
of their own under the evaluation cache, with every question asked of them; and, as questions
the corpus does not answer, one question of each of 100 other held-out paragraphs whose
answer appears nowhere in the indexed ones.

Each question runs through the real pipeline; stage 4's answer features (on their documented
defaults, `ReaderStage` uses no others) shortlist the `candidates` best sentences and the
provisioned int8 reader scores them. Then, on that record:

- `feature_weight`: of `WEIGHTS`, the one whose blended score (the reader's plus the weight
  times the features') answers most questions right when the threshold below is applied; of
  weights answering as many, the smallest. The features reward the question's words in a
  sentence, which a near miss has too (兰州 and 人口 without Lanzhou's population), so they
  weigh no more than the answers ask. The 47 off-corpus questions are too few to break the tie
  (one question is two points); until 2026-12-08 they did, and a tie went to the weight that
  refused more of them;
- `threshold`: the highest blended best score at which at most `max_null` of the answerable
  questions get `answer: null`.
- `accept_first`: the lowest blended score of the features' first sentence at which it is
  taken as the answer without reading the others, costing at most `ACCEPT_LOSS` of the
  answers (`accept_first_for`).

Whether stage 5 keeps the abstention model beside the reader (`abstain_on_features`) is the
command's `--alone`, chosen from the latency table like the candidates.

The candidates are chosen by the latency table (`scripts/bench_reader.py`), not fitted.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.cmrc import Paragraph, cmrc_index, source_name
from eval.dataset import Question, contains_answer
from eval.fitting import choose_threshold

if TYPE_CHECKING:
    from index.encode.embedder import Embedder
    from index.reader.runtime import Reader, ReaderParams

WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
PARAGRAPHS = 160
ACCEPT_LOSS = 0.005
"""How much of the fit set's answers reading only the features' first sentence (when its
blended score is high) may cost: the latency the reader saves for it."""
OFF_CORPUS = 100
SEED = 1


@dataclass(frozen=True)
class Shortlist:
    """What stage 4 saw for one question: the features' best sentences, in the features'
    order, with their features' score, the reader's score and whether they hold an answer."""

    answerable: bool
    features: list[float]
    reader: list[float]
    right: list[bool]

    def best(self, weight: float, accept_first: float | None = None) -> tuple[float, bool] | None:
        """The blended best score and whether that sentence holds an answer (the features'
        first sentence alone when its blended score reaches `accept_first`)."""
        if not self.features:
            return None
        blended = [r + weight * f for r, f in zip(self.reader, self.features, strict=True)]
        if accept_first is not None and blended[0] >= accept_first:
            return blended[0], self.right[0]
        at = max(range(len(blended)), key=blended.__getitem__)
        return blended[at], self.right[at]

    def read(self, weight: float, accept_first: float | None) -> int:
        """How many sentences the reader reads for this question."""
        if not self.features:
            return 0
        first = self.reader[0] + weight * self.features[0]
        return 1 if accept_first is not None and first >= accept_first else len(self.features)


def fit_set(
    data_dir: Path, seed: int, held_out_share: float
) -> tuple[list[Paragraph], list[Question]]:
    """The fit set's paragraphs and questions (answerable, then off-corpus)."""
    from index.reader.data import load_cmrc_train, load_drcd, split_by_paragraph

    questions = load_cmrc_train(data_dir).questions + load_drcd(data_dir).questions
    _, held = split_by_paragraph(questions, held_out_share, seed)
    by_paragraph: dict[str, list[Any]] = {}
    for q in held:
        by_paragraph.setdefault(q.paragraph_id, []).append(q)
    ids = sorted(by_paragraph)
    random.Random(SEED).shuffle(ids)
    paragraphs: list[Paragraph] = []
    asked: list[Question] = []
    for n, paragraph_id in enumerate(ids[:PARAGRAPHS]):
        name = f"HELD_{n}"
        first = by_paragraph[paragraph_id][0]
        title = f"{paragraph_id.split(':')[0].upper()} {n}"
        paragraphs.append(Paragraph(name, title, first.context))
        asked += [
            Question(q.id, q.question, (q.answer,), source_name(name), ("held-out",))
            for q in by_paragraph[paragraph_id]
        ]
    indexed = "\n".join(p.text for p in paragraphs)
    for paragraph_id in ids[PARAGRAPHS : PARAGRAPHS + OFF_CORPUS]:
        q = by_paragraph[paragraph_id][0]
        if q.answer not in indexed:
            asked.append(Question(f"{q.id}-off", q.question, (), None, ("off-corpus",)))
    return paragraphs, asked


def shortlists(
    cache: Path,
    embedder: Embedder,
    reader: Reader,
    paragraphs: list[Paragraph],
    questions: list[Question],
    candidates: int,
    progress: Callable[[int], None] | None = None,
) -> list[Shortlist]:
    """Run every question through the pipeline and record stage 4's shortlist."""
    from index.engine import Engine
    from index.rank.answer import choose_answer, score_sentences
    from index.rank.fitted import Fitted
    from index.rank.params import AnswerParams

    _, index_dir = cmrc_index(cache, embedder, paragraphs=paragraphs, name="reader-heldout")
    engine = Engine.load(index_dir, embedder=embedder, fitted=Fitted.defaults())
    seen: dict[str, Any] = {}

    def recording(index: Any, query: Any, ranking: Any, params: Any) -> Any:
        seen["found"] = score_sentences(index, query, ranking, AnswerParams())
        return choose_answer(index, query, ranking, params)

    engine.pipeline.answer_stage = recording
    out: list[Shortlist] = []
    for n, question in enumerate(questions):
        seen.clear()
        engine.ask(question.question, 5)
        found = seen.get("found")
        top = [] if found is None else found.scored[:candidates]
        texts = [found.candidates[i].text for _, i in top] if found is not None else []
        out.append(
            Shortlist(
                question.answerable,
                [float(s) for s, _ in top],
                [float(x) for x in reader.score(question.question, texts)],
                [question.answerable and contains_answer(t, question.answers) for t in texts],
            )
        )
        if progress is not None:
            progress(n + 1)
    return out


def figures(
    rows: list[Shortlist], weight: float, threshold: float, accept_first: float | None = None
) -> dict[str, float]:
    """Answer (the chosen sentence holds an answer), answerable null, off-corpus refused."""
    answerable = [r for r in rows if r.answerable]
    off = [r for r in rows if not r.answerable]
    right = null = refused = 0
    for row in answerable:
        best = row.best(weight, accept_first)
        if best is None or best[0] < threshold:
            null += 1
        else:
            right += best[1]
    for row in off:
        best = row.best(weight, accept_first)
        refused += best is None or best[0] < threshold
    return {
        "answer": round(right / max(len(answerable), 1), 4),
        "answerable_null": round(null / max(len(answerable), 1), 4),
        "off_corpus_refused": round(refused / max(len(off), 1), 4),
        "answerable": len(answerable),
        "off_corpus": len(off),
    }


def threshold_for(rows: list[Shortlist], weight: float, max_null: float) -> float:
    """The highest threshold leaving at most `max_null` of the answerable questions null (a
    question without candidates is null whatever the threshold)."""
    scores = [
        best[0] if (best := r.best(weight)) is not None else float("-inf")
        for r in rows
        if r.answerable
    ]
    return choose_threshold(scores, max_null)


def fit(
    rows: list[Shortlist], candidates: int, max_null: float
) -> tuple[ReaderParams, dict[str, Any]]:
    """The weight and threshold, and the figures of every weight tried."""
    from index.reader.runtime import ReaderParams

    tried: dict[str, Any] = {}
    best: tuple[float, float] | None = None
    for weight in WEIGHTS:  # ascending: of weights answering as many, the smallest stays
        threshold = threshold_for(rows, weight, max_null)
        result = figures(rows, weight, threshold)
        tried[str(weight)] = {"threshold": round(threshold, 4), **result}
        if best is None or result["answer"] > best[0]:
            best = (result["answer"], weight)
    assert best is not None
    weight = best[1]
    threshold = round(tried[str(weight)]["threshold"], 4)
    accept_first = accept_first_for(rows, weight, threshold)
    if accept_first is not None:
        tried["accept_first"] = {
            "value": accept_first,
            **figures(rows, weight, threshold, accept_first),
            "read": round(sum(r.read(weight, accept_first) for r in rows) / len(rows), 4),
            "read_all": round(sum(r.read(weight, None) for r in rows) / len(rows), 4),
        }
    params = ReaderParams(
        candidates=candidates,
        threshold=threshold,
        feature_weight=weight,
        accept_first=accept_first,
    )
    return params, tried


def accept_first_for(
    rows: list[Shortlist], weight: float, threshold: float, max_loss: float = ACCEPT_LOSS
) -> float | None:
    """The lowest blended score of the features' first sentence at which it is taken as the
    answer without reading the others, costing at most `max_loss` of the answers (None: every
    candidate is always read). Never below `threshold`, so nulls and refusals do not change."""
    full = figures(rows, weight, threshold)["answer"]
    firsts = sorted(
        {round(r.reader[0] + weight * r.features[0], 4) for r in rows if r.features}
        | {round(threshold, 4)}
    )
    for value in (v for v in firsts if v >= threshold):
        if figures(rows, weight, threshold, value)["answer"] >= full - max_loss:
            return value
    return None


def write_stage(
    weights: Path, params: ReaderParams, tried: dict[str, Any], about: dict[str, Any]
) -> Path:
    """Write `stage.json` beside the delta it was fitted for (atomically)."""
    from index.reader.model import DELTA, file_sha256
    from index.reader.runtime import STAGE_FILE

    body = {
        "about": "How stage 4 uses the reader: see eval/reader_fit.py",
        "params": asdict(params),
        "delta_sha256": file_sha256(weights / DELTA),
        **about,
        "weights_tried": tried,
    }
    path = weights / STAGE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
