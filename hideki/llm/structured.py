"""Reading a model's structured answer: the JSON object asked for, out of whatever text came back.

Models wrap JSON in ```json fences or put a sentence before or after it; `parse_json_answer` takes the span
from the first "{" to the last "}" and parses it. Every way of failing raises `ModelOutputError`, which
pipelines catch to fall back to their local engine.
"""
from __future__ import annotations

import json
import re
from typing import Any

_OBJECT = re.compile(r"\{.*\}", re.S)


class ModelOutputError(ValueError):
    """The model's answer is not the structured output that was asked for."""


def parse_json_answer(text: str) -> dict[str, Any]:
    """The JSON object in a model's answer (tolerating code fences and chatter around it)."""
    match = _OBJECT.search(text)
    if not match:
        raise ModelOutputError("no JSON object in the model's answer")
    try:
        data = json.loads(match.group(0))
    except json.JSONDecodeError as error:
        raise ModelOutputError(f"the model's JSON does not parse: {error}") from error
    if not isinstance(data, dict):
        raise ModelOutputError("the model's JSON is not an object")
    return data
