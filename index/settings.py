"""The configuration: one `Settings` read from `RAGQA_*` environment variables at start-up.

Validators fail fast with a message naming the variable; `describe_settings_error` renders a
pydantic ValidationError as one line per bad key for the CLI.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from corpus import paths

if TYPE_CHECKING:
    from corpus.web.fetch import FetchPolicy
    from index.search.milvus import MilvusSettings
    from index.store.polling import PollLimits

ENV_PREFIX = "RAGQA_"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
MIN_API_KEY_CHARS = 16


def _default_model() -> str:
    from index.encode.embedder import DEFAULT_MODEL

    return DEFAULT_MODEL


class Settings(BaseSettings):
    """Everything the service reads from its environment (prefix `RAGQA_`)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    index_dir: Path = paths.INDEX_DIR
    corpus_dir: Path = paths.CORPUS_DIR
    model: str = Field(default_factory=_default_model, min_length=1)
    encoder: Literal["int8", "fp32", "auto"] = Field(
        default="int8",
        description="int8 ONNX encoder (default), fp32 PyTorch, or auto: int8 if intact, "
        "else fp32 with a warning",
    )
    sentence_vectors: Literal["late", "separate"] = Field(
        default="separate",
        description="how the build makes sentence vectors: separate (each sentence embedded "
        "on its own) or late (pooled from its passage's one encoder pass)",
    )
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64, description="uvicorn worker processes")
    # Measured with scripts/bench_threads.py on 2 cores, 8 clients: (threads, torch_threads) =
    # (2, 1) and (4, 1) ~27 req/s, p99 ~360 ms; (1, 2) collapsed to 1-4 req/s, p50 > 1 s.
    threads: int = Field(
        default=2, ge=1, le=64, description="bounded pool for CPU-bound engine calls"
    )
    torch_threads: int = Field(
        default=1,
        ge=1,
        le=64,
        description="intra-op threads of each request's numeric work (torch, numpy's BLAS, OpenMP)",
    )
    reader_threads: int = Field(
        default=1,
        ge=1,
        le=64,
        description="intra-op threads of the reader's onnxruntime session (with RAGQA_READER). "
        "1: with 2 a lone question's p95 falls by 10-20 ms in process, but 8 clients get no "
        'more answers a second (46.1 against 47.6 on 2 cores; docs/reader.md, "Latency")',
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    mcp_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host headers /mcp accepts besides loopback, e.g. rag.example.org:*",
    )
    api_key: SecretStr | None = None
    dify_api_key: SecretStr | None = Field(
        default=None, description="key Dify sends to POST /retrieval; defaults to api_key"
    )
    rate_limit_per_minute: float = Field(default=120, ge=0, description="0 disables rate limiting")
    rate_limit_burst: int = Field(default=20, ge=1)
    max_body_bytes: int = Field(default=65536, ge=1024)
    glossary: str | None = Field(
        default=None,
        description="English→Chinese user dictionary for English questions (TSV file), or "
        "off; unset: the shipped glossary of economic-news terms (index/rank/glossary_en_zh.tsv). "
        "Checked here at start-up and passed to the engine (`index.opening.open_library`)",
    )
    reader: Literal["off", "on", "auto"] = Field(
        default="off",
        description="the trained reader chooses the answer (stage 4) and its score decides "
        "`answer: null`: on = the one scripts/setup provisioned from index/reader/weights/ "
        "(refuse to start without it), auto = that one when provisioned, off = the answer "
        "features and the abstention model (`index.reader.runtime.reader_of`). Off by default: "
        "it answers better but adds 14-25 ms a question at the median on one thread, and its p95 "
        "is 65-106 ms (docs/reader.md)",
    )
    data_dir: Path | None = None
    """The document store (SQLite, unless `store_url` says otherwise) and index segments;
    with a PostgreSQL store, only this replica's cache of segments. Unset: `data_path()`."""
    store_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the document store (default: SQLite)"
    )
    import_corpus: bool = True
    """Import the index of `corpus_dir` into collection `default` (at first start, and again
    whenever that index is rebuilt from changed files)."""
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    """Request body limit of the document write routes (JSON batches and uploads)."""
    max_file_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    """Limit per uploaded file."""
    max_batch_chars: int = Field(default=200_000, ge=100_000)
    """Characters of article text one write request may carry (every format): a write holds
    the writer lock while it embeds, about a minute for 200,000 characters on 2 cores, so no
    write waits behind one caller's batch for longer than that. At least MAX_ARTICLE_CHARS."""
    max_pdf_pages: int = Field(default=500, ge=1, le=100_000)
    """Pages of one PDF at most (an e-paper issue has 8 to 100); a longer one is refused
    before any page is read."""
    job_pages: int = Field(default=10, ge=0)
    """An upload estimated at more pages than this runs as a job (202 and `GET /v1/jobs/{id}`)
    unless it asks `?wait=true`: a PDF page counts one, every 20,000 bytes of another file
    one (`service.upload_jobs`)."""

    fetch_user_agent: str = Field(
        default_factory=lambda: _user_agent(),
        min_length=1,
        description="User-Agent of every feed and page fetch; name your organisation and a "
        "contact (robots.txt rules match its first word, `ragqa`)",
    )
    fetch_timeout_s: float = Field(
        default=20.0, gt=0, le=600, description="time limit of one fetch (feed, page, robots.txt)"
    )
    fetch_max_bytes: int = Field(
        default=5 * 1024 * 1024, ge=1024, description="size limit of one fetched body, decoded"
    )
    fetch_allow_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="hosts fetched even at a private, loopback or link-local address "
        "(comma-separated names or addresses, e.g. intranet.example,10.0.0.5)",
    )
    poll_sources: bool = Field(
        default=True, description="poll web sources on their schedule in the service"
    )
    poll_interval_s: int = Field(
        default=3600, ge=60, description="interval of a feed or sitemap added without one"
    )
    poll_max_items: int = Field(
        default=100, ge=1, le=5000, description="new feed items read per poll at most"
    )
    log_level: str = "info"
    backend: Literal["faiss", "milvus"] = Field(
        default="faiss",
        description="where the vectors and BM25 live: faiss (in this process) or milvus",
    )
    milvus_uri: str = Field(
        default="",
        description="milvus-lite file path ending in .db, or http://host:19530 for a server",
    )
    milvus_token: SecretStr | None = Field(default=None, description="Milvus token, if any")
    milvus_prefix: str = Field(
        default="ragqa", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$", description="collection prefix"
    )
    milvus_timeout_s: float = Field(default=10.0, gt=0, le=300, description="per Milvus call")

    @field_validator("cors_origins", "mcp_allowed_hosts", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("fetch_allow_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list):
            return [str(p).strip().strip("[]").lower() for p in value if str(p).strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise ValueError(f"{origin!r} is not an origin like https://example.org")
            if origin.endswith("/"):
                raise ValueError(f"{origin!r}: an origin has no trailing slash")
        return value

    @field_validator("glossary")
    @classmethod
    def _check_glossary(cls, value: str | None) -> str | None:
        from index.rank.glossary import glossary_setting

        glossary_setting(value)  # a missing file fails at start-up, naming RAGQA_GLOSSARY
        return value

    @field_validator("data_dir", mode="before")
    @classmethod
    def _empty_dir_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("store_url", mode="before")
    @classmethod
    def _empty_url_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("store_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a SQLAlchemy database URL: {exc}") from exc
        return value

    @field_validator("api_key", "dify_api_key", mode="before")
    @classmethod
    def _empty_key_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("api_key", "dify_api_key")
    @classmethod
    def _check_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_API_KEY_CHARS:
            raise ValueError(f"must be at least {MIN_API_KEY_CHARS} characters")
        return value

    @field_validator("encoder", mode="before")
    @classmethod
    def _lower_encoder(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("backend", mode="before")
    @classmethod
    def _lower_backend(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("milvus_uri")
    @classmethod
    def _check_milvus_uri(cls, value: str) -> str:
        from index.errors import BackendConfigError
        from index.search.milvus import check_uri

        if value:
            try:
                check_uri(value)
            except BackendConfigError as exc:
                raise ValueError(str(exc).removeprefix(f"RAGQA_MILVUS_URI={value!r}: ")) from None
        return value

    def data_path(self) -> Path:
        """`data_dir`, else: with a PostgreSQL store (which holds the segments and the writer
        lock, so replicas share no directory) a cache directory of this user's under the
        system's temporary directory, one per store; otherwise `var/data`."""
        if self.data_dir is not None:
            return self.data_dir
        if self.store_url is None:
            return paths.DATA_DIR
        from sqlalchemy.engine import make_url

        url = make_url(self.store_url)
        if url.get_backend_name() != "postgresql":
            return paths.DATA_DIR
        shown = url.render_as_string(hide_password=True)
        digest = hashlib.sha256(shown.encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"ragqa-cache-{os.getuid()}-{digest}"

    def milvus(self) -> MilvusSettings:
        """The Milvus settings (`RAGQA_MILVUS_*`) as the backend takes them."""
        from index.search.milvus import MilvusSettings

        token = self.milvus_token.get_secret_value() if self.milvus_token is not None else ""
        return MilvusSettings(self.milvus_uri, token, self.milvus_prefix, self.milvus_timeout_s)

    def fetch_policy(self) -> FetchPolicy:
        """The rules of every fetch (`RAGQA_FETCH_*`) as the fetcher takes them."""
        from corpus.web.fetch import FetchPolicy

        return FetchPolicy(
            user_agent=self.fetch_user_agent,
            timeout_s=self.fetch_timeout_s,
            max_bytes=self.fetch_max_bytes,
            allow_hosts=frozenset(self.fetch_allow_hosts),
        )

    def poll_limits(self) -> PollLimits:
        """What one poll of a web source may do (`RAGQA_POLL_*`, `RAGQA_MAX_BATCH_CHARS`)."""
        from index.store.polling import PollLimits

        return PollLimits(
            max_items=self.poll_max_items,
            max_batch_chars=self.max_batch_chars,
            default_interval_s=self.poll_interval_s,
        )

    @field_validator("log_level", mode="before")
    @classmethod
    def _check_level(cls, value: object) -> object:
        level = str(value).strip().lower()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level


def _user_agent() -> str:
    from corpus.web.fetch import USER_AGENT

    return USER_AGENT


def describe_settings_error(error: ValidationError) -> str:
    """One line per invalid variable, e.g. ``RAGQA_PORT: Input should be ...``."""
    lines = []
    for item in error.errors():
        key = ENV_PREFIX + "_".join(str(p) for p in item["loc"][:1]).upper()
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        lines.append(f"{key}: {message}")
    return "\n".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment with CLI overrides; a bad variable exits 2 naming it
    (`corpus.console.fail`)."""
    from corpus.console import fail

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        fail(describe_settings_error(exc), code=2)


class Runtime(BaseSettings):
    """What the model loaders need of the environment, read once at an edge (a command, the
    app, the test session) and passed down by `apply`: library code reads no variable."""

    model_config = SettingsConfigDict(extra="ignore")

    ragqa_model_cache: str | None = None
    """RAGQA_MODEL_CACHE: where the converted models live."""
    xdg_cache_home: str | None = None
    """XDG_CACHE_HOME: its parent when RAGQA_MODEL_CACHE is unset (default ~/.cache)."""
    hf_hub_offline: str | None = None
    """HF_HUB_OFFLINE: ``0`` lets a hub model name download; anything else keeps loads
    offline."""

    def apply(self) -> None:
        """Point `index.encode.provision` at the model cache and `index.encode.embedder` on- or
        offline."""
        from index.encode import embedder, provision

        provision.use_model_cache(
            provision.model_cache_dir(self.ragqa_model_cache, self.xdg_cache_home)
        )
        embedder.OFFLINE = self.hf_hub_offline != "0"
