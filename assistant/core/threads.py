"""One thread for numpy's BLAS in a serving process.

The query path mixes the embedding model (PyTorch's or ONNX Runtime's own thread pool) with small
numpy products (vector scores, span features). numpy's OpenBLAS pool, left at one thread per
core, keeps its threads spinning after each product and starves the model's threads: on a 2-core
machine span and chunk searches stalled for ~100 ms on most calls (evals/reports/bench-spans.md).
Those products are too small to gain from threads, so BLAS gets one, unless
``ASSISTANT_BLAS_THREADS`` says otherwise.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)
_done = False


def limit_blas_threads() -> None:
    """Limit the BLAS libraries loaded so far (numpy's OpenBLAS) to ``ASSISTANT_BLAS_THREADS`` (default 1)."""
    global _done
    if _done:
        return
    _done = True
    try:
        n = int(os.environ.get("ASSISTANT_BLAS_THREADS", "1"))
    except ValueError:
        log.warning("ASSISTANT_BLAS_THREADS=%r is not a number; using 1", os.environ["ASSISTANT_BLAS_THREADS"])
        n = 1
    if n <= 0:  # 0: leave the libraries' own defaults
        return
    import numpy  # noqa: F401  (loads the BLAS library this limits)
    from threadpoolctl import threadpool_limits

    threadpool_limits(n, user_api="blas")
