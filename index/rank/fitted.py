"""What fitted parameters were fitted for, and refusing them for an index built otherwise.

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
from pathlib import Path
from typing import Any

from index.errors import IndexMismatchError
from index.rank.abstain import AbstentionModel, default_model
from index.rank.params import PARAMS_FILE

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
    manifest: Any, encoder: str, index_dir: Path, path: Path = PARAMS_FILE
) -> None:
    """Raise ParamsMismatchError when `path` was fitted for another index configuration."""
    data = _read(path)
    if data is None or "fitted_for" not in data:
        return
    fitted, actual = data["fitted_for"], index_config(manifest, encoder)
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
