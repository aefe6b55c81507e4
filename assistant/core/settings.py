"""One validated settings object, read from a YAML file and ``ASSISTANT_*`` variables.

Precedence: environment variables > settings file > defaults. The settings file is
``assistant.yaml`` in the working directory, or the path in ``ASSISTANT_SETTINGS_FILE``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from assistant.core.access import Role

BUNDLED_MODEL = "all-MiniLM-L6-v2"


class SettingsError(ValueError):
    """A setting has a value we cannot run with; the message names it and what is allowed."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="forbid", validate_default=True)

    knowledge_root: Path = Field(Path("knowledge"), description="Folder of documents to ingest.")
    index_dir: Path = Field(
        Path(".index"),
        description="Local folder for the embedded Chroma store, the ingest manifest and the lock.",
    )
    snapshot_dir: Path | None = Field(
        None,
        description="Folder of the corpus snapshots every serving process memory-maps instead of rebuilding "
        "(default: index_dir/snapshot; a folder shared by the replicas of one Chroma server).",
    )
    chroma_mode: Literal["embedded", "server"] = Field(
        "embedded", description="embedded: Chroma in index_dir; server: a Chroma server over HTTP."
    )
    chroma_host: str = Field("127.0.0.1", description="Chroma server host (chroma_mode=server).")
    chroma_port: int = Field(8000, ge=1, le=65535, description="Chroma server port.")
    chroma_ssl: bool = Field(False, description="Use HTTPS to reach the Chroma server.")
    collection: str = Field("knowledge", min_length=3, max_length=63, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]$")
    embedding_model: str = Field(
        BUNDLED_MODEL,
        description="'all-MiniLM-L6-v2' (the bundled package) or a local sentence-transformers folder.",
    )
    embedding_backend: Literal["torch", "onnx", "onnx-int8"] = Field(
        "onnx",
        description="Inference runtime for the embedding model: onnx (exported locally from the bundled weights; "
        "the same vectors as torch, faster per query), torch, or onnx-int8 (quantised; its own index).",
    )
    embedding_batch_size: int = Field(
        16, ge=1, le=4096, description="Encode batch size (small batches pad less: fastest on CPU)."
    )
    chunk_size: int = Field(256, ge=64, le=2048, description="Target chunk size in model tokens.")
    chunk_overlap: int = Field(32, ge=0, le=512, description="Overlap between size-split chunks, tokens.")
    max_file_mb: float = Field(50.0, gt=0, description="Files larger than this are rejected.")
    answer_backend: Literal["extractive", "openai", "ollama"] = Field(
        "extractive", description="extractive (offline default), openai (any OpenAI-compatible URL) or ollama."
    )
    llm_base_url: str = Field("http://127.0.0.1:8080/v1", description="LLM endpoint base URL.")
    llm_model: str = Field("local-model", description="Model name sent to the LLM endpoint.")
    llm_api_key_env: str = Field("OPENAI_API_KEY", description="Name of the env variable holding the key.")
    llm_timeout: float = Field(30.0, gt=0, description="Seconds before an LLM call is abandoned.")
    llm_temperature: float = Field(0.0, ge=0, le=2)
    llm_context_chars: int = Field(
        4000, ge=0, le=200_000,
        description="Evidence handed to an LLM, in characters: spans sized to the question, cited with exact "
                    "offsets (0: the top_k whole chunks).",
    )
    organisation: str = Field(
        "Kestrel Group", min_length=1, max_length=200,
        description="Name of the organisation whose knowledge base this is (used in the LLM prompt).",
    )
    default_role: Role = Field(
        "admin", description="Role of the single local user when no users file is configured."
    )
    top_k: int = Field(6, ge=1, le=50, description="Chunks handed to the answerer.")
    max_question_chars: int = Field(2000, ge=10, le=100_000)
    blas_threads: int = Field(
        1, ge=0, le=256,
        description="Threads for numpy's BLAS in a serving process (0: the library default). More than one lets "
                    "its spinning threads starve the embedding model's on a small machine.",
    )
    host: str = Field("127.0.0.1", description="Address the web app binds to.")
    port: int = Field(7860, ge=1, le=65535)
    users_file: Path | None = Field(None, description="YAML users file; sign-in is on when set.")
    feedback_db: Path = Field(Path(".index/feedback.sqlite3"))
    upload_dir_name: str = Field("uploads", description="Sub-folder of knowledge_root for uploads.")
    upload_temp_max_age_s: int = Field(
        3600, ge=1, le=7 * 86400,
        description="Temporary upload files no handler received are deleted once older than this (seconds).",
    )

    @field_validator("chunk_overlap")
    @classmethod
    def _overlap_smaller(cls, v: int, info: Any) -> int:
        size = info.data.get("chunk_size")
        if size is not None and v >= size:
            raise ValueError(f"must be smaller than chunk_size ({size})")
        return v

    @model_validator(mode="after")
    def _default_snapshot_dir(self) -> "Settings":
        if self.snapshot_dir is None:
            self.snapshot_dir = self.index_dir / "snapshot"
        return self

    @model_validator(mode="after")
    def _llm_needs_url(self) -> "Settings":
        if self.answer_backend != "extractive" and not self.llm_base_url.startswith(("http://", "https://")):
            raise ValueError("llm_base_url must start with http:// or https:// for an LLM backend")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment first: a variable overrides the settings file passed as init values.
        return (env_settings, init_settings)

    @property
    def chroma_path(self) -> Path:
        return self.index_dir / "chroma"

    @property
    def upload_dir(self) -> Path:
        return self.knowledge_root / self.upload_dir_name

    def describe(self) -> dict[str, Any]:
        """Settings without secrets, for display."""
        return {k: str(v) for k, v in self.model_dump().items()}


def _format_error(err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        name = ".".join(str(p) for p in e["loc"]) or "settings"
        got = e.get("input")
        msg = e["msg"]
        lines.append(
            f"setting '{name}' (env ASSISTANT_{name.upper()}): {msg}"
            + (f" (got {got!r})" if got is not None and not isinstance(got, dict) else "")
        )
    return "Invalid configuration:\n  " + "\n  ".join(lines)


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read settings from ``path`` (or ASSISTANT_SETTINGS_FILE / ./assistant.yaml) and the env.

    Raises:
        SettingsError: naming every bad setting and the values it allows.
    """
    file_values: dict[str, Any] = {}
    candidate = path or os.environ.get("ASSISTANT_SETTINGS_FILE")
    if candidate is None and Path("assistant.yaml").exists():
        candidate = "assistant.yaml"
    if candidate is not None:
        p = Path(candidate)
        if not p.exists():
            raise SettingsError(f"settings file {p} does not exist")
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise SettingsError(f"settings file {p} is not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise SettingsError(f"settings file {p} must hold a mapping of setting: value")
        file_values.update(data)
    file_values.update(overrides)
    try:
        return Settings(**file_values)
    except ValidationError as exc:
        raise SettingsError(_format_error(exc)) from None
