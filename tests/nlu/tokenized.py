"""A message as Rasa's JiebaTokenizer leaves it (text and jieba tokens), for component tests."""
from __future__ import annotations

import jieba
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message


def tokenized(text: str, intent: str | dict | None = None, response_key: str | None = None) -> Message:
    tokens, start = [], 0
    for word in jieba.lcut(text):
        tokens.append(Token(word, start))
        start += len(word)
    data = {TEXT: text, TOKENS_NAMES[TEXT]: tokens}
    if intent:
        data[INTENT] = intent
    if response_key:
        data[INTENT_RESPONSE_KEY] = response_key
    return Message(data)
