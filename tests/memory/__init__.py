"""Tests of long-term memory (issue 5): embedder, store, tools, API, recall, extraction."""
