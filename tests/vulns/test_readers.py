"""Each feed reader on hand-written samples, on the corpus, and on broken input (errors name file and place)."""

import gzip
import json

import pytest

from linewatch.errors import InputError
from linewatch.vulns.engine.model import CsafFinding, EpssScore, KevEntry, NvdRecord
from linewatch.vulns.engine.readers import read_feed

from .conftest import VULN_CORPUS


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text if isinstance(text, str) else json.dumps(text))
    return p


# ------------------------------------------------------------------------------------------- good samples


def test_nvd_response_document(data):
    kind, recs = read_feed(data / "nvd_CVE-2021-36260_synthetic.json")
    assert kind == "nvd" and len(recs) == 1
    r = recs[0]
    assert isinstance(r, NvdRecord) and r.cve == "CVE-2021-36260" and r.cisa_exploit_add == "2022-01-10"
    assert r.scores[0].kind == "cvss_v31" and r.scores[0].base_score == 9.8 and r.scores[0].primary
    conf = r.configurations[0]
    assert conf.operator == "AND" and len(conf.nodes) == 2
    assert conf.nodes[0].cpe_match[0].version_end_excluding == "V5.5.800 build 210628"
    assert conf.nodes[1].cpe_match[0].vulnerable is False


def test_nvd_single_record_wrapped_in_cve(tmp_path, data):
    doc = json.loads((data / "nvd_CVE-2021-36260_synthetic.json").read_text())["vulnerabilities"][0]
    kind, recs = read_feed(write(tmp_path, "one.json", doc))
    assert kind == "nvd" and recs[0].cve == "CVE-2021-36260"


def test_kev_json_and_csv_agree(data):
    kj, json_rows = read_feed(data / "kev_small.json")
    kc, csv_rows = read_feed(data / "kev_small.csv")
    assert kj == kc == "kev"
    assert [r.cve for r in json_rows] == [r.cve for r in csv_rows]
    by = {r.cve: r for r in csv_rows}
    assert isinstance(by["CVE-2021-36260"], KevEntry) and by["CVE-2021-36260"].vendor_project == "Hikvision"
    assert by["CVE-2019-6693"].ransomware and not by["CVE-2021-36260"].ransomware
    assert json_rows[0].catalog_version == "2025.08.25"


def test_csaf_product_tree_status_remediation_and_scores(data):
    kind, recs = read_feed(data / "csaf_small.json")
    assert kind == "csaf" and len(recs) == 1
    f = recs[0]
    assert isinstance(f, CsafFinding) and f.advisory == "LW-TEST-2026-01" and f.cve == "CVE-2099-0001"
    by = {p.product_id: p for p in f.products}
    assert by["P-1516"].vendor == "Siemens" and by["P-1516"].version_range == "vers:all/<V2.9.4"
    assert by["P-1516"].model_numbers == ["6ES7516-3AN01-0AB0"]
    assert by["P-ENBT-FIX"].status == "fixed" and by["P-ENBT-FIX"].version == "33.012"
    assert any("Update to V2.9.4" in r for r in f.remediations)
    assert f.scores[0].base_score == 7.5


def test_epss_with_comment_line(data):
    kind, recs = read_feed(data / "epss_small.csv")
    assert kind == "epss" and len(recs) == 3
    r = recs[0]
    assert isinstance(r, EpssScore) and r.cve == "CVE-2021-36260" and r.percentile == pytest.approx(0.99962)
    assert r.score_date.startswith("2026-11-24") and r.model_version == "v2023.03.01"


def test_gzip_is_read_transparently(tmp_path, data):
    p = tmp_path / "epss.csv.gz"
    p.write_bytes(gzip.compress((data / "epss_small.csv").read_bytes()))
    assert read_feed(p)[0] == "epss"


# ------------------------------------------------------------------------------------------------ corpus


@pytest.mark.corpus
def test_corpus_nvd_records():
    for name, cve in (("CVE-2017-7921.json", "CVE-2017-7921"), ("CVE-2022-1161.json", "CVE-2022-1161"),
                      ("CVE-2023-21406.json", "CVE-2023-21406")):
        kind, recs = read_feed(VULN_CORPUS / "nvd" / name)
        assert kind == "nvd" and recs[0].cve == cve and recs[0].configurations
    _, (r,) = read_feed(VULN_CORPUS / "nvd" / "CVE-2017-7921.json")
    assert r.cisa_exploit_add == "2026-03-05"
    assert r.configurations[0].nodes[0].cpe_match[7].criteria.startswith(r"cpe:2.3:o:hikvision:ds-2cd2412f-i\(w\)")


@pytest.mark.corpus
def test_corpus_kev_catalogue():
    kind, recs = read_feed(VULN_CORPUS / "kev" / "known_exploited_vulnerabilities.json")
    assert kind == "kev" and len(recs) == 1404
    assert sum(r.ransomware for r in recs) == 293
    assert any(r.cve == "CVE-2021-36260" for r in recs)


@pytest.mark.corpus
def test_corpus_csaf_advisories():
    files = sorted((VULN_CORPUS / "csaf").glob("*.json"))
    assert len(files) == 9
    for f in files:
        kind, recs = read_feed(f)
        assert kind == "csaf" and recs and all(r.products for r in recs), f
    _, recs = read_feed(VULN_CORPUS / "csaf" / "icsa-17-124-01.json")
    p = recs[0].products[0]
    assert (p.vendor, p.product_name) == ("Hikvision", "DS-2CD2xx2FWD Series")
    assert p.version_range.startswith(">=  5.3.1 build 150410")


