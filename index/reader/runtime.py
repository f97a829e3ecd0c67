"""The reader as the answer stage runs it: int8 ONNX, a few candidate sentences per question.

`Reader.score(question, sentences)` returns one score per sentence (the model was trained
with a fixed "no answer" score of 0). How stage 4 uses those scores, and the threshold below
which stage 5 answers `null`, are `ReaderParams`, fitted into `weights/stage.json`.

The reader is opt-in: an engine uses it when given one (`index.reader.stage.ReaderStage`), and
the service when `Settings.reader` asks for it (`reader_of`). It answers better than the answer
features but costs 14-25 ms more a question at the median on one thread (docs/reader.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.reader.export import ONNX_FILE, READER_FOLDER, WEIGHTS, runtime_problem
from index.reader.model import (
    DELTA,
    MANIFEST,
    ReaderManifest,
    ReaderMismatchError,
    encode_pairs,
    file_sha256,
)

STAGE_FILE = "stage.json"


@dataclass(frozen=True)
class ReaderParams:
    """How the answer stage uses the reader (fitted by `ragqa eval fit-reader` into
    `weights/stage.json`; without that file, the training run's own threshold)."""

    candidates: int = 4
    """How many sentences (the answer scorer's best) the reader reads per question."""
    threshold: float = 0.0
    """Below this best score the corpus is taken not to answer (`answer: null`)."""
    feature_weight: float = 0.0
    """A sentence's score: the reader's plus this times the answer features' score."""
    accept_first: float | None = None
    """When the features' first sentence alone blends to at least this, it is the answer and
    the others are not read (None: all `candidates` are always read)."""
    abstain_on_features: bool = True
    """Stage 5 also asks the abstention model, on the evidence of the answer features' own
    best sentence (False: the reader's threshold alone decides `answer: null`)."""

    @classmethod
    def read(cls, weights: Path, manifest: ReaderManifest) -> ReaderParams:
        """The fitted stage parameters beside the shipped delta; refused by name when they
        were fitted for another delta."""
        path = weights / STAGE_FILE
        if not path.is_file():
            return cls(threshold=manifest.held_out.get("threshold", 0.0))
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            fitted_for = raw["delta_sha256"]
            params = cls(**raw["params"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ReaderMismatchError(f"{path}: cannot be read ({exc})") from exc
        if fitted_for != file_sha256(weights / DELTA):
            raise ReaderMismatchError(
                f"{path} was fitted for another reader delta; run `ragqa eval fit-reader`"
            )
        return params


class Reader:
    """The int8 ONNX reader of one provisioned folder."""

    def __init__(
        self,
        folder: Path,
        *,
        threads: int = 1,
        weights: Path = WEIGHTS,
        params: ReaderParams | None = None,
    ) -> None:
        """`params`: the stage parameters to use instead of the fitted ones beside the delta
        (the fit itself, which must not read a stage file fitted for another delta)."""
        import onnxruntime as ort
        from tokenizers import Tokenizer

        problem = runtime_problem(folder, weights)
        if problem is not None:
            raise ReaderMismatchError(problem)
        self.folder = folder
        self.manifest = ReaderManifest.read(folder)
        self.params = params if params is not None else ReaderParams.read(weights, self.manifest)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            str(folder / ONNX_FILE), options, providers=["CPUExecutionProvider"]
        )

    def score(self, question: str, sentences: list[str]) -> np.ndarray:
        """One score per sentence (float32); empty input, empty output."""
        if not sentences:
            return np.empty(0, dtype=np.float32)
        rows, _, pad_id = encode_pairs(self.tokenizer, question, sentences, self.manifest.shape)
        width = max(len(r) for r in rows)
        ids = np.full((len(rows), width), pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        (scores,) = self.session.run(["scores"], {"input_ids": ids, "attention_mask": mask})
        return np.asarray(scores, dtype=np.float32).reshape(-1)


def trained(weights: Path = WEIGHTS) -> bool:
    """Whether `weights` holds a trained reader (`ragqa train reader` writes one there)."""
    return (weights / MANIFEST).is_file()


@lru_cache(maxsize=4)
def load_reader(
    model_root: Path,
    threads: int = 1,
    weights: Path = WEIGHTS,
    params: ReaderParams | None = None,
) -> Reader:
    """The provisioned reader beside the encoder under `model_root` (loaded once); refused
    (`ReaderMismatchError`, naming the file and `scripts/setup`) when not provisioned."""
    return Reader(model_root / READER_FOLDER, threads=threads, weights=weights, params=params)


def reader_of(
    setting: str, model_root: Path, threads: int = 1, weights: Path = WEIGHTS
) -> Reader | None:
    """The reader `Settings.reader` asks for: ``off`` none; ``auto`` the provisioned one when
    a trained reader ships in `weights` and `scripts/setup` provisioned it, else none; ``on``
    the provisioned one, refused (`ReaderMismatchError`, naming what to run) when there is
    none."""
    if setting == "off":
        return None
    if not trained(weights):
        if setting == "auto":
            return None
        raise ReaderMismatchError(
            f"RAGQA_READER=on, but no trained reader ships in {weights} (run `ragqa train reader`)"
        )
    if setting == "auto" and runtime_problem(model_root / READER_FOLDER, weights) is not None:
        return None
    return load_reader(model_root, threads, weights)
