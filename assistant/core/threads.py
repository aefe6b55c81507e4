"""One thread for numpy's BLAS in a serving process.

The query path mixes the embedding model (PyTorch's or ONNX Runtime's own thread pool) with small
numpy products (vector scores, span features). numpy's OpenBLAS pool, left at one thread per
core, keeps its threads spinning after each product and starves the model's threads: on a 2-core
machine span and chunk searches stalled for ~100 ms on most calls (evals/reports/bench-spans.md).
Those products are too small to gain from threads, so BLAS gets one unless the
``blas_threads`` setting (``ASSISTANT_BLAS_THREADS``) says otherwise.
"""

from __future__ import annotations

import os


def limit_blas_threads(n: int = 1) -> None:
    """Limit the BLAS libraries loaded so far (numpy's OpenBLAS, scipy's own) to ``n`` threads, and
    those loaded later through ``OPENBLAS_NUM_THREADS`` unless it is set already (0: leave them be)."""
    if n <= 0:
        return
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(n))
    import numpy  # noqa: F401  (loads the BLAS library this limits)
    from threadpoolctl import threadpool_limits

    threadpool_limits(n, user_api="blas")
