"""NTAG 424 DNA SUN messages against the NXP AN12196 published examples."""

from __future__ import annotations

import pytest

from linewatch.patrols.engine import sun

ZERO = bytes(16)
# AN12196 §3.4.4.2 (PICCData + SDMMAC, no file data), factory keys
AN12196_URL = "https://choose.url.com/ntag424?e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337086"
# AN12196-style tag with SDMENCFileData (as in NXP's sdm-backend examples), factory keys
ENC_URL = ("https://www.my424dna.com/?picc_data=FD91EC264309878BE6345CBE53BADF40"
           "&enc=CEE9A53E3E463EF1F459635736738962&cmac=ECC1E7F6C6C73BF6")


def test_an12196_vector_verifies_to_the_published_uid_counter_and_session_key():
    params = sun.params_of(AN12196_URL)
    result = sun.verify(ZERO, ZERO, params["picc_data"], params["mac"])
    assert result.uid == "04DE5F1EACC040" and result.counter == 61
    assert sun.session_mac_key(ZERO, bytes.fromhex("04DE5F1EACC040"), 61).hex().upper() == \
        "3FB5F6E3A807A03D5E3570ACE393776F"


def test_encrypted_file_data_vector_verifies_and_decrypts():
    params = sun.params_of(ENC_URL)
    result = sun.verify(ZERO, ZERO, params["picc_data"], params["mac"], params["enc"])
    assert result.uid == "04958CAA5C5E80" and result.counter == 8
    assert result.file_data == b"xxxxxxxxxxxxxxxx"


@pytest.mark.parametrize("change", ["mac", "picc", "enc"])
def test_tampered_messages_are_refused(change):
    params = sun.params_of(ENC_URL)
    if change == "mac":
        params["mac"] = "ECC1E7F6C6C73BF7"
    elif change == "picc":
        params["picc_data"] = "FD91EC264309878BE6345CBE53BADF41"
    else:
        params["enc"] = "DEE9A53E3E463EF1F459635736738962"
    with pytest.raises(sun.SunError):
        sun.verify(ZERO, ZERO, params["picc_data"], params["mac"], params.get("enc"))


def test_a_wrong_key_or_another_tag_is_refused():
    params = sun.params_of(AN12196_URL)
    with pytest.raises(sun.SunError, match="SDMMAC|PICCData"):
        sun.verify(ZERO, bytes.fromhex("00" * 15 + "01"), params["picc_data"], params["mac"])
    with pytest.raises(sun.SunError, match="not the checkpoint's tag"):
        sun.verify(ZERO, ZERO, params["picc_data"], params["mac"], expected_uid="04958CAA5C5E80")


def test_a_replayed_counter_is_refused_and_a_higher_one_accepted():
    sun.check_counter(61, None)
    sun.check_counter(61, 60)
    with pytest.raises(sun.SunError, match="replayed"):
        sun.check_counter(61, 61)
    with pytest.raises(sun.SunError, match="replayed"):
        sun.check_counter(12, 61)


@pytest.mark.parametrize("url", ["https://x/?e=zz&c=00", "https://x/?e=EF96&c=94EED9EE65337086", "https://x/"])
def test_malformed_urls_say_what_is_wrong(url):
    with pytest.raises(sun.SunError):
        params = sun.params_of(url)
        sun.verify(ZERO, ZERO, params["picc_data"], params["mac"])


def test_tap_url_reproduces_the_an12196_example_and_round_trips():
    filler = bytes.fromhex("DA5CF60941")  # the example's padding
    url = sun.tap_url("https://choose.url.com/ntag424", ZERO, ZERO, "04DE5F1EACC040", 61, filler)
    assert url == AN12196_URL
    key = bytes(range(16))
    params = sun.params_of(sun.tap_url("https://x/patrol/nfc/a/b/", key, key[::-1], "04A1B2C3D4E5F6", 7000))
    assert sun.verify(key, key[::-1], params["picc_data"], params["mac"]).counter == 7000
