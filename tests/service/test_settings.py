"""Settings: environment variables with the RAGQA_ prefix, failing fast naming the key."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from index.settings import Settings, describe_settings_error


def test_defaults_are_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RAGQA_CORS_ORIGINS", "RAGQA_API_KEY", "RAGQA_HOST", "RAGQA_PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.host == "127.0.0.1"
    assert settings.cors_origins == []
    assert settings.api_key is None
    assert settings.index_dir.name == "index"


def test_cors_origins_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAGQA_CORS_ORIGINS", "https://a.example, http://b.example:8080")
    assert Settings().cors_origins == ["https://a.example", "http://b.example:8080"]


def test_empty_api_key_means_admin_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAGQA_API_KEY", "")
    assert Settings().api_key is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RAGQA_PORT", "99999"),
        ("RAGQA_PORT", "eighty"),
        ("RAGQA_THREADS", "0"),
        ("RAGQA_CORS_ORIGINS", "news.example"),
        ("RAGQA_API_KEY", "short"),
        ("RAGQA_LOG_LEVEL", "loud"),
        ("RAGQA_RATE_LIMIT_BURST", "0"),
        ("RAGQA_ENCODER", "int4"),
    ],
)
def test_invalid_variable_fails_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert describe_settings_error(caught.value).startswith(f"{name}: ")


def test_encoder_is_int8_unless_asked_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAGQA_ENCODER", raising=False)
    assert Settings().encoder == "int8"
    monkeypatch.setenv("RAGQA_ENCODER", " FP32 ")
    assert Settings().encoder == "fp32"
    monkeypatch.setenv("RAGQA_ENCODER", "auto")
    assert Settings().encoder == "auto"


def test_unknown_encoder_lists_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAGQA_ENCODER", "int4")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert describe_settings_error(caught.value) == (
        "RAGQA_ENCODER: Input should be 'int8', 'fp32' or 'auto'"
    )


def test_the_data_dir_is_optional_with_a_postgresql_store(monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib
    import os
    import tempfile
    from pathlib import Path

    from corpus import paths

    monkeypatch.setenv("RAGQA_DATA_DIR", "")
    monkeypatch.delenv("RAGQA_STORE_URL", raising=False)
    assert Settings().data_dir is None
    assert Settings().data_path() == paths.DATA_DIR  # SQLite: var/data, as before
    monkeypatch.setenv("RAGQA_STORE_URL", "postgresql+psycopg://ragqa:secret@db:5432/ragqa")
    shown = "postgresql+psycopg://ragqa:***@db:5432/ragqa"  # the password is left out of the hash
    digest = hashlib.sha256(shown.encode()).hexdigest()[:12]
    expected = Path(tempfile.gettempdir()) / f"ragqa-cache-{os.getuid()}-{digest}"
    assert Settings().data_path() == expected
    monkeypatch.setenv("RAGQA_DATA_DIR", "/srv/ragqa-cache")
    assert Settings().data_path() == Path("/srv/ragqa-cache")
