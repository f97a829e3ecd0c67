"""The CMRC 2018 trial set as an evaluation corpus: 256 Wikipedia paragraphs, 1,002 questions.

`eval/outside/cmrc2018_trial.json` (CC BY-SA 4.0, Cui et al., EMNLP 2019; see
`eval/outside/README.md`) holds paragraphs (``context_id``, ``title``, ``context_text``) and
their questions (``qas[].query_text``, ``qas[].answers``). It is used as articles the system
was never tuned on:

- every paragraph becomes one document (title + text) of its own corpus, written as one
  ``{context_id}.txt`` file (title line, blank line, text) under a cache directory and indexed
  with the ordinary builder into its own index (`cmrc_index`);
- every question is asked over the whole collection; its ``source`` is its paragraph's file, so
  a hit is a passage *of the question's own paragraph* that contains an answer string, and an
  answer counts when the answer span contains one (`eval.dataset.contains_answer`: NFKC, no
  whitespace), exactly as `../shared/eval/README.md` says;
- the annotators' answer strings may repeat; they are kept once each, in order.

The hand-written sets beside it (`cmrc_en.jsonl`: English versions of CMRC questions with the
same Chinese answer spans; `cmrc_unanswerable.jsonl`: questions about the paragraphs' topics
that no paragraph answers) are ordinary question files whose ``source`` is such a file name;
their ``context_id`` field names the paragraph each was written from.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.dataset import Question, QuestionSetError

if TYPE_CHECKING:
    from index.encode.embedder import Embedder

HERE = Path(__file__).resolve().parent
CMRC_FILE = HERE / "outside" / "cmrc2018_trial.json"
CMRC_EN_FILE = HERE / "cmrc_en.jsonl"
CMRC_UNANSWERABLE_FILE = HERE / "cmrc_unanswerable.jsonl"
CORPUS_SUFFIX = ".txt"
TAG = "cmrc"


@dataclass(frozen=True)
class Paragraph:
    """One CMRC paragraph: the unit a question belongs to and the unit folds hold out."""

    context_id: str
    title: str
    text: str

    @property
    def source(self) -> str:
        """The corpus file name of this paragraph (what a question's ``source`` names)."""
        return source_name(self.context_id)

    def file_text(self) -> str:
        """What the corpus file holds: the title as headline, a blank line, the text."""
        return f"{self.title}\n\n{self.text}\n"


def source_name(context_id: str) -> str:
    """``TRIAL_800`` → ``TRIAL_800.txt``."""
    return f"{context_id}{CORPUS_SUFFIX}"


def context_of(source: str | None) -> str | None:
    """The paragraph id a question's ``source`` names (None for an unanswerable question)."""
    if source is None:
        return None
    return source[: -len(CORPUS_SUFFIX)] if source.endswith(CORPUS_SUFFIX) else source


def _raw(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QuestionSetError(f"{path}: CMRC file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise QuestionSetError(f"{path}: cannot read the CMRC file ({exc})") from None
    if not isinstance(data, list):
        raise QuestionSetError(f"{path}: expected a JSON list of paragraphs")
    return data


def load_paragraphs(path: Path = CMRC_FILE) -> list[Paragraph]:
    """The paragraphs in file order."""
    return [
        Paragraph(str(p["context_id"]), str(p["title"]), str(p["context_text"])) for p in _raw(path)
    ]


def load_cmrc_questions(path: Path = CMRC_FILE) -> list[Question]:
    """Every CMRC question (Chinese), answers de-duplicated, source = its paragraph's file."""
    questions: list[Question] = []
    for p in _raw(path):
        for qa in p["qas"]:
            answers = tuple(dict.fromkeys(a for a in qa["answers"] if a.strip()))
            questions.append(
                Question(
                    id=str(qa["query_id"]),
                    question=str(qa["query_text"]),
                    answers=answers,
                    source=source_name(str(p["context_id"])),
                    tags=(TAG,),
                )
            )
    return questions


def write_corpus(paragraphs: Sequence[Paragraph], directory: Path) -> Path:
    """One ``{context_id}.txt`` per paragraph in `directory`; unchanged files are not touched,
    so the incremental build reuses their vectors. Files of other paragraphs are removed."""
    directory.mkdir(parents=True, exist_ok=True)
    wanted = {p.source: p.file_text() for p in paragraphs}
    for path in directory.iterdir():
        if path.is_file() and path.name not in wanted:
            path.unlink()
    for name, text in wanted.items():
        target = directory / name
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            tmp = target.with_suffix(".part")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(target)
    return directory


def cmrc_index(
    cache_dir: Path,
    embedder: Embedder,
    *,
    paragraphs: Sequence[Paragraph] | None = None,
    name: str = "cmrc",
    progress: bool = False,
    accept_other_code: bool = False,
    note: Callable[[str], None] | None = None,
) -> tuple[Path, Path]:
    """(corpus directory, index directory) of the CMRC paragraphs under `cache_dir`, built
    with the default chunking when missing or stale (incremental: unchanged paragraphs keep
    their vectors).

    `accept_other_code` keeps an index of exactly these paragraphs, model and chunk sizes
    that only the pipeline-code hash calls stale (the hash covers every file of `corpus/`,
    its CLI too), and says so through `note`; a rebuild of the 256 paragraphs takes minutes.
    """
    from index.store.build import build_index, index_is_current

    corpus_dir = write_corpus(
        list(paragraphs) if paragraphs is not None else load_paragraphs(),
        cache_dir / f"{name}-corpus",
    )
    index_dir = cache_dir / f"{name}-index"
    if index_is_current(corpus_dir, index_dir, embedder.name, encoder=embedder.encoder):
        return corpus_dir, index_dir
    if accept_other_code and _same_but_code(corpus_dir, index_dir, embedder.name):
        if note is not None:
            note(
                f"note: {index_dir} was built by other pipeline code (same paragraphs, model "
                "and chunk sizes); kept. Delete it to rebuild with this code."
            )
        return corpus_dir, index_dir
    build_index(corpus_dir, index_dir, embedder.name, progress=progress, embedder=embedder)
    return corpus_dir, index_dir


def _same_but_code(corpus_dir: Path, index_dir: Path, model: str) -> bool:
    from corpus.loader import corpus_files, file_sha256
    from index.encode.words import WORDS_FILE
    from index.errors import IndexError_
    from index.store.files import read_manifest
    from index.text.chunking import ChunkingParams

    try:
        manifest = read_manifest(index_dir)
    except IndexError_:
        return False
    params = ChunkingParams()
    chunking = manifest.chunking
    if (
        WORDS_FILE not in manifest.files  # no word vectors (`index.encode.words`): rebuild
        or manifest.model != model
        or chunking.get("size") != params.size
        or chunking.get("overlap") != params.overlap
        or list(chunking.get("separators", [])) != list(params.separators)
    ):
        return False
    current = {p.name: file_sha256(p) for p in corpus_files(corpus_dir)}
    return current == {n: info.sha256 for n, info in manifest.sources.items()}
