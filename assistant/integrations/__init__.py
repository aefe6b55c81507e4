"""Adapters that expose the assistant to other frameworks (``assistant.integrations.langchain``)."""
