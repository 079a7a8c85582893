"""Rasa input/output channels of our own (web chat now; WeChat later)."""
