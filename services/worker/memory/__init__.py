"""Long-term memory in the worker: embeddings, save/search, recall, extraction, upkeep."""
