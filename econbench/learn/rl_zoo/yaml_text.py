"""A YAML writer for RL Zoo's hyperparameter tables, so that generating them needs no YAML library.

The tables hold mappings, lists, strings, numbers and booleans. PyYAML (what
RL Zoo reads with) follows YAML 1.1, which reads ``1e-05`` as a string: floats
are written with a dot in the mantissa and a signed exponent so they read back
as the same float.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


def scalar(value: Any) -> str:
    """One value on one line: a flow list of scalars, or a scalar that PyYAML reads back exactly."""
    if isinstance(value, bool):  # before numbers: a bool is an int
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        mantissa, e, exponent = text.partition("e")
        if "." not in mantissa:
            mantissa += ".0"
        if e and exponent[0] not in "+-":
            exponent = "+" + exponent
        return mantissa + (f"e{exponent}" if e else "")
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a YAML double-quoted scalar
    if isinstance(value, (list, tuple)) and not any(isinstance(v, (Mapping, list, tuple)) for v in value):
        return "[" + ", ".join(scalar(v) for v in value) + "]"
    raise TypeError(f"no one-line YAML for {value!r}")


def block(mapping: Mapping[str, Any], indent: int = 0) -> list[str]:
    """A block mapping: nested mappings indent, lists of mappings become ``- key: ...`` items."""
    pad = " " * indent
    lines: list[str] = []
    for key, value in mapping.items():
        if isinstance(value, Mapping) and value:
            lines += [f"{pad}{key}:", *block(value, indent + 2)]
        elif isinstance(value, (list, tuple)) and any(isinstance(v, Mapping) for v in value):
            lines.append(f"{pad}{key}:")
            for item in value:
                if not isinstance(item, Mapping):
                    raise TypeError(f"{key}: a list mixing mappings and scalars: {value!r}")
                first, *rest = block(item, indent + 4)
                lines += [f"{pad}  - {first.lstrip()}", *rest]
        else:
            lines.append(f"{pad}{key}: {'{}' if isinstance(value, Mapping) else scalar(value)}")
    return lines


def dump(mapping: Mapping[str, Any], header: str = "") -> str:
    """The document: ``header`` as comment lines, then one block mapping per top-level key, a blank line apart."""
    out = [f"# {line}".rstrip() for line in header.splitlines()]
    for key, value in mapping.items():
        out += ["", *block({key: value})]
    return "\n".join(out).lstrip("\n") + "\n"
