"""The core layer shared by ``ingest`` and the rest of ``assistant``: data types, settings, roles,
text utilities, the embedders, the Chroma store and audit-finding records.

Nothing here imports from the rest of ``assistant`` or from ``ingest``.
"""
