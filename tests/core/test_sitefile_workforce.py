"""Site as code for the workforce configuration: the plant calendar, the training each area
requires and its owners — validated with places, imported idempotently, exported byte for byte,
and read by the detections."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from linewatch.core.models import AuditEntry, Site
from linewatch.core.sitefile.exporter import export_text
from linewatch.core.sitefile.importer import import_files
from linewatch.errors import InputErrors
from linewatch.workforce.models import PlantCalendar, PlantHoliday, ZoneOwner, ZoneRequirement
from tests.conftest import DEMO_SITES, TEST_SITES

ALPHA = TEST_SITES / "alpha.yaml"
BETA = TEST_SITES / "beta.yaml"

# Alpha is in Bremen: the Bremen holidays, the works' Christmas Eve off, and Christmas Day worked.
CALENDAR = """\
calendar:
  country: DE
  subdivision: HB
  closed:
    - date: 2026-12-24
      name: Heiligabend (Betriebsruhe)
  open:
    - {date: 2026-12-25, name: "Christmas Day: stocktake shift"}
"""
HALL_RULES = """\
    requires: [site_induction, loto]
    owners: [p-anna]
"""


def workforce_alpha(tmp_path: Path, calendar: str = CALENDAR, hall: str = HALL_RULES, name: str = "alpha.yaml") -> Path:
    """Alpha with a calendar after `site` and rules on hall-1, written as a person would."""
    text = ALPHA.read_text()
    text = text.replace("companies:\n", calendar + "companies:\n", 1)
    anchor = "    restricted_level: controlled\n    doors:\n"
    assert anchor in text
    text = text.replace(anchor, "    restricted_level: controlled\n" + hall + "    doors:\n", 1)
    path = tmp_path / name
    path.write_text(text)
    return path


def line_of(path: Path, needle: str, nth: int = 0) -> int:
    return [i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line][nth]


def errors_of(*paths: Path) -> list[str]:
    with pytest.raises(InputErrors) as exc:
        import_files([str(p) for p in paths])
    return [str(e) for e in exc.value.errors]


@pytest.mark.django_db
class TestImport:
    def test_calendar_requirements_and_owners_are_stored(self, tmp_path):
        report = import_files([str(workforce_alpha(tmp_path)), str(BETA)])
        assert report.created["plantcalendar"] == 1 and report.created["plantholiday"] == 2
        calendar = PlantCalendar.objects.get(site__slug="alpha")
        assert (calendar.country, calendar.subdivision) == ("DE", "HB")
        days = {(d.date.isoformat(), d.name, d.closed) for d in PlantHoliday.objects.filter(site__slug="alpha")}
        assert days == {("2026-12-24", "Heiligabend (Betriebsruhe)", True),
                        ("2026-12-25", "Christmas Day: stocktake shift", False)}
        assert sorted(ZoneRequirement.objects.filter(area__slug="hall-1").values_list("kind", flat=True)) == \
            ["loto", "site_induction"]
        assert list(ZoneOwner.objects.values_list("area__slug", "person__key")) == [("hall-1", "p-anna")]
        assert not PlantCalendar.objects.filter(site__slug="beta").exists()

    def test_importing_twice_changes_nothing(self, tmp_path):
        files = [str(workforce_alpha(tmp_path)), str(BETA)]
        import_files(files)
        entries = AuditEntry.objects.count()
        again = import_files(files)
        assert not again.changed, again.as_dict()
        assert AuditEntry.objects.count() == entries

    def test_edits_update_and_the_file_is_the_truth(self, tmp_path):
        import_files([str(workforce_alpha(tmp_path)), str(BETA)])
        renamed = CALENDAR.replace("Heiligabend (Betriebsruhe)", "Heiligabend").replace("HB", "NI")
        report = import_files([str(workforce_alpha(tmp_path, renamed, "    requires: [loto]\n"))])
        assert report.updated["plantholiday"] == 1 and report.updated["plantcalendar"] == 1
        assert report.deleted == {"zonerequirement": 1, "zoneowner": 1}
        assert PlantCalendar.objects.get(site__slug="alpha").subdivision == "NI"
        assert PlantHoliday.objects.get(date=dt.date(2026, 12, 24)).name == "Heiligabend"
        change = AuditEntry.objects.filter(object_type="workforce.zoneowner", action="delete").get()
        assert change.via.startswith("import ") and change.site_slug == "alpha"
        # a file without the sections removes what they configured
        report = import_files([str(ALPHA)])
        assert report.deleted == {"plantcalendar": 1, "plantholiday": 2, "zonerequirement": 1}
        assert not PlantHoliday.objects.exists() and not ZoneRequirement.objects.exists()

    def test_days_without_a_country_are_kept(self, tmp_path):
        calendar = "calendar:\n  closed:\n    - {date: 2026-08-03, name: Summer shutdown}\n"
        import_files([str(workforce_alpha(tmp_path, calendar, ""))])
        assert not PlantCalendar.objects.exists()
        from linewatch.workforce import services

        [record] = services.calendars().values()
        assert record.holiday(dt.date(2026, 8, 3)) == "Summer shutdown"
        assert record.holiday(dt.date(2026, 12, 25)) is None  # no country, no public holidays


@pytest.mark.django_db
class TestExport:
    def test_export_import_export_gives_the_same_bytes(self, tmp_path):
        import_files([str(workforce_alpha(tmp_path)), str(BETA)])
        first = export_text(Site.objects.get(slug="alpha"))
        exported = yaml.safe_load(first)
        assert exported["calendar"] == {
            "country": "DE", "subdivision": "HB",
            "closed": [{"date": "2026-12-24", "name": "Heiligabend (Betriebsruhe)"}],
            "open": [{"date": "2026-12-25", "name": "Christmas Day: stocktake shift"}],
        }
        hall = next(a for a in exported["areas"] if a["slug"] == "hall-1")
        assert hall["requires"] == ["loto", "site_induction"] and hall["owners"] == ["p-anna"]
        assert list(exported)[:4] == ["linewatch", "organisation", "site", "calendar"]
        path = tmp_path / "exported.yaml"
        path.write_text(first)
        assert not import_files([str(path)]).changed
        assert export_text(Site.objects.get(slug="alpha")) == first

    def test_nothing_configured_exports_no_section(self):
        import_files([str(ALPHA), str(BETA)])
        exported = yaml.safe_load(export_text(Site.objects.get(slug="alpha")))
        assert "calendar" not in exported
        assert not any("requires" in a or "owners" in a for a in exported["areas"])


@pytest.mark.django_db
class TestValidation:
    @pytest.mark.parametrize(("calendar", "hall", "needle", "place", "message"), [
        (CALENDAR.replace("HB", "XX"), HALL_RULES, "subdivision: XX", "calendar.subdivision",
         "unknown holiday calendar DE-XX: Entity `DE` does not have subdivision XX"),
        (CALENDAR.replace("country: DE", "country: QQ").replace("  subdivision: HB\n", ""), HALL_RULES,
         "country: QQ", "calendar.country", "unknown holiday calendar QQ: Country QQ not available"),
        (CALENDAR.replace("country: DE", "country: de"), HALL_RULES, "country: de", "calendar.country",
         "'de' does not match '^[A-Z]{2}$'"),
        (CALENDAR.replace("2026-12-25", "2026-12-23"), HALL_RULES, "2026-12-23", "calendar.open[0].date",
         "2026-12-23 is not a public holiday in DE-HB"),
        (CALENDAR.replace("2026-12-25", "2026-12-24"), HALL_RULES, "{date: 2026-12-24", "calendar.open[0].date",
         "2026-12-24 is also listed at calendar.closed[0]"),
        (CALENDAR.replace("2026-12-24", "2026-02-30"), HALL_RULES, "2026-02-30", "calendar.closed[0].date",
         "'2026-02-30' is not a 'date'"),
        (CALENDAR.replace("  country: DE\n", "").split("  open:")[0], HALL_RULES, "subdivision: HB",
         "calendar.subdivision", "a subdivision needs the country it belongs to"),
        (CALENDAR.replace("      name: Heiligabend (Betriebsruhe)\n", ""), HALL_RULES, "- date: 2026-12-24",
         "calendar.closed[0]", "'name' is a required property"),
        (CALENDAR, "    requires: [site_induction, hot-work]\n", "hot-work", "areas[0].requires[1]",
         "'hot-work' is not one of ['site_induction', 'loto', 'confined_space', 'hot_work'"),
        (CALENDAR, "    requires: [loto, loto]\n", "[loto, loto]", "areas[0].requires[1]",
         "training 'loto' is listed twice"),
        (CALENDAR, "    owners: [p-anna, p-nobody]\n", "p-nobody", "areas[0].owners[1]", "unknown person 'p-nobody'"),
    ])
    def test_errors_name_file_line_and_path(self, tmp_path, calendar, hall, needle, place, message):
        path = workforce_alpha(tmp_path, calendar, hall)
        [error] = errors_of(path)
        assert error.startswith(f"{path}:{line_of(path, needle)}: {place}: "), error
        assert message in error

    def test_open_days_need_a_country(self, tmp_path):
        calendar = "calendar:\n  open:\n    - {date: 2026-12-25, name: Christmas Day}\n"
        path = workforce_alpha(tmp_path, calendar, "")
        assert errors_of(path) == [f"{path}:{line_of(path, '2026-12-25')}: calendar.open[0].date: an open day "
                                   "removes a public holiday: the calendar needs a country"]

    def test_an_owner_may_be_a_person_of_another_file_or_of_the_database(self, tmp_path):
        beta = tmp_path / "beta.yaml"
        beta.write_text(BETA.read_text().replace("zones:\n", "areas:\n  - slug: dock\n    name: Dock\n"
                                                 "    owners: [p-anna]\nzones:\n", 1))
        assert errors_of(beta) == [f"{beta}:{line_of(beta, 'p-anna')}: areas[0].owners[0]: unknown person 'p-anna'",
                                   f"{beta}:{line_of(beta, 'alpha-sec')}: ownership[1].team: unknown team 'alpha-sec'"]
        import_files([str(beta), str(ALPHA)])  # alpha's manager owns beta's dock
        assert ZoneOwner.objects.get().area.site.slug == "beta"
        assert not import_files([str(beta)]).changed  # p-anna is in the database now

    def test_a_bad_section_writes_nothing(self, tmp_path):
        import_files([str(workforce_alpha(tmp_path)), str(BETA)])
        before = export_text(Site.objects.get(slug="alpha"))
        entries = AuditEntry.objects.count()
        bad = workforce_alpha(tmp_path, CALENDAR.replace("Betriebsruhe", "closed"),
                              "    requires: [loto]\n    owners: [p-ghost]\n", name="bad.yaml")
        errors_of(bad)
        assert export_text(Site.objects.get(slug="alpha")) == before
        assert AuditEntry.objects.count() == entries


@pytest.mark.django_db
class TestDetectionsReadTheImport:
    def badge(self, when: str, person: str = "p-tom"):
        from linewatch.demo.simulator import Door, Plant, Simulator, Worker
        from linewatch.events.schema import PhysicalAccessActivity

        t = int(dt.datetime.fromisoformat(when).timestamp() * 1000)
        door = Door("hall-1-east", "alpha", "hall-1", "reader-1", False)
        return Simulator(Plant()).badge(t, door, Worker(person, person, "alpha", "contractor"),
                                        PhysicalAccessActivity.GRANTED, "granted")

    def rules(self, *events) -> dict[str, str]:
        from linewatch.detect.worker import process
        from linewatch.workforce.detector import WorkforcePipelineDetector

        found = process(list(events), [WorkforcePipelineDetector()])
        return {d.rule_id: d.description for d in found}

    def test_the_directory_carries_requirements_owners_and_days(self, tmp_path):
        from linewatch.workforce import services

        import_files([str(workforce_alpha(tmp_path)), str(BETA)])
        area = services.build_directory().areas[("alpha", "hall-1")]
        assert area.requires == {"loto", "site_induction"} and area.owners == {"p-anna"}
        calendar = services.calendars()[Site.objects.get(slug="alpha").pk]
        assert calendar.holiday(dt.date(2026, 12, 24)) == "Heiligabend (Betriebsruhe)"
        assert calendar.holiday(dt.date(2026, 12, 25)) is None  # opened
        assert calendar.holiday(dt.date(2026, 12, 26)) == "Second Day of Christmas"

    def test_missing_training_and_a_closed_day_are_detected(self, tmp_path):
        import_files([str(workforce_alpha(tmp_path)), str(BETA)])
        weekday = self.rules(self.badge("2026-12-22T10:00:00+01:00"))
        assert "missing: loto (never completed); site_induction (never completed)" in \
            weekday["lw-wf-training-missing"]
        assert "lw-wf-outside-window" not in weekday
        eve = self.rules(self.badge("2026-12-24T10:00:00+01:00"))
        assert "plant holiday (Heiligabend (Betriebsruhe))" in eve["lw-wf-outside-window"]
        christmas = self.rules(self.badge("2026-12-25T10:00:00+01:00"))
        assert "lw-wf-outside-window" not in christmas  # the open day: the schedule holds

    def test_without_the_sections_nothing_is_required(self, tmp_path):
        import_files([str(ALPHA), str(BETA)])
        found = self.rules(self.badge("2026-12-24T10:00:00+01:00"))
        assert "lw-wf-training-missing" not in found and "lw-wf-outside-window" not in found


@pytest.mark.django_db
def test_the_demo_configuration_comes_from_its_site_files(demo_loaded):
    """One source: the site files; the workforce demo adds people's data, not configuration."""
    from linewatch.workforce import demo

    calendars = {c.site.slug: (c.country, c.subdivision) for c in PlantCalendar.objects.select_related("site")}
    assert calendars == {"hq": ("DK", ""), "kolding": ("DK", ""), "padborg": ("DK", ""), "rendsburg": ("DE", "SH")}
    assert set(ZoneRequirement.objects.filter(area__site__slug="kolding", area__slug="ammonia-machine-room")
               .values_list("kind", flat=True)) == {"site_induction", "loto"}
    assert ZoneOwner.objects.filter(area__slug="ammonia-machine-room", person__key="nf-20005").exists()
    configuration = (PlantCalendar.objects.count(), PlantHoliday.objects.count(), ZoneRequirement.objects.count(),
                     ZoneOwner.objects.count())
    demo.load()
    assert (PlantCalendar.objects.count(), PlantHoliday.objects.count(), ZoneRequirement.objects.count(),
            ZoneOwner.objects.count()) == configuration


