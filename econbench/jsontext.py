"""JSON text from users, checked before it is parsed: how deep it nests (``json.loads`` recurses)."""

from __future__ import annotations

import re

MAX_JSON_DEPTH = 32  # results and policy files nest a few levels; deeper input is refused before json.loads recurses

_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]')  # a whole string literal, or one bracket


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON text, brackets inside strings ignored.

    Linear and iterative, so it is safe on input that would make ``json.loads`` recurse too deeply.
    """
    depth = deepest = 0
    for token in _JSON_TOKENS.finditer(text):
        c = token.group()[0]
        if c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
    return deepest
