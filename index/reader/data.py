"""Training examples for the reader, from span-annotated reading-comprehension sets.

A question's paragraph is cut into sentences exactly as the index cuts documents
(`index.sentences.split_sentences`), so the reader learns on the units it will be asked to
score. The sentence that holds the whole gold span is the positive; other sentences of the
same paragraph are the negatives (the hardest first: those sharing most character bigrams with
the question). Some groups hold no positive at all, the same paragraph without the answer or
another paragraph, so that "no answer" is learnt too.

English: no English questions over Chinese text exist to train on (the hand-written English
CMRC questions are an evaluation set), so some questions are glossed word by word through
CC-CEDICT ("范廷颂是什么时候被任为主教的" -> "范廷颂 is what time by appoint as bishop"), which
teaches the model to read an English question against a Chinese sentence.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from index.text.sentences import split_sentences

CMRC_TRAIN = "cmrc2018-train/train-pseudo-cmrc2018.zip"
DRCD = ("drcd/DRCD_dev.json", "drcd/DRCD_test.json")
CEDICT = "cc-cedict/cedict_1_0_ts_utf-8_mdbg.txt.gz"


@dataclass(frozen=True)
class SpanQuestion:
    """A question with its paragraph and one gold span (offsets checked against the text)."""

    id: str
    question: str
    paragraph_id: str
    context: str
    answer: str
    answer_start: int


@dataclass(frozen=True)
class Loaded:
    """The questions of one set and how many were left out, by reason."""

    questions: list[SpanQuestion]
    bad_offsets: int
    """Gold spans whose `answer_start` does not point at the answer text."""


@dataclass(frozen=True)
class Group:
    """One training item: a question and candidate sentences, `label` the index of the
    sentence holding the answer, or -1 when none does (the reader should say "no answer")."""

    question: str
    candidates: tuple[str, ...]
    label: int


def _squad_questions(
    data: Iterable[dict], prefix: str, convert: Callable[[str], str] | None = None
) -> Loaded:
    keep = convert if convert is not None else (lambda text: text)
    questions: list[SpanQuestion] = []
    bad = 0
    for article in data:
        for paragraph in article["paragraphs"]:
            original = paragraph["context"]
            context = keep(original)  # once per paragraph, not per question
            # a character-for-character conversion keeps the offsets valid
            same_length = len(context) == len(original)
            pid = f"{prefix}{paragraph['id']}"
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]
                text, start = answer["text"], int(answer["answer_start"])
                if not text or original[start : start + len(text)] != text:
                    bad += 1
                    continue
                text = keep(text)
                if not same_length or context[start : start + len(text)] != text:
                    bad += 1
                    continue
                questions.append(
                    SpanQuestion(str(qa["id"]), keep(qa["question"]), pid, context, text, start)
                )
    return Loaded(questions, bad)


def load_cmrc_train(data_dir: Path) -> Loaded:
    """CMRC 2018 train (10,142 questions; the 21 whose offsets miss their answer are left out)."""
    with zipfile.ZipFile(data_dir / CMRC_TRAIN) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".json"))
        document = json.loads(archive.read(name).decode("utf-8"))
    return _squad_questions(document["data"], "cmrc:")


def load_drcd(data_dir: Path) -> Loaded:
    """DRCD dev + test, converted to Simplified Chinese with OpenCC (t2s keeps lengths)."""
    import opencc

    converter = opencc.OpenCC("t2s")
    questions: list[SpanQuestion] = []
    bad = 0
    for name in DRCD:
        document = json.loads((data_dir / name).read_text(encoding="utf-8"))
        loaded = _squad_questions(document["data"], f"drcd:{name}:", converter.convert)
        questions += loaded.questions
        bad += loaded.bad_offsets
    return Loaded(questions, bad)


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def sentence_units(question: SpanQuestion) -> tuple[list[str], int] | None:
    """The paragraph's sentences and the index of the one holding the whole answer
    (None when the answer crosses a sentence boundary)."""
    spans = split_sentences(question.context)
    end = question.answer_start + len(question.answer)
    texts = [question.context[s.char_start : s.char_end] for s in spans]
    for i, span in enumerate(spans):
        if span.char_start <= question.answer_start and end <= span.char_end:
            return texts, i
    return None


def groups_for(
    question: SpanQuestion,
    others: Sequence[SpanQuestion],
    rng: random.Random,
    *,
    size: int = 4,
    null_share: float = 0.2,
) -> list[Group]:
    """The training groups of one question: positive + hardest negatives, and sometimes a
    group with no positive (the same paragraph without the answer, or another paragraph)."""
    units = sentence_units(question)
    if units is None:
        return []
    texts, gold = units
    q_grams = _bigrams(question.question)
    negatives = [i for i in range(len(texts)) if i != gold and question.answer not in texts[i]]
    negatives.sort(key=lambda i: -len(q_grams & _bigrams(texts[i])))
    hard = negatives[: max(size - 2, 0)]
    rest = negatives[len(hard) :]
    picked = hard + rng.sample(rest, min(len(rest), size - 1 - len(hard)))
    candidates = [texts[gold]] + [texts[i] for i in picked]
    order = list(range(len(candidates)))
    rng.shuffle(order)
    groups = [Group(question.question, tuple(candidates[i] for i in order), order.index(0))]
    if rng.random() < null_share:
        if negatives and rng.random() < 0.5:
            chosen = negatives[:size]
            groups.append(Group(question.question, tuple(texts[i] for i in chosen), -1))
        elif others:
            other = others[rng.randrange(len(others))]
            if other.paragraph_id != question.paragraph_id and question.answer not in other.context:
                spans = split_sentences(other.context)
                sample = rng.sample(spans, min(size, len(spans)))
                groups.append(
                    Group(
                        question.question,
                        tuple(other.context[s.char_start : s.char_end] for s in sample),
                        -1,
                    )
                )
    return groups


# -- English through the dictionary ----------------------------------------------------------

_CJK = re.compile(r"[\u4e00-\u9fff]")
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_QUESTION_WORDS = {
    "什么": "what",
    "什么时候": "when",
    "个": "",
    "多少": "how many",
    "谁": "who",
    "哪": "which",
    "哪里": "where",
    "哪儿": "where",
    "哪个": "which",
    "哪些": "which",
    "哪一年": "which year",
    "几": "how many",
    "何时": "when",
    "为什么": "why",
    "怎么": "how",
    "如何": "how",
    "是": "is",
    "被": "",
    "于": "in",
    "在": "in",
    "和": "and",
    "与": "and",
    "对": "to",
    "将": "",
    "把": "",
    "由": "by",
    "从": "from",
    "为": "as",
    "有": "have",
    "第": "",
    "年": "year",
    "的": "",
    "了": "",
    "吗": "",
    "呢": "",
}


_NOT_A_GLOSS = ("variant of", "old variant", "see ", "surname", "CL:", "abbr.", "also written")


def _romanised(word: str) -> str:
    """A name the dictionary lacks, as an English text would write it: 范廷颂 -> Fan Tingsong."""
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin(word)
    if len(syllables) <= 1:
        return "".join(syllables).capitalize()
    return f"{syllables[0].capitalize()} {''.join(syllables[1:]).capitalize()}"


def load_cedict(data_dir: Path) -> dict[str, str]:
    """Simplified headword -> its first English gloss, parentheses and "to " removed."""
    glosses: dict[str, str] = {}
    with gzip.open(data_dir / CEDICT, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#"):
                continue
            head, _, rest = line.partition(" [")
            parts = head.split(" ")
            if len(parts) < 2 or "/" not in rest:
                continue
            simplified = parts[1]
            for gloss in rest.split("/")[1:]:
                gloss = _PAREN.sub("", gloss).strip()
                if not gloss or gloss.startswith(_NOT_A_GLOSS) or _CJK.search(gloss):
                    continue
                gloss = gloss.split(";")[0].strip()
                if gloss.startswith("to "):
                    gloss = gloss[3:]
                if simplified not in glosses and gloss:
                    glosses[simplified] = gloss
                break
    return glosses


def gloss_question(question: str, glosses: dict[str, str], rng: random.Random) -> str:
    """The question with its words replaced by English glosses (names without one stay)."""
    import jieba

    words: list[str] = []
    for word in jieba.lcut(question.rstrip("？?")):
        if word in _QUESTION_WORDS:
            english = _QUESTION_WORDS[word]
        else:
            english = glosses.get(word) or (_romanised(word) if _CJK.search(word) else word)
        if english:
            words.append(english)
    text = " ".join(w for w in words if w.strip())
    text = re.sub(r"\s+", " ", text).strip()
    return (text[:1].upper() + text[1:] + "?") if text else question


def training_groups(
    questions: Sequence[SpanQuestion],
    glosses: dict[str, str] | None,
    *,
    seed: int,
    english_share: float = 0.3,
    size: int = 4,
) -> list[Group]:
    """Every question's groups, a share of them again with a glossed English question."""
    rng = random.Random(seed)
    groups: list[Group] = []
    for question in questions:
        made = groups_for(question, questions, rng, size=size)
        groups += made
        if glosses and made and rng.random() < english_share:
            english = gloss_question(question.question, glosses, rng)
            groups += [Group(english, g.candidates, g.label) for g in made[:1]]
    rng.shuffle(groups)
    return groups


