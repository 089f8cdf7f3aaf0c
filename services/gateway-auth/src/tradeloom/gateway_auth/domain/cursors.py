"""Opaque, tamper-evident pagination cursors: base64url(JSON) + "." + truncated HMAC-SHA256."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

MAX_CURSOR_CHARS = 512


class InvalidCursor(ValueError):
    """The cursor was not made by us for this list (edited, truncated or from another list)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    """Encodes the position after the last item of a page, bound to one list (``kind``)."""

    def __init__(self, key: bytes) -> None:
        self._key = hashlib.sha256(b"tradeloom-cursor\x00" + key).digest()

    def _mac(self, payload: bytes) -> str:
        return _b64(hmac.new(self._key, payload, hashlib.sha256).digest()[:16])

    def encode(self, kind: str, position: Any) -> str:
        payload = json.dumps({"k": kind, "p": position}, separators=(",", ":")).encode()
        return f"{_b64(payload)}.{self._mac(payload)}"

    def decode(self, kind: str, cursor: str) -> Any:
        if len(cursor) > MAX_CURSOR_CHARS or cursor.count(".") != 1 or not cursor.isascii():
            raise InvalidCursor("malformed cursor")
        body, mac = cursor.split(".")
        try:
            payload = _unb64(body)
        except (binascii.Error, ValueError) as error:
            raise InvalidCursor("malformed cursor") from error
        if not hmac.compare_digest(self._mac(payload), mac):
            raise InvalidCursor("cursor was altered or is not ours")
        try:
            decoded = json.loads(payload)
        except ValueError as error:
            raise InvalidCursor("malformed cursor") from error
        if not isinstance(decoded, dict) or decoded.get("k") != kind:
            raise InvalidCursor("cursor belongs to another list")
        return decoded.get("p")
