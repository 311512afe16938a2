"""The human part of an evidence pack: report.html (opens offline from the unzipped pack, photos from blobs/) and
report.pdf (fpdf2). Both are drawn from the same records and controls document that the verifier checks; they are
for reading, the proof is in the records, checkpoints and proofs beside them."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string

GROUPS = (("patrol", "#2b7bb9"), ("alert", "#d9822b"), ("incident", "#c23030"), ("response", "#8f398f"),
          ("rollcall", "#0f9960"), ("plant", "#738694"), ("other", "#a7b6c2"))
TIMELINE_ROWS_HTML = 2000
TIMELINE_ROWS_PDF = 300
PHOTOS_PDF = 12


@dataclass
class ReportData:
    site: str
    site_name: str
    organisation: str
    origin: str
    period: tuple[str, str]
    generated: str
    records: Sequence[tuple[int, dict]]
    controls: dict[str, Any]
    checkpoint: int
    signers: list[str]
    vkeys: list[str]
    photos: list[tuple[str, str]]  # (sha256, media type) of blobs in the pack


def group_of(kind: str) -> str:
    head = kind.split(".", 1)[0]
    return head if head in dict(GROUPS) else "other"


def summary(record: dict) -> str:
    """One line saying what a record is about, from the fields its producers write."""
    body = record.get("body") if isinstance(record.get("body"), dict) else {}
    kind = record.get("kind", "")
    if kind == "plant.changed":
        return f"{body.get('action', '')} {body.get('object_type', '')} {body.get('object', '')} by " \
               f"{body.get('actor', '')} ({body.get('via', '')})"
    if kind.startswith("alert."):
        text = body.get("title") or body.get("text") or ""
        by = f" by {body['by']}" if body.get("by") else ""
        return f"{body.get('alert', '')[:12]} {text}{by}".strip()
    if kind == "patrol.scan":
        state = "verified" if body.get("verified") else f"NOT verified ({body.get('verification', '')})"
        return f"{body.get('tour', '')} {body.get('checkpoint') or '?'} by {body.get('guard', '')}: {state}"
    if kind == "patrol.exception":
        return f"{body.get('exception', '')} {body.get('checkpoint') or ''} {body.get('guard', '')}: " \
               f"{body.get('detail', '')}"
    picked = [f"{k}={v}" for k, v in body.items() if isinstance(v, str | int | float | bool)][:4]
    return ", ".join(picked)


def timeline_svg(records: Sequence[tuple[int, dict]], width: int = 760, height: int = 160) -> str:
    """An inline SVG: records per day, stacked by group (no script, no external resource)."""
    per_day: dict[str, Counter] = {}
    for _, rec in records:
        day = str(rec.get("time", ""))[:10]
        per_day.setdefault(day, Counter())[group_of(str(rec.get("kind", "")))] += 1
    if not per_day:
        return ""
    days = sorted(per_day)
    first = dt.date.fromisoformat(days[0])
    last = dt.date.fromisoformat(days[-1])
    span = (last - first).days + 1
    peak = max(sum(c.values()) for c in per_day.values())
    bar = max(1.0, (width - 40) / span)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 30}" '
             f'role="img" aria-label="evidence records per day">']
    for day, counts in per_day.items():
        x = 30 + (dt.date.fromisoformat(day) - first).days * bar
        y = height
        for group, colour in GROUPS:
            n = counts.get(group, 0)
            if n:
                h = n / peak * (height - 10)
                y -= h
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar - 1, 0.5):.1f}" height="{h:.1f}" '
                             f'fill="{colour}"><title>{day} {group}: {n}</title></rect>')
    parts.append(f'<text x="0" y="12" font-size="10">{peak}</text>')
    parts.append(f'<text x="30" y="{height + 14}" font-size="10">{first}</text>')
    parts.append(f'<text x="{width - 70}" y="{height + 14}" font-size="10">{last}</text>')
    legend_x = 30
    for group, colour in GROUPS:
        parts.append(f'<rect x="{legend_x}" y="{height + 20}" width="8" height="8" fill="{colour}"/>'
                     f'<text x="{legend_x + 11}" y="{height + 28}" font-size="10">{group}</text>')
        legend_x += 80
    parts.append("</svg>")
    return "".join(parts)


def _rows(data: ReportData, limit: int) -> list[dict]:
    return [{"index": i, "time": str(r.get("time", ""))[:19].replace("T", " "), "kind": r.get("kind", ""),
             "group": group_of(str(r.get("kind", ""))), "summary": summary(r)[:200]}
            for i, r in list(data.records)[:limit]]


def render_html(data: ReportData) -> bytes:
    from django.utils.safestring import mark_safe

    return render_to_string("evidence/report.html", {
        "d": data, "controls": [{**c, "csf": c["mappings"]["nist_csf_2.0"], "iec": c["mappings"]["iec_62443_2_1"],
                                 "iso": c["mappings"]["iso_27001_2022_annex_a"]} for c in data.controls["controls"]],
        "rows": _rows(data, TIMELINE_ROWS_HTML),
        "more": max(0, len(data.records) - TIMELINE_ROWS_HTML), "svg": mark_safe(timeline_svg(data.records)),  # noqa: S308 - built here from numbers and escaped-free labels
        "counts": sorted(Counter(str(r.get("kind")) for _, r in data.records).items()),
    }).encode()


def _latin1(text: Any) -> str:
    """fpdf2's core fonts are Latin-1: replace what they cannot draw rather than fail the export."""
    return str(text).replace("\u2014", "-").replace("\u2026", "...").replace("\u2192", "->").encode(
        "latin-1", "replace").decode("latin-1")