def split_by_paragraph(
    questions: Sequence[SpanQuestion], held_out_share: float, seed: int
) -> tuple[list[SpanQuestion], list[SpanQuestion]]:
    """(train, held out): whole paragraphs go to one side, never split between both."""
    paragraphs = sorted({q.paragraph_id for q in questions})
    rng = random.Random(seed)
    rng.shuffle(paragraphs)
    held = set(paragraphs[: int(len(paragraphs) * held_out_share)])
    train = [q for q in questions if q.paragraph_id not in held]
    test = [q for q in questions if q.paragraph_id in held]
    return train, test


# -- the abstention pass: near misses and nonsense ---------------------------------------------

_BARE_QUESTION_WORDS = ("谁", "什么", "为什么", "哪里", "多少", "怎么样", "哪个", "何时", "是吗")
_CHITCHAT = ("{}怎么样", "{}是什么", "{}在哪里", "{}有多少", "{}好吗", "What about {}?", "{}?")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def nonsense_question(
    english: Sequence[str], headwords: Sequence[str], avoid: str, rng: random.Random
) -> str:
    """A question no text answers: letters typed at random ("asdfgh"), a bare English word or
    two ("ping", "hello test"), letters and digits ("abc 123"), a bare question word ("谁"),
    or small talk about a word `avoid` (the candidates' text) does not contain."""
    kind = rng.randrange(5)
    if kind == 0:
        return "".join(rng.choice(_LETTERS) for _ in range(rng.randint(3, 9)))
    if kind == 1:
        return " ".join(rng.choice(english) for _ in range(rng.randint(1, 2)))
    if kind == 2:
        word = "".join(rng.choice(_LETTERS) for _ in range(rng.randint(2, 4)))
        return f"{word} {rng.randint(0, 9999)}"
    if kind == 3:
        return rng.choice(_BARE_QUESTION_WORDS) + rng.choice(("", "？", "?"))
    for _ in range(20):
        word = rng.choice(headwords)
        if word not in avoid:
            return rng.choice(_CHITCHAT).format(word)
    return rng.choice(_BARE_QUESTION_WORDS)


