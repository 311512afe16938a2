"""Signed QR checkpoint tokens: `LWCP1.<site>.<code>.<mac>`, an HMAC-SHA256 (truncated to 16 bytes,
base32) under the installation's key, so a printed code cannot be forged for another checkpoint.
A signed static code still can be photographed; the photo checks and transit analysis cover that."""

from __future__ import annotations

import base64
import hashlib
import hmac

PREFIX = "LWCP1"


def _mac(key: bytes, site: str, code: str) -> str:
    digest = hmac.new(key, f"{PREFIX}.{site}.{code}".encode(), hashlib.sha256).digest()[:16]
    return base64.b32encode(digest).decode().rstrip("=")


def sign(key: bytes, site: str, code: str) -> str:
    if "." in site or "." in code:
        raise ValueError("site and checkpoint code may not contain '.'")
    return f"{PREFIX}.{site}.{code}.{_mac(key, site, code)}"


def verify(key: bytes, token: str) -> tuple[str, str]:
    """(site, code) of a genuine token; ValueError otherwise."""
    parts = token.strip().split(".")
    if len(parts) != 4 or parts[0] != PREFIX:
        raise ValueError(f"not a Linewatch checkpoint code (expected {PREFIX}.<site>.<code>.<mac>)")
    _, site, code, mac = parts
    if not hmac.compare_digest(_mac(key, site, code), mac.upper()):
        raise ValueError("checkpoint code signature does not verify (forged or mistyped)")
    return site, code


SHORT = 8  # characters of the MAC printed under each QR code for typing in (40 bits)


def short_code(key: bytes, site: str, code: str) -> str:
    """What a guard types when the camera cannot read the QR code: `<code> <8 MAC characters>`."""
    return f"{code} {_mac(key, site, code)[:SHORT]}"


def verify_typed(key: bytes, site: str, text: str) -> str:
    """The checkpoint code of a typed `<code> <mac8>` (or a full token) for `site`; ValueError otherwise."""
    text = text.strip()
    if text.upper().startswith(PREFIX):
        token_site, code = verify(key, text)
        if token_site != site:
            raise ValueError(f"checkpoint code belongs to site {token_site}, not {site}")
        return code
    parts = text.rsplit(None, 1) if " " in text else text.rsplit("-", 1)
    if len(parts) != 2:
        raise ValueError("type the checkpoint code and the 8 characters printed under it")
    code, mac = parts[0].strip(), parts[1].upper()
    if len(mac) != SHORT or not hmac.compare_digest(_mac(key, site, code)[:SHORT], mac):
        raise ValueError("the characters do not match the checkpoint (mistyped, or not this site's code)")
    return code
