"""Readers for the offline vulnerability feeds. Each turns a file into model records, or raises
`InputError` naming the file and the place (a JSON path such as ``$.vulnerabilities[3].cveID`` or a line).

* NVD CVE API 2.0 JSON: a response document (``{"vulnerabilities": [{"cve": {...}}]}``), one ``{"cve": {...}}``
  or one bare CVE record (as in fkie-cad/nvd-json-data-feeds).
* CISA KEV: the catalogue JSON, or its CSV export.
* CSAF 2.0: one advisory (CISA ICS or a vendor's).
* FIRST EPSS: the daily CSV, with or without its ``#model_version:...,score_date:...`` comment line.

Any of them may be gzip-compressed. `read_feed` tells the formats apart by content, not by file name.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import msgspec

from linewatch.errors import InputError

from .model import (
    ConfigNode,
    Configuration,
    CpeMatch,
    CsafFinding,
    CsafProduct,
    EpssScore,
    KevEntry,
    NvdRecord,
    Score,
)

CVE_ID = re.compile(r"^CVE-\d{4}-\d{4,}$")
Record = NvdRecord | KevEntry | CsafFinding | EpssScore


# ------------------------------------------------------------------------------------------ input schemas


class _CvssData(msgspec.Struct, rename="camel"):
    version: str = ""
    vector_string: str = ""
    base_score: float | None = None


class _Metric(msgspec.Struct, rename="camel"):
    cvss_data: _CvssData
    source: str = ""
    type: str = "Primary"


class _Metrics(msgspec.Struct, rename={"v40": "cvssMetricV40", "v31": "cvssMetricV31", "v30": "cvssMetricV30",
                                        "v2": "cvssMetricV2"}):
    v40: list[_Metric] = []
    v31: list[_Metric] = []
    v30: list[_Metric] = []
    v2: list[_Metric] = []


class _LangText(msgspec.Struct):
    value: str
    lang: str = "en"


class _CpeMatchIn(msgspec.Struct, rename="camel"):
    criteria: str
    vulnerable: bool
    match_criteria_id: str = ""
    version_start_including: str | None = None
    version_start_excluding: str | None = None
    version_end_including: str | None = None
    version_end_excluding: str | None = None


class _NodeIn(msgspec.Struct, rename="camel"):
    cpe_match: list[_CpeMatchIn] = []
    operator: str = "OR"
    negate: bool = False


class _ConfigIn(msgspec.Struct, rename="camel"):
    nodes: list[_NodeIn]
    operator: str = "OR"
    negate: bool = False


class _Weakness(msgspec.Struct):
    description: list[_LangText] = []


class _NvdCveIn(msgspec.Struct, rename="camel"):
    id: str
    last_modified: str = ""
    vuln_status: str = ""
    descriptions: list[_LangText] = []
    metrics: _Metrics = msgspec.field(default_factory=_Metrics)
    configurations: list[_ConfigIn] = []
    weaknesses: list[_Weakness] = []
    cisa_exploit_add: str | None = None
    cisa_action_due: str | None = None


class _KevIn(msgspec.Struct, rename="camel", kw_only=True):
    cve_i_d: str = msgspec.field(name="cveID")
    vendor_project: str = ""
    product: str = ""
    vulnerability_name: str = ""
    date_added: str = ""
    required_action: str = ""
    due_date: str = ""
    known_ransomware_campaign_use: str = "Unknown"
    notes: str = ""


# ------------------------------------------------------------------------------------------------ helpers


def _open_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), "", f"cannot read: {exc.strerror or exc}") from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InputError(str(path), "", f"broken gzip data: {exc}") from None
    return data


def _text(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(str(path), f"byte {exc.start}", "not UTF-8 text") from None


def load_json(path: Path, data: bytes | None = None) -> Any:
    data = _open_bytes(path) if data is None else data
    text = _text(path, data)
    if not text.strip():
        raise InputError(str(path), "", "empty file")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(str(path), f"line {exc.lineno} column {exc.colno}", f"broken JSON: {exc.msg}") from None


def _convert(obj: Any, typ: type, source: str, base: str) -> Any:
    try:
        return msgspec.convert(obj, typ)
    except msgspec.ValidationError as exc:
        msg = str(exc)
        place = base
        m = re.search(r" - at `\$(.*)`$", msg)
        if m:
            place = base + m.group(1)
            msg = msg[: m.start()]
        raise InputError(source, place, msg) from None


def _kept(build: Callable[[], Record], errors: list[InputError] | None) -> Record | None:
    """One record, or None when it is broken and `errors` collects the problems (the file's other records are
    still read); without `errors` the first broken record stops the file."""
    try:
        return build()
    except InputError as exc:
        if errors is None:
            raise
        errors.append(exc)
        return None


def _require_cve(value: str, source: str, place: str) -> str:
    value = value.strip()
    if not CVE_ID.match(value):
        raise InputError(source, place, f"not a CVE id: {value!r}")
    return value


# ---------------------------------------------------------------------------------------------------- NVD


def _nvd_record(obj: Any, source: str, place: str) -> NvdRecord:
    if not isinstance(obj, dict):
        raise InputError(source, place, "expected a CVE record object")
    rec = _convert(obj, _NvdCveIn, source, place)
    cve = _require_cve(rec.id, source, place + ".id")
    scores: list[Score] = []
    for kind, metrics in (("cvss_v40", rec.metrics.v40), ("cvss_v31", rec.metrics.v31),
                          ("cvss_v30", rec.metrics.v30), ("cvss_v2", rec.metrics.v2)):
        for m in metrics:
            if m.cvss_data.base_score is not None:
                scores.append(Score(kind=kind, base_score=m.cvss_data.base_score, vector=m.cvss_data.vector_string,
                                    source=m.source, primary=m.type == "Primary"))
    configs: list[Configuration] = []
    for ci, c in enumerate(rec.configurations):
        nodes = []
        for ni, n in enumerate(c.nodes):
            for mi, cm in enumerate(n.cpe_match):
                if not cm.criteria.startswith("cpe:2.3:"):
                    raise InputError(source, f"{place}.configurations[{ci}].nodes[{ni}].cpeMatch[{mi}].criteria",
                                     f"not a CPE 2.3 string: {cm.criteria!r}")
            nodes.append(ConfigNode(operator=n.operator.upper(), negate=n.negate, cpe_match=[
                CpeMatch(criteria=cm.criteria, vulnerable=cm.vulnerable, match_criteria_id=cm.match_criteria_id,
                         version_start_including=cm.version_start_including,
                         version_start_excluding=cm.version_start_excluding,
                         version_end_including=cm.version_end_including,
                         version_end_excluding=cm.version_end_excluding) for cm in n.cpe_match]))
        configs.append(Configuration(operator=c.operator.upper(), negate=c.negate, nodes=nodes))
    desc = next((d.value for d in rec.descriptions if d.lang == "en"), "")
    cwes = list(dict.fromkeys(d.value for w in rec.weaknesses for d in w.description if d.value.startswith("CWE-")))
    return NvdRecord(cve=cve, last_modified=rec.last_modified, status=rec.vuln_status, description=desc.strip(),
                     scores=scores, configurations=configs, cwes=cwes, cisa_exploit_add=rec.cisa_exploit_add,
                     cisa_action_due=rec.cisa_action_due, source=source)


def read_nvd(path: Path, obj: Any = None, errors: list[InputError] | None = None) -> Iterator[NvdRecord]:
    """NVD CVE API 2.0: a response document, ``{"cve": {...}}`` or a bare CVE record."""
    source = str(path)
    obj = load_json(path) if obj is None else obj
    if isinstance(obj, dict) and isinstance(obj.get("vulnerabilities"), list):
        for i, item in enumerate(obj["vulnerabilities"]):
            place = f"$.vulnerabilities[{i}]"

            def one(item=item, place=place) -> NvdRecord:
                if not isinstance(item, dict) or "cve" not in item:
                    raise InputError(source, place, "expected an object with a 'cve' record")
                return _nvd_record(item["cve"], source, place + ".cve")

            if (rec := _kept(one, errors)) is not None:
                yield rec
    elif isinstance(obj, dict) and isinstance(obj.get("cve"), dict):
        yield _nvd_record(obj["cve"], source, "$.cve")
    elif isinstance(obj, dict) and "id" in obj:
        yield _nvd_record(obj, source, "$")
    else:
        raise InputError(source, "$", "not an NVD CVE API 2.0 document or record")


# ---------------------------------------------------------------------------------------------------- KEV


def _kev_entry(k: _KevIn, source: str, place: str, catalog: str) -> KevEntry:
    return KevEntry(cve=_require_cve(k.cve_i_d, source, place), vendor_project=k.vendor_project, product=k.product,
                    name=k.vulnerability_name, date_added=k.date_added, due_date=k.due_date,
                    required_action=k.required_action, ransomware=k.known_ransomware_campaign_use.lower() == "known",
                    notes=k.notes, catalog_version=catalog, source=source)


def read_kev_json(path: Path, obj: Any = None, errors: list[InputError] | None = None) -> Iterator[KevEntry]:
    source = str(path)
    obj = load_json(path) if obj is None else obj
    if not isinstance(obj, dict) or not isinstance(obj.get("vulnerabilities"), list):
        raise InputError(source, "$", "not a KEV catalogue: no 'vulnerabilities' list")
    catalog = str(obj.get("catalogVersion", ""))
    for i, item in enumerate(obj["vulnerabilities"]):
        place = f"$.vulnerabilities[{i}]"

        def one(item=item, place=place) -> KevEntry:
            return _kev_entry(_convert(item, _KevIn, source, place), source, place + ".cveID", catalog)

        if (rec := _kept(one, errors)) is not None:
            yield rec


KEV_COLUMNS = ("cveID", "vendorProject", "product", "vulnerabilityName", "dateAdded", "shortDescription",
               "requiredAction", "dueDate", "knownRansomwareCampaignUse", "notes")


def read_kev_csv(path: Path, text: str | None = None, errors: list[InputError] | None = None) -> Iterator[KevEntry]:
    source = str(path)
    text = _text(path, _open_bytes(path)) if text is None else text
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("cveID", "vendorProject", "product") if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(source, "line 1", f"KEV CSV header lacks {', '.join(missing)}")
    for row in reader:
        if (rec := _kept(lambda row=row: _kev_row(row, source, f"line {reader.line_num}"), errors)) is not None:
            yield rec


def _kev_row(row: dict, source: str, line: str) -> KevEntry:
    if None in row:
        raise InputError(source, line, "more fields than the header has")
    if row.get("cveID") is None or any(v is None for v in row.values()):
        raise InputError(source, line, "fewer fields than the header has")
    k = _KevIn(cve_i_d=row["cveID"], vendor_project=row["vendorProject"], product=row["product"],
               vulnerability_name=row.get("vulnerabilityName") or "", date_added=row.get("dateAdded") or "",
               required_action=row.get("requiredAction") or "", due_date=row.get("dueDate") or "",
               known_ransomware_campaign_use=row.get("knownRansomwareCampaignUse") or "Unknown",
               notes=row.get("notes") or "")
    return _kev_entry(k, source, line, "")


# --------------------------------------------------------------------------------------------------- CSAF


def _csaf_products(tree: Any, source: str) -> dict[str, CsafProduct]:
    """Walk product_tree.branches: vendor -> product_family/product_name -> product_version(_range) -> product."""
    products: dict[str, CsafProduct] = {}
    if not isinstance(tree, dict):
        raise InputError(source, "$.product_tree", "expected an object")

    def walk(branches: Any, place: str, ctx: dict[str, str]) -> None:
        if not isinstance(branches, list):
            raise InputError(source, place, "expected a list of branches")
        for i, b in enumerate(branches):
            here = f"{place}[{i}]"
            if not isinstance(b, dict) or "category" not in b or "name" not in b:
                raise InputError(source, here, "a branch needs 'category' and 'name'")
            c = dict(ctx)
            cat, name = b["category"], str(b["name"])
            if cat == "vendor":
                c["vendor"] = name
            elif cat in ("product_name", "product_family"):
                c["product_name"] = (c["product_name"] + " " + name) if cat == "product_name" and \
                    c.get("family_only") else name
                c.pop("family_only", None)
                if cat == "product_family":
                    c["family_only"] = "1"
            elif cat == "product_version":
                c["version"] = name
            elif cat == "product_version_range":
                c["version_range"] = name
            if "product" in b:
                p = b["product"]
                if not isinstance(p, dict) or "product_id" not in p:
                    raise InputError(source, here + ".product", "a product needs 'product_id'")
                helper = p.get("product_identification_helper") or {}
                models = helper.get("model_numbers") or [] if isinstance(helper, dict) else []
                products[str(p["product_id"])] = CsafProduct(
                    product_id=str(p["product_id"]), vendor=c.get("vendor", ""),
                    product_name=c.get("product_name", ""), full_name=str(p.get("name", "")),
                    version=c.get("version"), version_range=c.get("version_range"),
                    model_numbers=[str(m) for m in models])
            if "branches" in b:
                walk(b["branches"], here + ".branches", c)

    walk(tree.get("branches", []), "$.product_tree.branches", {})
    # Relationships ("X installed on Y") name a new product id; treat it as the first product.
    for i, r in enumerate(tree.get("relationships", []) or []):
        try:
            full = r["full_product_name"]
            ref = products.get(r["product_reference"])
            if ref is not None:
                products[full["product_id"]] = msgspec.structs.replace(ref, product_id=full["product_id"],
                                                                       full_name=full.get("name", ref.full_name))
        except (KeyError, TypeError):
            raise InputError(source, f"$.product_tree.relationships[{i}]", "a relationship needs "
                             "'product_reference' and 'full_product_name.product_id'") from None
    return products


def _csaf_scores(v: dict, source: str, place: str) -> list[Score]:
    out: list[Score] = []
    for i, s in enumerate(v.get("scores", []) or []):
        for key, kind in (("cvss_v4", "cvss_v40"), ("cvss_v3", "cvss_v31"), ("cvss_v2", "cvss_v2")):
            if key in s:
                data = s[key]
                if not isinstance(data, dict) or not isinstance(data.get("baseScore"), int | float):
                    raise InputError(source, f"{place}.scores[{i}].{key}.baseScore", "expected a number")
                k = "cvss_v30" if kind == "cvss_v31" and str(data.get("version")) == "3.0" else kind
                out.append(Score(kind=k, base_score=float(data["baseScore"]), vector=data.get("vectorString", ""),
                                 source="csaf", primary=True))
    return out


def read_csaf(path: Path, obj: Any = None, errors: list[InputError] | None = None) -> Iterator[CsafFinding]:
    source = str(path)
    obj = load_json(path) if obj is None else obj
    if not isinstance(obj, dict) or not isinstance(obj.get("document"), dict):
        raise InputError(source, "$.document", "not a CSAF document")
    doc = obj["document"]
    tracking = doc.get("tracking")
    if not isinstance(tracking, dict) or not tracking.get("id"):
        raise InputError(source, "$.document.tracking.id", "missing advisory id")
    advisory = str(tracking["id"])
    products = _csaf_products(obj.get("product_tree", {}), source)
    vulns = obj.get("vulnerabilities", [])
    if not isinstance(vulns, list):
        raise InputError(source, "$.vulnerabilities", "expected a list")
    for i, v in enumerate(vulns):
        if isinstance(v, dict) and "cve" not in v:
            continue  # CSAF allows vulnerabilities without a CVE; nothing to join them on.
        one = partial(_csaf_finding, v, f"$.vulnerabilities[{i}]", source, advisory, doc, tracking, products)
        if (rec := _kept(one, errors)) is not None:
            yield rec


def _csaf_finding(v: Any, place: str, source: str, advisory: str, doc: dict, tracking: dict,
                  products: dict[str, CsafProduct]) -> CsafFinding:
    if not isinstance(v, dict):
        raise InputError(source, place, "expected an object")
    cve = _require_cve(str(v["cve"]), source, place + ".cve")
    status = v.get("product_status") or {}
    if not isinstance(status, dict):
        raise InputError(source, place + ".product_status", "expected an object")
    leaves: list[CsafProduct] = []
    for st in ("known_affected", "first_affected", "last_affected", "under_investigation", "fixed",
               "first_fixed", "known_not_affected"):
        for j, pid in enumerate(status.get(st, []) or []):
            if pid not in products:
                raise InputError(source, f"{place}.product_status.{st}[{j}]",
                                 f"product id {pid!r} is not in the product tree")
            leaves.append(msgspec.structs.replace(products[pid], status=st))
    rems = []
    for r in v.get("remediations", []) or []:
        if isinstance(r, dict) and r.get("details"):
            rems.append(f"{r.get('category', 'remediation')}: {r['details']}")
    return CsafFinding(advisory=advisory, cve=cve, title=str(doc.get("title", "")),
                       release_date=str(tracking.get("current_release_date", "")),
                       version=str(tracking.get("version", "")), products=leaves, remediations=rems,
                       scores=_csaf_scores(v, source, place), source=source)


# --------------------------------------------------------------------------------------------------- EPSS


def read_epss(path: Path, text: str | None = None, errors: list[InputError] | None = None) -> Iterator[EpssScore]:
    source = str(path)
    text = _text(path, _open_bytes(path)) if text is None else text
    lines = text.splitlines()
    meta: dict[str, str] = {}
    start = 0
    if lines and lines[0].startswith("#"):
        for part in lines[0][1:].split(","):
            if ":" in part:
                k, _, val = part.partition(":")
                meta[k.strip()] = val.strip()
        start = 1
    if len(lines) <= start or [h.strip() for h in lines[start].split(",")][:3] != ["cve", "epss", "percentile"]:
        raise InputError(source, f"line {start + 1}", "EPSS CSV needs the header 'cve,epss,percentile'")
    for n, line in enumerate(lines[start + 1:], start=start + 2):
        if not line.strip():
            continue
        if (rec := _kept(partial(_epss_line, line, f"line {n}", source, meta), errors)) is not None:
            yield rec


def _epss_line(line: str, place: str, source: str, meta: dict[str, str]) -> EpssScore:
    fields = line.split(",")
    if len(fields) < 3:
        raise InputError(source, place, "expected cve,epss,percentile")
    cve = _require_cve(fields[0], source, place)
    try:
        epss, pct = float(fields[1]), float(fields[2])
    except ValueError:
        raise InputError(source, place, f"not a number: {fields[1]!r} / {fields[2]!r}") from None
    if not (0.0 <= epss <= 1.0 and 0.0 <= pct <= 1.0):
        raise InputError(source, place, "epss and percentile must lie between 0 and 1")
    return EpssScore(cve=cve, epss=epss, percentile=pct, score_date=meta.get("score_date", ""),
                     model_version=meta.get("model_version", ""), source=source)


# ---------------------------------------------------------------------------------------------- detection


def detect(path: Path) -> tuple[str, Any]:
    """The feed kind of a file (``nvd``, ``kev``, ``csaf``, ``epss``) and its parsed body, by content."""
    data = _open_bytes(path)
    if not data.strip():
        raise InputError(str(path), "", "empty file")
    head = data.lstrip()[:1]
    if head in (b"{", b"["):
        obj = load_json(path, data)
        if isinstance(obj, dict):
            if isinstance(obj.get("document"), dict) and "csaf_version" in obj["document"]:
                return "csaf", obj
            if "catalogVersion" in obj or (isinstance(obj.get("vulnerabilities"), list) and obj["vulnerabilities"]
                                           and isinstance(obj["vulnerabilities"][0], dict)
                                           and "cveID" in obj["vulnerabilities"][0]):
                return "kev", obj
            if "vulnerabilities" in obj or "cve" in obj or str(obj.get("id", "")).startswith("CVE-"):
                return "nvd", obj
        raise InputError(str(path), "$", "JSON that is neither NVD CVE 2.0, KEV nor CSAF 2.0")
    text = _text(path, data)
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    if first.startswith("#model_version") or first.replace(" ", "").startswith("cve,epss"):
        return "epss", text
    if "cveID" in first and "vendorProject" in first:
        return "kev_csv", text
    raise InputError(str(path), "line 1", "not a feed this reader knows (NVD/KEV/CSAF JSON, KEV or EPSS CSV)")


def read_feed(path: Path, errors: list[InputError] | None = None) -> tuple[str, list[Record]]:
    """Read one feed file of any supported kind; returns its kind and records.

    With `errors`, a broken record is appended there (naming its place) and the file's other records are still
    returned; a file that is broken as a whole (not JSON, not a feed) raises either way."""
    kind, body = detect(path)
    reader = {"nvd": read_nvd, "kev": read_kev_json, "csaf": read_csaf, "epss": read_epss,
              "kev_csv": read_kev_csv}[kind]
    return kind.removesuffix("_csv"), list(reader(path, body, errors))