def nonsense_vocabulary(glosses: dict[str, str]) -> tuple[list[str], list[str]]:
    """`nonsense_question`'s words: the dictionary's one-word lower-case English glosses, and
    its Chinese headwords of two or three characters (both sorted, so seeded draws repeat)."""
    english = sorted({g for g in glosses.values() if g.isalpha() and g.islower() and len(g) > 2})
    headwords = sorted(w for w in glosses if 2 <= len(w) <= 3 and _CJK.match(w))
    return english, headwords


class _NearestParagraphs:
    """Paragraphs found by the question's IDF-weighted character bigrams: the other paragraph
    a question's words point to (a near miss: 兰州 and 人口, not Lanzhou's population)."""

    def __init__(self, questions: Sequence[SpanQuestion]) -> None:
        import math

        contexts: dict[str, str] = {}
        for question in questions:
            contexts.setdefault(question.paragraph_id, question.context)
        self.ids = list(contexts)
        self.contexts = [contexts[p] for p in self.ids]
        self.postings: dict[str, list[int]] = {}
        for i, text in enumerate(self.contexts):
            for gram in _bigrams(text):
                self.postings.setdefault(gram, []).append(i)
        n = len(self.ids)
        self.idf = {g: math.log(n / len(p)) for g, p in self.postings.items()}

    def nearest(self, question: SpanQuestion) -> str | None:
        """The context of the other paragraph sharing most of the question's bigrams (by IDF)
        that does not hold its answer, or None."""
        scores: dict[int, float] = {}
        for gram in _bigrams(question.question):
            for i in self.postings.get(gram, ()):
                scores[i] = scores.get(i, 0.0) + self.idf[gram]
        for i in sorted(scores, key=lambda j: -scores[j])[:5]:
            if self.ids[i] != question.paragraph_id and question.answer not in self.contexts[i]:
                return self.contexts[i]
        return None


def abstention_groups(
    questions: Sequence[SpanQuestion],
    glosses: dict[str, str],
    *,
    seed: int,
    near_miss_share: float = 0.5,
    nonsense_share: float = 0.3,
    english_share: float = 0.3,
    size: int = 4,
) -> list[Group]:
    """The abstention pass's groups: every question's own (as `training_groups`, so answering
    is not forgotten), and groups without a positive that teach "no answer" where the first
    run never looked: the nearest other paragraph's sentences sharing most of the question's
    bigrams, and nonsense questions (`nonsense_question`) over random sentences."""
    rng = random.Random(seed)
    nearest = _NearestParagraphs(questions)
    english, headwords = nonsense_vocabulary(glosses)
    groups: list[Group] = []
    for question in questions:
        made = groups_for(question, questions, rng, size=size)
        groups += made
        glossed = gloss_question(question.question, glosses, rng)
        if made and rng.random() < english_share:
            groups.append(Group(glossed, made[0].candidates, made[0].label))
        if rng.random() < near_miss_share:
            context = nearest.nearest(question)
            if context is not None:
                texts = [context[s.char_start : s.char_end] for s in split_sentences(context)]
                grams = _bigrams(question.question)
                texts.sort(key=lambda t: -len(grams & _bigrams(t)))
                asked = glossed if rng.random() < english_share else question.question
                groups.append(Group(asked, tuple(texts[:size]), -1))
        if rng.random() < nonsense_share:
            other = questions[rng.randrange(len(questions))].context
            spans = split_sentences(other)
            picked = rng.sample(spans, min(size, len(spans)))
            texts = [other[s.char_start : s.char_end] for s in picked]
            asked = nonsense_question(english, headwords, "".join(texts), rng)
            groups.append(Group(asked, tuple(texts), -1))
    rng.shuffle(groups)
    return groups
