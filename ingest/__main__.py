"""``python -m ingest [PATH] [--rebuild]``: the same as ``assistant ingest``."""

import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from ingest.cli import main  # noqa: E402

sys.exit(main())
