"""LLM providers behind one protocol; a model name picks its adapter."""
