"""One way to write a symbol: ``BASE/QUOTE`` (``BASE/QUOTE:SETTLE`` for derivatives, as ccxt does).

Callers may send ``btc/usdt``, ``BTC-USDT`` or ``BTC_USDT``; all become ``BTC/USDT``. Subject tokens
replace ``/`` with ``-`` (``tradeloom.shared.subjects.symbol_token``) and ``:`` with ``_``.
"""

from __future__ import annotations

import re

_ASSET = r"[A-Z0-9]{1,20}"
_SYMBOL = re.compile(rf"^({_ASSET})/({_ASSET})(?::({_ASSET})(?:-([A-Z0-9\-]{{1,40}}))?)?$")


class SymbolError(ValueError):
    """A symbol that cannot be normalised."""


def normalise_symbol(raw: str) -> str:
    """``BTC/USDT`` from any accepted spelling; raises ``SymbolError`` otherwise."""
    text = raw.strip().upper()
    if "/" not in text:
        for separator in ("-", "_"):
            if text.count(separator) == 1:
                text = text.replace(separator, "/")
                break
    if not _SYMBOL.fullmatch(text):
        raise SymbolError(f"invalid symbol {raw!r}: expected BASE/QUOTE such as BTC/USDT")
    return text


def split_symbol(symbol: str) -> tuple[str, str, str | None]:
    """(base, quote, settle) of a normalised symbol."""
    match = _SYMBOL.fullmatch(symbol)
    if match is None:
        raise SymbolError(f"invalid symbol {symbol!r}")
    return match.group(1), match.group(2), match.group(3)


def token_form(symbol: str) -> str:
    """The subject-token spelling before ``symbol_token``: ``:`` (derivatives) becomes ``_``."""
    return symbol.replace(":", "_")
