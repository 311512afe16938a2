"""RFC 3161 time-stamp tokens over checkpoint notes: the request a time-stamping authority (TSA) answers, and the
check a verifier makes of its answer (status granted, message imprint = SHA-256 of the note, and — given the TSA's
root certificate — the signature chain). Uses `rfc3161-client` (Trail of Bits)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import rfc3161_client as tsp
from cryptography import x509


class TimestampError(ValueError):
    """A time-stamp token is malformed, refused, for other data, or not signed by a trusted TSA."""


def request_for(note: bytes) -> bytes:
    """The DER TimeStampReq for a checkpoint note (SHA-256 imprint, a nonce, and the TSA's certificate asked for)."""
    return tsp.TimestampRequestBuilder().data(note).hash_algorithm(tsp.HashAlgorithm.SHA256).nonce(nonce=True) \
        .cert_request(cert_request=True).build().as_bytes()


def check_token(token: bytes, note: bytes, roots: Sequence[bytes] = ()) -> str:
    """Check a DER TimeStampResp for `note`; return the TSA's time (ISO 8601). With `roots` (PEM or DER root
    certificates of trusted TSAs) the token's signature and certificate chain are verified too."""
    try:
        response = tsp.decode_timestamp_response(token)
    except Exception as exc:  # the decoder raises its own error types for any malformed DER
        raise TimestampError(f"not an RFC 3161 time-stamp response: {exc}") from None
    if response.status not in (0, 1):  # granted, grantedWithMods
        raise TimestampError(f"the TSA refused the request (status {response.status}: {response.status_string})")
    info = response.tst_info
    if info.message_imprint.message != hashlib.sha256(note).digest():
        raise TimestampError("the token is for other data than this checkpoint: the note or the token was changed")
    if roots:
        ok = False
        for root in roots:
            cert = x509.load_pem_x509_certificate(root) if root.lstrip().startswith(b"-----") \
                else x509.load_der_x509_certificate(root)
            try:
                ok = tsp.VerifierBuilder().add_root_certificate(cert).build().verify_message(response, note)
            except tsp.VerificationError:
                ok = False
            if ok:
                break
        if not ok:
            raise TimestampError("the token's signature does not verify against the trusted TSA certificate")
    return info.gen_time.isoformat()
