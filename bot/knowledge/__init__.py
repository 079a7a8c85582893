"""The rights knowledge base: topics, answers, citations (source: data/knowledge/)."""