def render_pdf(data: ReportData, blobs: dict[str, bytes]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin1(f"Evidence report: {data.site_name} ({data.site})"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    for line in (f"Organisation: {data.organisation}", f"Period: {data.period[0]} to {data.period[1]}",
                 f"Generated: {data.generated}", f"Log: {data.origin}, records {data.records[0][0]}.."
                 f"{data.records[-1][0]}, proofs against signed checkpoint {data.checkpoint}",
                 f"Checkpoints signed by: {', '.join(data.signers)}"):
        pdf.cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, "Controls and KPIs", new_x="LMARGIN", new_y="NEXT")
    with pdf.table(col_widths=(40, 62, 88), text_align="LEFT", line_height=4.5) as table:
        pdf.set_font("Helvetica", "B", 8)
        table.row(["Control", "Maps to", "KPIs (from the records in this pack)"])
        pdf.set_font("Helvetica", "", 8)
        for c in data.controls["controls"]:
            maps = c["mappings"]
            table.row([_latin1(c["title"]),
                       _latin1("CSF " + ", ".join(maps["nist_csf_2.0"]) + "\nIEC 62443-2-1 "
                               + "; ".join(maps["iec_62443_2_1"]) + "\nISO 27001 "
                               + "; ".join(maps["iso_27001_2022_annex_a"])),
                       _latin1("\n".join(f"{k['name']}: {k['display']}" for k in c["kpis"]))])
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, "Timeline", new_x="LMARGIN", new_y="NEXT")
    rows = _rows(data, TIMELINE_ROWS_PDF)
    with pdf.table(col_widths=(12, 32, 36, 110), text_align="LEFT", line_height=4) as table:
        pdf.set_font("Helvetica", "B", 7)
        table.row(["#", "time (UTC)", "kind", "what"])
        pdf.set_font("Helvetica", "", 7)
        for r in rows:
            table.row([str(r["index"]), r["time"], _latin1(r["kind"]), _latin1(r["summary"])])
    if len(data.records) > len(rows):
        pdf.set_font("Helvetica", "I", 8)
        pdf.cell(0, 5, f"... {len(data.records) - len(rows)} more records in records.jsonl and report.html",
                 new_x="LMARGIN", new_y="NEXT")
    photos = [(h, blobs[h]) for h, media in data.photos if h in blobs and media in ("image/jpeg", "image/png")]
    if photos:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 7, "Photos (content-addressed: blobs/<sha256>)", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 6)
        for n, (digest, content) in enumerate(photos[:PHOTOS_PDF]):
            x = 10 + (n % 3) * 63
            y = 25 + (n // 3) * 62
            with contextlib.suppress(Exception):  # a blob that is not a drawable image still has its digest listed
                pdf.image(io.BytesIO(content), x=x, y=y, w=58, h=44, keep_aspect_ratio=True)
            pdf.set_xy(x, y + 45)
            pdf.multi_cell(58, 3, digest)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, "How to verify this pack", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(0, 5, _latin1(
        "linewatch evidence verify PACK.zip --key '<site vkey>' [--key '<hq vkey>' --witness <hq name>]\n"
        "Take the keys from the site and headquarters directly, not from this pack. See VERIFY.md.\n"
        "Public keys named in this pack:\n" + "\n".join(data.vkeys)))
    return bytes(pdf.output())
