"""Risk order: KEV (ransomware) > EPSS > CVSS > exposure > consequence, with an explanation."""

from linewatch.vulns.engine.model import EpssScore, KevEntry, NvdRecord, Score, VulnRecord
from linewatch.vulns.engine.risk import Exposure, rank


def rec(cve="CVE-2024-0001", kev=False, ransomware=False, pct=None, cvss=None, kind="cvss_v31", primary=True):
    r = VulnRecord(cve=cve)
    if kev:
        r.kev = KevEntry(cve=cve, ransomware=ransomware, date_added="2024-01-01")
    if pct is not None:
        r.epss = EpssScore(cve=cve, epss=pct / 2, percentile=pct)
    if cvss is not None:
        r.nvd = NvdRecord(cve=cve, scores=[Score(kind=kind, base_score=cvss, primary=primary)])
    return r


def order(*risks):
    return sorted(range(len(risks)), key=lambda i: risks[i].key)


def test_kev_beats_everything_and_ransomware_beats_kev():
    a = rank(rec(kev=True, ransomware=True, pct=0.1, cvss=5.0))
    b = rank(rec(kev=True, pct=0.1, cvss=5.0))
    c = rank(rec(pct=0.99, cvss=10.0), Exposure(internet_reachable=True), 1e6)
    assert order(c, b, a) == [2, 1, 0]
    assert "ransomware" in a.explanation[0]


def test_epss_band_then_cvss_then_exposure_then_consequence():
    hi_epss = rank(rec(pct=0.97, cvss=5.0))
    hi_cvss = rank(rec(pct=0.40, cvss=9.8))
    assert hi_epss.key < hi_cvss.key
    internet = rank(rec(pct=0.4, cvss=9.8), Exposure(internet_reachable=True))
    level1 = rank(rec(pct=0.4, cvss=9.8), Exposure(purdue_level=1))
    assert internet.key < level1.key
    costly = rank(rec(pct=0.4, cvss=9.8), Exposure(purdue_level=1), 50_000)
    cheap = rank(rec(pct=0.4, cvss=9.8), Exposure(purdue_level=1), 100)
    assert costly.key < cheap.key
    assert "50,000/h" in costly.explanation[-1]


def test_unknown_exposure_is_not_hidden_below_the_control_network():
    assert rank(rec(cvss=7.0)).key < rank(rec(cvss=7.0), Exposure(purdue_level=2)).key


def test_prefers_v4_and_primary_scores():
    r = rec(cvss=5.0)
    r.nvd.scores.append(Score(kind="cvss_v40", base_score=9.3, primary=False))
    r.nvd.scores.append(Score(kind="cvss_v31", base_score=8.0, primary=False))
    assert r.best_score().base_score == 9.3
    r2 = rec(cvss=5.0)
    r2.nvd.scores.insert(0, Score(kind="cvss_v31", base_score=8.0, primary=False))
    assert r2.best_score().base_score == 5.0


def test_explanation_reads_in_the_order_of_the_key():
    r = rank(rec(kev=True, pct=0.9, cvss=9.8), Exposure(purdue_level=3.5), 1200)
    assert r.explanation[0].startswith("known exploited") and r.explanation[1].startswith("EPSS")
    assert r.explanation[2].startswith("CVSS 9.8 critical") and "Purdue level 3.5" in r.explanation[3]
