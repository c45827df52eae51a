"""The knowledge base, worker side: chunking and indexing files, searching and recalling chunks."""