@pytest.mark.corpus
def test_corpus_files_that_are_not_feeds_are_refused_clearly():
    with pytest.raises(InputError, match="neither NVD"):
        read_feed(VULN_CORPUS / "kev" / "known_exploited_vulnerabilities_schema.json")


# ------------------------------------------------------------------------------------------- broken input


def test_broken_json_names_line_and_column(tmp_path):
    p = write(tmp_path, "nvd.json", '{"vulnerabilities": [\n  {"cve": {"id": "CVE-2021-1"\n')
    with pytest.raises(InputError) as e:
        read_feed(p)
    assert e.value.source == str(p) and e.value.place.startswith("line ")


def test_empty_and_non_feed_files(tmp_path):
    with pytest.raises(InputError, match="empty"):
        read_feed(write(tmp_path, "empty.json", ""))
    with pytest.raises(InputError, match="not a feed"):
        read_feed(write(tmp_path, "x.csv", "a,b,c\n1,2,3\n"))
    with pytest.raises(InputError, match="no such file|cannot read"):
        read_feed(tmp_path / "missing.json")
    bad = tmp_path / "bad.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(InputError, match="gzip"):
        read_feed(bad)


def test_nvd_wrong_types_name_the_json_path(tmp_path, data):
    doc = json.loads((data / "nvd_CVE-2021-36260_synthetic.json").read_text())
    doc["vulnerabilities"][0]["cve"]["configurations"][0]["nodes"][0]["cpeMatch"][0]["vulnerable"] = "yes"
    with pytest.raises(InputError) as e:
        read_feed(write(tmp_path, "nvd.json", doc))
    assert e.value.place == "$.vulnerabilities[0].cve.configurations[0].nodes[0].cpeMatch[0].vulnerable"
    doc["vulnerabilities"][0]["cve"]["configurations"][0]["nodes"][0]["cpeMatch"][0]["vulnerable"] = True
    doc["vulnerabilities"][0]["cve"]["configurations"][0]["nodes"][0]["cpeMatch"][0]["criteria"] = "cpe:/o:x:y"
    with pytest.raises(InputError, match="not a CPE 2.3") as e:
        read_feed(write(tmp_path, "nvd.json", doc))
    assert e.value.place.endswith("cpeMatch[0].criteria")
    doc["vulnerabilities"][0]["cve"]["id"] = "CVE-21-1"
    with pytest.raises(InputError, match="not a CVE id") as e:
        read_feed(write(tmp_path, "nvd.json", doc))
    assert e.value.place == "$.vulnerabilities[0].cve.id"


def test_kev_json_bad_entry_names_its_index(tmp_path, data):
    doc = json.loads((data / "kev_small.json").read_text())
    doc["vulnerabilities"][1]["cveID"] = 42
    with pytest.raises(InputError) as e:
        read_feed(write(tmp_path, "kev.json", doc))
    assert e.value.place == "$.vulnerabilities[1].cveID"


def test_kev_csv_bad_rows_name_the_line(tmp_path, data):
    lines = (data / "kev_small.csv").read_text().splitlines()
    lines.append("CVE-BAD,Acme,Widget,x,2024-01-01,d,a,2024-01-02,Unknown,,")
    with pytest.raises(InputError, match="not a CVE id") as e:
        read_feed(write(tmp_path, "kev.csv", "\n".join(lines) + "\n"))
    assert e.value.place == f"line {len(lines)}"
    short = lines[:1] + ["CVE-2024-0001,Acme"]
    with pytest.raises(InputError, match="fewer fields") as e:
        read_feed(write(tmp_path, "kev.csv", "\n".join(short) + "\n"))
    assert e.value.place == "line 2"


def test_csaf_unknown_product_id_and_bad_branch(tmp_path, data):
    doc = json.loads((data / "csaf_small.json").read_text())
    doc["vulnerabilities"][0]["product_status"]["known_affected"].append("P-NOPE")
    with pytest.raises(InputError, match="P-NOPE") as e:
        read_feed(write(tmp_path, "c.json", doc))
    assert e.value.place == "$.vulnerabilities[0].product_status.known_affected[5]"
    doc = json.loads((data / "csaf_small.json").read_text())
    del doc["product_tree"]["branches"][1]["branches"][0]["name"]
    with pytest.raises(InputError, match="category") as e:
        read_feed(write(tmp_path, "c.json", doc))
    assert e.value.place == "$.product_tree.branches[1].branches[0]"
    doc = json.loads((data / "csaf_small.json").read_text())
    del doc["document"]["tracking"]["id"]
    with pytest.raises(InputError, match="advisory id"):
        read_feed(write(tmp_path, "c.json", doc))


def test_epss_bad_lines(tmp_path):
    head = "#model_version:v2023.03.01,score_date:2026-11-24T00:00:00+0000\ncve,epss,percentile\n"
    with pytest.raises(InputError, match="not a number") as e:
        read_feed(write(tmp_path, "e.csv", head + "CVE-2021-36260,high,0.9\n"))
    assert e.value.place == "line 3"
    with pytest.raises(InputError, match="between 0 and 1"):
        read_feed(write(tmp_path, "e.csv", head + "CVE-2021-36260,1.5,0.9\n"))
    with pytest.raises(InputError, match="header") as e:
        read_feed(write(tmp_path, "e.csv", "#model_version:v1\ncve,score\n"))
    assert e.value.place == "line 2"
