"""Answering: guards, follow-up rewriting, extractive and LLM answers, citation verification."""
