"""The service's routers: aurora (spec v2), codex (spec v1), generations, embeddings, stream, system."""
