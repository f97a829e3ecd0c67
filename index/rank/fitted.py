"""The fitted numbers as one bundle, loaded and checked once: `Fitted.load(path, manifest)`.

`Fitted` holds the ranking and answer parameters, the abstention model, the relevance scale
front doors squash scores with (Dify's `score_threshold`), and the provenance of the fit; the
engine, the library and the backend take it as an argument instead of reading the file.

`index/rank/params.json` (written by `ragqa eval tune`) holds the `RankingParams` and `AnswerParams`
values (read by `index.rank.params.load_params`), the abstention model, and ``fitted_for``: the
model, encoder variant and chunking of the index the questions were asked over. Weights fitted
on 300-character passages of one encoder say nothing about 500-character passages or another
model, so an engine over an index built otherwise refuses them (`ParamsMismatchError`) with a
message saying what to re-fit, instead of silently answering with numbers fitted for
something else. Without the file the engine runs on the documented defaults.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from index.errors import IndexMismatchError
from index.rank.abstain import AbstentionModel, default_model
from index.rank.params import PARAMS_FILE, AnswerParams, RankingParams, params_from

CHECKED = ("model", "chunk_size", "chunk_overlap", "embed_titles")
"""The fields of ``fitted_for`` an index must match. ``config_id`` is recorded, not compared:
it also hashes the pipeline code, which changes with every edit of the splitter. ``encoder``
(int8 / fp32) is recorded, not compared: the parameters are fitted on the default int8
encoder, whose vectors are within cosine 0.993 of fp32's, and refusing them would stop an
fp32 service (`RAGQA_ENCODER=fp32`) from starting for a difference the fit does not see."""


class ParamsMismatchError(IndexMismatchError):
    """Fitted parameters that were fitted for an index built with another configuration."""


def index_config(manifest: Any, encoder: str) -> dict[str, Any]:
    """The ``fitted_for`` record of an index (its manifest) queried with an encoder variant."""
    return {
        "model": manifest.model,
        "encoder": encoder,
        "chunk_size": manifest.chunking.get("size"),
        "chunk_overlap": manifest.chunking.get("overlap"),
        "embed_titles": manifest.embed_titles,
        "config_id": manifest.config_id,
    }


def _read(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return data


def check_fitted_for(
    manifest: Any, encoder: str, index_dir: Path | None, path: Path = PARAMS_FILE
) -> None:
    """Raise ParamsMismatchError when `path` was fitted for another index configuration."""
    data = _read(path)
    if data is None or "fitted_for" not in data:
        return
    _refuse_other(data["fitted_for"], index_config(manifest, encoder), path, index_dir)


def _refuse_other(
    fitted: Mapping[str, Any], actual: dict[str, Any], path: Path, index_dir: Path | None
) -> None:
    differ = [k for k in CHECKED if k in fitted and fitted[k] != actual[k]]
    if differ:
        said = ", ".join(f"{k} {fitted[k]!r} (this index: {actual[k]!r})" for k in differ)
        raise ParamsMismatchError(
            f"{path.name} was fitted for another index configuration: {said}. Re-fit the "
            f"ranking, answer and abstention parameters for this index with `ragqa eval tune "
            f"--index {index_dir}`, or move {path} away to run on the defaults"
        )


def load_abstention(path: Path = PARAMS_FILE) -> AbstentionModel | None:
    """The fitted abstention model of `path`, else the shipped `abstention.json` one."""
    data = _read(path)
    if data is None or "abstention" not in data:
        return default_model()
    return AbstentionModel.from_json(data["abstention"], f"{path} abstention")


@dataclass(frozen=True)
class RelevanceScale:
    """How an engine score is squashed into 0..1 for clients that expect that range (Dify's
    `score_threshold`): ``1 / (1 + exp(-(score - midpoint) / scale))``. Strictly increasing,
    so the order is the engine's; not a probability."""

    midpoint: float = 1.0
    """Engine score that maps to relevance 0.5 (measured on the dev questions at 933e2e2: top
    passages of answerable questions score 1.3 to 2.0, passages ranked 6 to 10 score 0.9 to
    1.3)."""
    scale: float = 0.25
    """Score distance that moves the relevance from 0.5 to 0.73."""

    def relevance(self, score: float) -> float:
        """`score` in 0..1, rounded to 4 places."""
        x = max(-50.0, min(50.0, (score - self.midpoint) / self.scale))
        return round(1.0 / (1.0 + math.exp(-x)), 4)


@dataclass(frozen=True)
class Fitted:
    """Every fitted number the pipeline and the front doors use, with what it was fitted for."""

    ranking: RankingParams = field(default_factory=RankingParams)
    answering: AnswerParams = field(default_factory=AnswerParams)
    abstention: AbstentionModel | None = None
    relevance: RelevanceScale = field(default_factory=RelevanceScale)
    fitted_for: Mapping[str, Any] | None = None
    """The model, encoder and chunking of the index it was fitted over (None: the defaults)."""
    provenance: Mapping[str, Any] = field(default_factory=dict)
    """When, at which commit and on which data sets it was fitted (from the file)."""
    path: Path | None = None
    """The file it was read from (None: the documented defaults)."""

    @classmethod
    def defaults(cls) -> Fitted:
        """The documented defaults and the shipped abstention model (`abstention.json`)."""
        return cls(abstention=default_model())

    @classmethod
    def load(
        cls,
        path: Path = PARAMS_FILE,
        manifest: Any = None,
        *,
        encoder: str = "int8",
        index_dir: Path | None = None,
    ) -> Fitted:
        """The bundle in `path` (the defaults without the file), checked against the index
        `manifest` when given (ParamsMismatchError: fitted for another configuration)."""
        data = _read(path)
        if data is None:
            fitted = cls.defaults()
        else:
            ranking, answering = params_from(data, path)
            abstention = (
                AbstentionModel.from_json(data["abstention"], f"{path} abstention")
                if "abstention" in data
                else default_model()
            )
            fitted = cls(
                ranking,
                answering,
                abstention,
                fitted_for=data.get("fitted_for"),
                provenance={k: data[k] for k in ("fitted_at", "commit", "data_sets") if k in data},
                path=path,
            )
        if manifest is not None:
            fitted.check(manifest, encoder, index_dir)
        return fitted

    def check(self, manifest: Any, encoder: str, index_dir: Path | None = None) -> None:
        """Raise ParamsMismatchError when the bundle was fitted for an index built otherwise
        than the one `manifest` describes."""
        if self.fitted_for is None or self.path is None:
            return
        _refuse_other(self.fitted_for, index_config(manifest, encoder), self.path, index_dir)


@lru_cache(maxsize=1)
def shipped() -> Fitted:
    """`index/rank/params.json` as shipped, read once per process (unchecked: whoever builds
    an engine over an index checks it against that index)."""
    return Fitted.load()
