"""PDFs for when the screens are dark: the unaccounted list of a roll call and a crisis situation
report (status board, roll-call tallies, runbook progress), with fpdf2 and its built-in fonts so
they print anywhere without font files."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from fpdf import FPDF

from linewatch.resilience import services
from linewatch.resilience.models import Crisis, RollCall

# The built-in PDF fonts speak Latin-1: typographic punctuation becomes its plain form.
_PLAIN = str.maketrans({"—": "-", "–": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "...", "→": "->",
                        "•": "*", "≥": ">=", "≤": "<="})


def _t(text: object) -> str:
    return str(text).translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


class _Doc(FPDF):
    def __init__(self, title: str, exercise: bool) -> None:
        super().__init__(format="A4")
        self.doc_title = title
        self.exercise = exercise
        self.set_auto_page_break(auto=True, margin=15)
        self.add_page()

    def header(self) -> None:
        self.set_font("Helvetica", "B", 14)
        if self.exercise:
            self.set_text_color(180, 0, 0)
            self.cell(0, 8, "EXERCISE - THIS IS A DRILL", new_x="LMARGIN", new_y="NEXT")
            self.set_text_color(0, 0, 0)
        self.cell(0, 8, _t(self.doc_title), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 8)
        self.cell(0, 5, _t(f"Linewatch - printed {timezone.now():%Y-%m-%d %H:%M} UTC - page {self.page_no()}"),
                  new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def heading(self, text: str) -> None:
        self.set_font("Helvetica", "B", 11)
        self.cell(0, 7, _t(text), new_x="LMARGIN", new_y="NEXT")

    def row(self, cells: list[tuple[str, float]], bold: bool = False) -> None:
        self.set_font("Helvetica", "B" if bold else "", 9)
        for text, width in cells:
            self.cell(width, 6, _t(text)[:90], border=1)
        self.ln()

    def para(self, text: str) -> None:
        self.set_font("Helvetica", "", 9)
        self.multi_cell(0, 5, _t(text), new_x="LMARGIN", new_y="NEXT")


def unaccounted_pdf(rc: RollCall) -> bytes:
    """Everyone with no answer (on-site people first) and everyone who asked for help, with phone
    numbers and a box to tick at the muster point."""
    crisis = rc.crisis
    doc = _Doc(f"Unaccounted - {rc.site.name} - {crisis.title}", crisis.exercise)
    counts = services.tally(rc)
    doc.para(f"Roll call opened {rc.opened:%Y-%m-%d %H:%M} UTC, {rc.waves} message wave(s). Safe {counts['safe']}, "
             f"need help {counts['need_help']}, not on site {counts['not_on_site']}, no answer {counts['no_answer']} "
             f"of {counts['total']}.")
    help_rows = [r for r in services.current(rc) if r["answer"] == "need_help"]
    if help_rows:
        doc.heading(f"Need help ({len(help_rows)})")
        doc.row([("Name", 55), ("Phone", 35), ("Said", 70), ("At", 20)], bold=True)
        for r in help_rows:
            doc.row([(r["person"].name, 55), (r["person"].phone, 35), (r["latest"].text or "-", 70),
                     (f"{r['latest'].time:%H:%M}", 20)])
        doc.ln(3)
    missing = services.unaccounted(rc)
    doc.heading(f"No answer ({len(missing)})")
    doc.row([("Found", 14), ("Name", 55), ("Phone", 35), ("On site?", 18), ("Why in the list", 58)], bold=True)
    for p in missing:
        doc.row([("[  ]", 14), (p.person.name, 55), (p.person.phone or "-", 35), ("yes" if p.on_site else "no", 18),
                 (p.why, 58)])
    return bytes(doc.output())


def sitrep_pdf(crisis: Crisis, now: dt.datetime | None = None, sites=None) -> bytes:
    """A situation report: phase history, each site's status, roll-call tallies and runbook progress
    (`sites` limits it to the sites a reader may see)."""
    now = now or timezone.now()
    doc = _Doc(f"Situation report - {crisis.title}", crisis.exercise)
    doc.para(f"{crisis.get_kind_display()}, phase {crisis.get_phase_display()}. Declared "
             f"{crisis.declared:%Y-%m-%d %H:%M} UTC by {crisis.declared_by}. {crisis.description}")
    doc.heading("Phases")
    for change in crisis.phase_changes.all():
        doc.para(f"{change.time:%Y-%m-%d %H:%M} {change.get_phase_display()} - {change.by}"
                 + (f": {change.note}" if change.note else ""))
    sites = list(crisis.sites.filter(pk__in=sites) if sites is not None else crisis.sites.all())
    sites.sort(key=lambda s: s.slug)
    doc.heading("Site status")
    doc.row([("Site", 50), ("State", 28), ("Capacity", 20), ("Reason", 52), ("Confirmed", 40)], bold=True)
    for row in services.status_board(sites):
        s = row["status"]
        doc.row([(row["site"].name, 50), (row["state"], 28), (f"{s.capacity}%" if s else "-", 20),
                 (s.reason if s else "-", 52), (f"{s.time:%H:%M} {s.by}" if s else "never", 40)])
    doc.heading("Roll call")
    doc.row([("Site", 50), ("Safe", 22), ("Need help", 22), ("Not on site", 24), ("No answer", 22), ("Waves", 20)],
            bold=True)
    for rc in crisis.roll_calls.filter(site__in=sites).select_related("site"):
        c = services.tally(rc)
        doc.row([(rc.site.name, 50), (str(c["safe"]), 22), (str(c["need_help"]), 22), (str(c["not_on_site"]), 24),
                 (str(c["no_answer"]), 22), (str(rc.waves), 20)])
    for run in crisis.runbook_runs.filter(runbook__site__in=sites).select_related("runbook__site"):
        progress = services.run_progress(run, now)
        doc.heading(f"Runbook: {run.runbook.title} ({run.runbook.site.name}) - {progress['done']}/{progress['total']}")
        for s in progress["steps"]:
            done = s["completion"]
            state = f"done {done.time:%H:%M} by {done.by}" if done else ("OVERDUE" if s["overdue"] else "open")
            doc.para(f"{s['step'].order}. {s['step'].title} - due {s['due']:%H:%M} - {state}"
                     + (f" - {done.note}" if done and done.note else ""))
    return bytes(doc.output())
