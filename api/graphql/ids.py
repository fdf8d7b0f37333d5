"""Opaque global object IDs (Relay): base64url of "Kind:key"."""

from __future__ import annotations

import base64
import binascii

import strawberry


def to_global_id(kind: str, key: int) -> strawberry.ID:
    raw = f"{kind}:{key}".encode()
    return strawberry.ID(base64.urlsafe_b64encode(raw).decode().rstrip("="))


def from_global_id(value: str) -> tuple[str, int] | None:
    """`(kind, key)`, or None for anything that is not one of our IDs."""
    if not value or len(value) > 64:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    kind, _, key = raw.partition(":")
    if not (kind.isascii() and kind.isalpha()) or not (key.isascii() and key.isdigit()) or len(key) > 18:
        return None
    return kind, int(key)


def key_of(value: str, kind: str) -> int | None:
    """The key of an ID of the given kind; None when malformed or of another kind."""
    decoded = from_global_id(value)
    if decoded is None or decoded[0] != kind:
        return None
    return decoded[1]