def _round_trip_demo(tmp_path: Path) -> None:
    files = sorted(str(p) for p in DEMO_SITES.glob("*.yaml"))
    import_files(files)
    assert not import_files(files).changed
    for site in Site.objects.all():
        text = export_text(site)
        path = tmp_path / f"{site.slug}.yaml"
        path.write_text(text)
        assert not import_files([str(path)]).changed, site.slug
        assert export_text(site) == text
    rendsburg = yaml.safe_load(export_text(Site.objects.get(slug="rendsburg")))["calendar"]
    assert rendsburg["open"] == [{"date": "2026-05-25", "name": "Pfingstmontag: production runs for the spring peak"}]


@pytest.mark.django_db
def test_demo_round_trip_is_byte_identical(tmp_path):
    _round_trip_demo(tmp_path)


@pytest.mark.services
def test_demo_round_trip_is_byte_identical_on_postgresql(postgres, tmp_path):
    _round_trip_demo(tmp_path)


def test_site_commands_carry_the_workforce_sections(tmp_path):
    """`linewatch site validate/import/export` as users run them: a real process, exit codes, places."""
    import json
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "PYTEST_VERSION"}}
    env["LINEWATCH_DATA"] = str(tmp_path / "data")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "linewatch.cli", *args], env=env, capture_output=True,
                              text=True, timeout=300)

    assert run("migrate").returncode == 0
    good = workforce_alpha(tmp_path)
    bad = workforce_alpha(tmp_path, CALENDAR.replace("2026-12-25", "2026-12-27"), name="bad.yaml")
    result = run("site", "validate", str(bad), str(BETA), "--json")
    assert result.returncode == 2
    [error] = json.loads(result.stdout)["errors"]
    assert error == {"source": str(bad), "place": f"{line_of(bad, '2026-12-27')}: calendar.open[0].date",
                     "message": "2026-12-27 is not a public holiday in DE-HB"}
    assert run("site", "validate", str(good), str(BETA)).returncode == 0
    imported = json.loads(run("site", "import", str(good), str(BETA), "--json").stdout)
    assert imported["created"]["zoneowner"] == 1 and imported["created"]["plantholiday"] == 2
    out = tmp_path / "exported.yaml"
    assert run("site", "export", "alpha", "-o", str(out)).returncode == 0
    assert "calendar:\n  country: DE\n  subdivision: HB\n" in out.read_text()
    assert not json.loads(run("site", "import", str(out), "--json").stdout)["changed"]
    assert run("site", "export", "alpha").stdout == out.read_text()
