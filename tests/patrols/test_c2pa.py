"""C2PA content credentials on patrol photos: a photo signed on the device reads as Valid (with the
test CA untrusted, as expected without configured trust anchors); one changed byte reads as Invalid and
becomes an exception."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from linewatch.patrols.engine.photos import c2pa_state
from linewatch.patrols.synthetic import jpeg, scene

c2pa = pytest.importorskip("c2pa")


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Linewatch test")])


def _usage(sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not sign, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=sign, crl_sign=sign,
                         encipher_only=False, decipher_only=False)


def signed_photo(seed: int) -> bytes:
    """A JPEG with a C2PA manifest signed by a throwaway ES256 key under a throwaway CA (made per test)."""
    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    valid = {"not_valid_before": now - dt.timedelta(days=1), "not_valid_after": now + dt.timedelta(days=30)}
    ca = (x509.CertificateBuilder(subject_name=_name("Test CA"), issuer_name=_name("Test CA"),
                                  public_key=ca_key.public_key(), serial_number=x509.random_serial_number(), **valid)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(_usage(True), critical=True).sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder(subject_name=_name("Guard phone"), issuer_name=ca.subject,
                                    public_key=key.public_key(), serial_number=x509.random_serial_number(), **valid)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    chain = leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    pkey = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(alg=b"es256", sign_cert=chain, private_key=pkey, ta_url=None))
    manifest = {"claim_generator": "linewatch-test/1", "title": "patrol photo", "assertions": [
        {"label": "c2pa.actions", "data": {"actions": [{"action": "c2pa.created", "digitalSourceType":
                                                        "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}]}}]}
    out = io.BytesIO()
    c2pa.Builder(json.dumps(manifest)).sign(signer, "image/jpeg", io.BytesIO(jpeg(scene(seed))), out)
    return out.getvalue()


def test_signed_photo_is_valid_and_a_changed_byte_is_invalid():
    data = signed_photo(5)
    state = c2pa_state(data)
    assert state["state"] == "Valid" and state["signer"] == "Linewatch test"
    assert "signingCredential.untrusted" in state["status_codes"]
    tampered = bytearray(data)
    tampered[-500] ^= 1
    broken = c2pa_state(bytes(tampered))
    assert broken["state"] == "Invalid" and "assertion.dataHash.mismatch" in broken["status_codes"]


def test_invalid_credentials_become_an_exception_of_the_run(tours):
    from linewatch.patrols import services
    from linewatch.patrols.models import Checkpoint, PatrolException

    tampered = bytearray(signed_photo(6))
    tampered[-500] ^= 1
    run_id, scan_id = str(uuid.uuid4()), str(uuid.uuid4())
    at = "2026-03-10T21:01:00+00:00"
    code = services.typed_code(Checkpoint.objects.get(site__slug="alpha", code="gate"))
    services.sync(tours["guard"], [
        {"type": "run", "id": run_id, "site": "alpha", "tour": "night", "at": "2026-03-10T21:00:00+00:00"},
        {"type": "scan", "id": scan_id, "run": run_id, "method": "manual", "payload": code, "at": at},
        {"type": "photo", "id": str(uuid.uuid4()), "run": run_id, "scan": scan_id,
         "data": __import__("base64").b64encode(bytes(tampered)).decode()}])
    assert PatrolException.objects.filter(kind="c2pa_invalid", run__uid=run_id).count() == 1
