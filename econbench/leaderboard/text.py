"""Text for the page and the table: escaping of submitted strings and numbers written for people.

Every submitted string is data: HTML-escaped in text and attributes, JSON-escaped so it
cannot close a script block, Markdown-escaped so it cannot inject markup or break a
table, and linked only when it is an http(s) URL.
"""

from __future__ import annotations

import html
import json
import math
import re
import urllib.parse
from typing import Any

DASH = "\u2014"


def h(value: object) -> str:
    return html.escape(str(value), quote=True)


def safe_url(url: str | None) -> str | None:
    """The URL itself if it is an absolute http(s) URL with a host, else ``None``.

    Browsers strip whitespace and control characters inside a scheme
    (``java\\tscript:``), so any such character disqualifies the URL outright.
    """
    if not url or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return None
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def finite_or_none(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_or_none(v) for v in obj]
    return obj


def script_json(obj: Any) -> str:
    """JSON that is safe inside ``<script>``: ``<``, ``>``, ``&`` and U+2028/9 escaped, so
    ``</script>`` or ``<!--`` in a submitted string cannot end or alter the block."""
    text = json.dumps(finite_or_none(obj), ensure_ascii=False, sort_keys=True, allow_nan=False)
    for char, esc in (
        ("&", "\\u0026"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, esc)
    return text


_MD_PUNCT = re.compile(r"([\\`*_\[\]|~])")
_MD_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


def md_escape(value: object) -> str:
    """Text for one Markdown table cell: no line breaks, no emphasis, links, code or HTML."""
    text = _MD_BREAKS.sub(" ", str(value))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_PUNCT.sub(r"\\\1", text)


def md_url(url: str) -> str:
    # Percent-encode what could end a Markdown link destination or split a table row.
    return urllib.parse.quote(url, safe=":/?#@!$&;=+,%-._~*'")


# ----------------------------------------------------------------------------- numbers


def tidy_exp(text: str) -> str:
    """``1.5e+06`` -> ``1.5e6``, ``2e-05`` -> ``2e-5``."""
    return re.sub(r"e([+-])0*(\d)", lambda m: "e" + ("-" if m.group(1) == "-" else "") + m.group(2), text)


def fmt(x: float | None) -> str:
    """A number for people: grouped integers for large values, 4 significant digits otherwise,
    scientific notation outside [1e-3, 1e9)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return DASH
    if math.isinf(x):
        return "\u221e" if x > 0 else "-\u221e"
    if x == 0:
        return "0"
    a = abs(x)
    if a >= 1e9 or a < 1e-3:
        return tidy_exp(f"{x:.3e}")
    if a >= 1e4:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def interval(ci: tuple[float, float] | None) -> str:
    return f"[{fmt(ci[0])}, {fmt(ci[1])}]" if ci else ""


def num_attr(x: float | None) -> str:
    """A ``data-sort`` value: ``repr`` round-trips exactly and ``parseFloat`` reads it."""
    return repr(float(x)) if x is not None and math.isfinite(x) else ""


_SEPARATORS = re.compile(r"([_\-/.:,;)\]]+)(?=[^\s_\-/.:,;)\]])")


def breakable(name: str) -> str:
    """``name`` HTML-escaped, with a line-break opportunity (``<wbr>``) after each run of separators
    (``_ - / . : , ; ) ]``): long names wrap between their parts, never inside a word."""
    parts = _SEPARATORS.split(str(name))
    return "".join(h(p) + ("<wbr>" if i % 2 else "") for i, p in enumerate(parts))


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, punctuation other than ``-`` and ``_`` dropped,
    spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
