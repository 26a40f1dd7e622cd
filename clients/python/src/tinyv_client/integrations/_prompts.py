"""The question inside a prompt, and a response without its special tokens.

Trainers hand a reward function the prompt in one of three forms: the question
itself, a list of chat messages, or the chat-templated string the model saw
(NeMo-RL's message logs, AReaL's decoded prompt, ROLL's decoded prompt ids,
slime with --apply-chat-template). The LLM verifier wants the question alone, so
question_of() takes the last user turn out of any of them. The chat formats are
those of the model families' published chat templates (ChatML, Llama 3, Gemma,
Mistral [INST], DeepSeek, Phi / Zephyr) and the "User: ... Assistant:" prompt of
R1-Zero-style datasets.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Optional, Sequence

from ._common import as_text

_FLAGS = re.DOTALL

# The last user turn of each chat format, its end optional (a truncated prompt).
_USER_TURNS = [
    re.compile(r"<\|im_start\|>user\s*\n(.*?)(?:<\|im_end\|>|$)", _FLAGS),  # ChatML: Qwen, many others
    re.compile(r"<\|start_header_id\|>user<\|end_header_id\|>\s*(.*?)(?:<\|eot_id\|>|$)", _FLAGS),  # Llama 3
    re.compile(r"<start_of_turn>user\s*\n(.*?)(?:<end_of_turn>|$)", _FLAGS),  # Gemma
    re.compile(r"<｜User｜>(.*?)(?:<｜Assistant｜>|$)", _FLAGS),  # DeepSeek V3 / R1
    re.compile(r"<\|user\|>\s*(.*?)(?:<\|end\|>|</s>|<\|assistant\|>|$)", _FLAGS),  # Phi-3, Zephyr
    re.compile(r"\[INST\](.*?)(?:\[/INST\]|$)", _FLAGS),  # Mistral, Llama 2
]
_SYSTEM_BLOCK = re.compile(r"<<SYS>>.*?<</SYS>>", _FLAGS)  # Llama 2's system prompt inside [INST]
_R1_ZERO = re.compile(r"User:(.*)Assistant:\s*(?:<think>)?\s*$", _FLAGS)
_SPECIAL = re.compile(
    r"<\|[^|<>\s]{1,40}\|>|<｜[^｜<>]{1,40}｜>|</?s>|<pad>|<eos>|<bos>|<start_of_turn>|<end_of_turn>"
)


def strip_special_tokens(text: str) -> str:
    """Text without tokenizer special tokens (<|im_end|>, </s>, <｜end▁of▁sentence｜>...); <think> stays."""
    return _SPECIAL.sub("", text).strip()


def _content(message: Any) -> str:
    if isinstance(message, Mapping):
        content = message.get("content", "")
        if isinstance(content, str):
            return content
        if isinstance(content, (list, tuple)):  # content parts: [{"type": "text", "text": ...}]
            return "".join(p.get("text", "") if isinstance(p, Mapping) else str(p) for p in content)
        return as_text(content)
    return as_text(message)


def last_message(messages: Sequence[Any], role: Optional[str] = None) -> str:
    """Text of the last message (with `role`, if given) of a conversation; "" if none."""
    chosen = [m for m in messages if role is None or (isinstance(m, Mapping) and m.get("role") == role)]
    return _content(chosen[-1]) if chosen else ""


def question_from_text(text: str) -> str:
    """The last user turn of a chat-templated string; the text itself when it is not templated."""
    for pattern in _USER_TURNS:
        turns = pattern.findall(text)
        if turns:
            return strip_special_tokens(_SYSTEM_BLOCK.sub("", turns[-1]))
    match = _R1_ZERO.search(text)
    if match:
        return match.group(1).strip()
    return strip_special_tokens(text)


def question_of(prompt: Any) -> str:
    """The question in a prompt given as text, as chat messages, or as a chat-templated string."""
    if prompt is None:
        return ""
    if isinstance(prompt, str):
        return question_from_text(prompt)
    if hasattr(prompt, "tolist"):  # numpy arrays of messages (verl, datasets)
        prompt = prompt.tolist()
    if isinstance(prompt, Mapping):
        return question_from_text(_content(prompt))
    if isinstance(prompt, (list, tuple)):
        if all(isinstance(m, Mapping) for m in prompt):
            users = [m for m in prompt if m.get("role") == "user"]
            return question_from_text(_content(users[-1] if users else prompt[-1])) if prompt else ""
        return question_from_text(as_text(prompt))
    return question_from_text(as_text(prompt))
