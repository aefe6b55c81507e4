"""Retrieval: filters, the in-memory corpus view, BM25, reference routing and hybrid search."""
