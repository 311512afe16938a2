"""NTAG 424 DNA Secure Unique NFC (SUN / SDM) messages, verified server-side as NXP AN12196 describes.

A tap yields a URL carrying the encrypted PICCData (`e`/`picc_data`: tag + UID + read counter,
AES-128-CBC, zero IV, under the SDM meta-read key) and an 8-byte SDMMAC (`c`/`cmac`): the odd bytes of
AES-CMAC under a session key that is itself a CMAC of the UID and counter under the SDM file-read key.
Only the tag holds the keys, so a valid MAC proves a physical tap; the counter rises with every tap,
so a replayed URL (same or lower counter) is refused by the caller's stored last counter.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

PICC_TAG_UID_CTR = 0xC7  # PICCDataTag: UID mirrored (bit 7), counter mirrored (bit 6), UID length 7
SV2_PREFIX = bytes.fromhex("3CC300010080")  # session vector for KSesSDMFileReadMAC (AN12196 §3.3)
SV1_PREFIX = bytes.fromhex("C33C00010080")  # session vector for KSesSDMFileReadENC


class SunError(ValueError):
    """The message is malformed or does not verify; the text says which part failed."""


@dataclass(frozen=True)
class SunResult:
    uid: str  # 14 hex digits, upper case
    counter: int  # SDMReadCtr
    file_data: bytes | None = None  # decrypted SDMENCFileData, when the URL carried it


def _cmac(key: bytes, data: bytes) -> bytes:
    c = CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()


def _hex(value: str, name: str, size: int | None = None) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise SunError(f"{name} is not hexadecimal") from None
    if size is not None and len(raw) != size:
        raise SunError(f"{name} must be {size} bytes, got {len(raw)}")
    return raw


def decrypt_picc_data(meta_key: bytes, picc_data: bytes) -> tuple[bytes, int]:
    """(UID, read counter) from the encrypted PICCData."""
    if len(picc_data) != 16:
        raise SunError("PICCData must be 16 bytes")
    dec = Cipher(algorithms.AES(meta_key), modes.CBC(bytes(16))).decryptor()
    plain = dec.update(picc_data) + dec.finalize()
    if plain[0] != PICC_TAG_UID_CTR:
        raise SunError(f"PICCData tag {plain[0]:#04x} is not {PICC_TAG_UID_CTR:#04x} (wrong key or tampered data)")
    return plain[1:8], int.from_bytes(plain[8:11], "little")


def session_mac_key(file_key: bytes, uid: bytes, counter: int) -> bytes:
    return _cmac(file_key, SV2_PREFIX + uid + counter.to_bytes(3, "little"))


def sdm_mac(file_key: bytes, uid: bytes, counter: int, mac_input: bytes = b"") -> bytes:
    """The 8-byte SDMMAC: the odd-indexed bytes of CMAC(session key, mac_input)."""
    return _cmac(session_mac_key(file_key, uid, counter), mac_input)[1::2]


def decrypt_file_data(file_key: bytes, uid: bytes, counter: int, enc: bytes) -> bytes:
    ses = _cmac(file_key, SV1_PREFIX + uid + counter.to_bytes(3, "little"))
    iv = Cipher(algorithms.AES(ses), modes.ECB()).encryptor().update(counter.to_bytes(3, "little") + bytes(13))
    dec = Cipher(algorithms.AES(ses), modes.CBC(iv)).decryptor()
    return dec.update(enc) + dec.finalize()


def verify(meta_key: bytes, file_key: bytes, picc_data: str, mac: str, enc: str | None = None,
           expected_uid: str | None = None) -> SunResult:
    """Verify one SUN message; raises SunError naming what failed. With `enc`, the MAC covers the
    URL text from the encrypted file data to `&cmac=` as the AN12196 example tags are configured."""
    uid, counter = decrypt_picc_data(meta_key, _hex(picc_data, "PICCData", 16))
    given = _hex(mac, "SDMMAC", 8)
    mac_input = f"{enc.upper()}&cmac=".encode() if enc else b""
    if not hmac.compare_digest(sdm_mac(file_key, uid, counter, mac_input), given):
        raise SunError("SDMMAC does not verify (forged or altered message, or wrong key)")
    if expected_uid and uid.hex().upper() != expected_uid.upper():
        raise SunError(f"tag UID {uid.hex().upper()} is not the checkpoint's tag {expected_uid.upper()}")
    data = decrypt_file_data(file_key, uid, counter, _hex(enc, "SDMENCFileData")) if enc else None
    return SunResult(uid=uid.hex().upper(), counter=counter, file_data=data)


def params_of(url_or_query: str) -> dict[str, str]:
    """`e`/`picc_data`, `c`/`cmac` and optional `enc` from a tapped URL or its query string."""
    query = urlsplit(url_or_query).query if "://" in url_or_query or "?" in url_or_query else url_or_query
    raw = {k: v[0] for k, v in parse_qs(query).items()}
    picc = raw.get("e") or raw.get("picc_data")
    mac = raw.get("c") or raw.get("cmac")
    if not picc or not mac:
        raise SunError("the URL carries no SUN message (needs e= and c=, or picc_data= and cmac=)")
    out = {"picc_data": picc, "mac": mac}
    if raw.get("enc"):
        out["enc"] = raw["enc"]
    return out


def check_counter(counter: int, last_counter: int | None) -> None:
    """A tap must carry a higher counter than any accepted before: anything else is a replay."""
    if last_counter is not None and counter <= last_counter:
        raise SunError(f"read counter {counter} is not above the last accepted {last_counter}: replayed URL")


def tap_url(base: str, meta_key: bytes, file_key: bytes, uid: str, counter: int, filler: bytes = bytes(5)) -> str:
    """The URL a tag configured like the AN12196 example produces for a tap (PICCData + SDMMAC): for
    provisioning checks, the demo and tests. `filler` is the tag's random padding of PICCData."""
    uid_bytes = bytes.fromhex(uid)
    plain = bytes([PICC_TAG_UID_CTR]) + uid_bytes + counter.to_bytes(3, "little") + filler[:5].ljust(5, b"\0")
    enc = Cipher(algorithms.AES(meta_key), modes.CBC(bytes(16))).encryptor()
    picc = enc.update(plain) + enc.finalize()
    mac = sdm_mac(file_key, uid_bytes, counter)
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}e={picc.hex().upper()}&c={mac.hex().upper()}"
