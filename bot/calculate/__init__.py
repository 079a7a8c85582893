"""Calculating a worker's own case in a conversation: which slots, from which entities, to which answer."""
