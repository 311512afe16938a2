"""Site as code: validation with places, idempotent and transactional import, lossless export."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from linewatch.core.models import Asset, AuditEntry, Dependency, Interface, Site
from linewatch.core.sitefile.exporter import export_text
from linewatch.core.sitefile.importer import import_files
from linewatch.core.sitefile.loader import load_file, load_text
from linewatch.errors import InputError, InputErrors
from tests.conftest import TEST_SITES

ALPHA = TEST_SITES / "alpha.yaml"
BETA = TEST_SITES / "beta.yaml"


def edited(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    """A copy of alpha.yaml with one textual edit, so line numbers stay meaningful."""
    text = ALPHA.read_text()
    assert old in text, old
    path = tmp_path / "alpha.yaml"
    path.write_text(text.replace(old, new, count))
    return path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def messages(exc: InputErrors) -> list[str]:
    return [str(e) for e in exc.errors]


def database_state() -> tuple:
    return (
        tuple(Site.objects.values_list("slug", "name")),
        tuple(Asset.objects.order_by("id").values_list("site__slug", "name", "kind", "firmware")),
        tuple(Interface.objects.order_by("id").values_list("ip", "mac")),
        AuditEntry.objects.count(),
    )


@pytest.mark.django_db
class TestValidation:
    def test_the_test_sites_are_valid(self):
        from linewatch.core.sitefile.validate import validate

        validate([load_file(ALPHA), load_file(BETA)])

    def test_wrong_type_names_file_line_and_path(self, tmp_path):
        path = edited(tmp_path, "trucks_per_day: 12", "trucks_per_day: twelve")
        with pytest.raises(InputErrors) as exc:
            import_files([str(path)])
        [message] = messages(exc.value)
        assert message.startswith(f"{path}:{line_of(path, 'twelve')}: lines[0].trucks_per_day:")
        assert "'twelve' is not of type 'integer'" in message

    def test_unknown_reference(self, tmp_path):
        path = edited(tmp_path, "X4U212345\n    zone: line1-control", "X4U212345\n    zone: line9")
        with pytest.raises(InputErrors) as exc:
            import_files([str(path)])
        assert messages(exc.value) == [f"{path}:{line_of(path, 'zone: line9')}: assets[1].zone: unknown zone 'line9'"]

    def test_duplicate_ip(self, tmp_path):
        path = edited(tmp_path, "ip: 10.1.11.22", "ip: 10.1.11.21")
        with pytest.raises(InputErrors) as exc:
            import_files([str(path)])
        [message] = messages(exc.value)
        line = [i for i, t in enumerate(path.read_text().splitlines(), 1) if "10.1.11.21" in t][1]
        assert message == f"{path}:{line}: assets[3].interfaces[0].ip: duplicate IP 10.1.11.21 (also on hmi-line1-a)"

    def test_yaml_syntax_error_names_the_line(self, tmp_path):
        path = edited(tmp_path, "  name: Alpha plant\n", "  name: [Alpha plant\n")
        with pytest.raises(InputError) as exc:
            import_files([str(path)])
        assert str(exc.value).startswith(f"{path}:")
        assert "YAML syntax error" in str(exc.value)
        assert re.match(rf"{re.escape(str(path))}:\d+: ", str(exc.value))

    def test_many_problems_are_reported_together(self, tmp_path):
        path = edited(tmp_path, "from: office\n", "from: nowhere\n")
        path.write_text(path.read_text().replace("readers: [reader-1]", "readers: [reader-9]")
                        .replace("required: 1\n        effect: stops", "required: 3\n        effect: stops"))
        with pytest.raises(InputErrors) as exc:
            import_files([str(path)])
        text = "\n".join(messages(exc.value))
        assert "conduits[0].from: unknown zone 'nowhere'" in text
        assert "areas[0].doors[0].readers[0]: unknown asset 'reader-9'" in text
        assert "lines[0].depends_on[1].required: requires 3 of only 2 members" in text

    def test_unknown_field_and_duplicate_key(self, tmp_path):
        path = edited(tmp_path, "    firmware: V2.9.4\n", "    firmware: V2.9.4\n    firmwar: V2.9.5\n")
        with pytest.raises(InputErrors) as exc:
            import_files([str(path)])
        assert "assets[1]: Additional properties are not allowed ('firmwar' was unexpected)" in messages(exc.value)[0]
        dup = edited(tmp_path, "    firmware: V2.9.4\n", "    firmware: V2.9.4\n    firmware: V2.9.5\n")
        with pytest.raises(InputError, match=r"assets\[1\]\.firmware: duplicate key"):
            import_files([str(dup)])

    def test_cross_file_references_resolve_and_missing_ones_fail(self):
        # beta's camera rule names alpha's team: fine together, not alone on an empty database.
        import_files([str(BETA), str(ALPHA)])
        assert Site.objects.count() == 2

    def test_reference_to_another_files_team_fails_alone(self):
        with pytest.raises(InputErrors, match="unknown team 'alpha-sec'"):
            import_files([str(BETA)])

    def test_not_a_mapping_and_empty(self, tmp_path):
        (tmp_path / "list.yaml").write_text("- a\n- b\n")
        with pytest.raises(InputErrors, match="a site file is a mapping"):
            import_files([str(tmp_path / "list.yaml")])
        with pytest.raises(InputError, match="the file is empty"):
            load_text("", "empty.yaml")


@pytest.mark.django_db
class TestImport:
    def test_bad_file_changes_nothing(self, tmp_path):
        import_files([str(ALPHA), str(BETA)])
        before = database_state()
        bad = edited(tmp_path, "firmware: V2.9.4", "firmware: V3.0.0")  # a valid change …
        bad.write_text(bad.read_text().replace("ip: 10.1.11.22", "ip: 10.1.11.21"))  # … and a broken one
        with pytest.raises(InputErrors):
            import_files([str(bad)])
        assert database_state() == before

    def test_failure_during_write_rolls_back_everything(self, tmp_path, monkeypatch):
        import_files([str(ALPHA), str(BETA)])
        before = database_state()
        changed = edited(tmp_path, "firmware: V2.9.4", "firmware: V3.0.0")
        from linewatch.core.sitefile import importer

        def explode(self):
            raise RuntimeError("disk full")

        monkeypatch.setattr(importer._SiteImporter, "authorisations", explode)
        with pytest.raises(RuntimeError):
            import_files([str(changed)])
        assert database_state() == before

    def test_importing_twice_changes_nothing(self):
        first = import_files([str(ALPHA), str(BETA)])
        assert first.changed
        entries = AuditEntry.objects.count()
        second = import_files([str(ALPHA), str(BETA)])
        assert not second.changed
        assert AuditEntry.objects.count() == entries

    def test_the_file_is_the_truth_for_its_site(self, tmp_path):
        import_files([str(ALPHA), str(BETA)])
        text = ALPHA.read_text()
        start = text.index("  - name: intercom-1")
        end = text.index("lines:")
        path = tmp_path / "alpha.yaml"
        path.write_text(text[:start] + text[end:])
        report = import_files([str(path)])
        assert report.deleted["asset"] == 1
        assert not Asset.objects.filter(name="intercom-1").exists()
        assert Asset.objects.filter(site__slug="beta").count() == 2  # other sites untouched
        delete = AuditEntry.objects.get(action="delete", object_type="core.asset")
        assert delete.before["name"] == "intercom-1" and delete.after is None

    def test_dependencies_and_redundancy_are_stored(self):
        import_files([str(ALPHA), str(BETA)])
        panels = Dependency.objects.get(line__slug="line-1", name="operator panels")
        assert panels.required == 1
        assert sorted(a.name for a in panels.members.all()) == ["hmi-line1-a", "hmi-line1-b"]
        assert Dependency.objects.get(asset__name="plc-line1").name == "sw-line1"

    def test_mac_addresses_are_normalised(self):
        import_files([str(ALPHA), str(BETA)])
        assert Interface.objects.get(ip="10.1.11.10").mac == "00:1b:1b:12:34:56"


@pytest.mark.django_db
class TestExport:
    def test_export_import_export_gives_the_same_bytes(self, tmp_path):
        import_files([str(ALPHA), str(BETA)])
        for slug in ("alpha", "beta"):
            first = export_text(Site.objects.get(slug=slug))
            path = tmp_path / f"{slug}.yaml"
            path.write_text(first)
            report = import_files([str(path)])
            assert not report.changed, report.as_dict()
            assert export_text(Site.objects.get(slug=slug)) == first

    def test_export_keeps_everything_the_file_said(self):
        import_files([str(ALPHA), str(BETA)])
        exported = yaml.safe_load(export_text(Site.objects.get(slug="alpha")))
        original = yaml.safe_load(ALPHA.read_text())
        for section in ("zones", "conduits", "assets", "lines", "ownership", "people", "teams", "work_orders"):
            assert len(exported[section]) == len(original[section]), section
        line = exported["lines"][0]
        assert line["downtime_cost_per_hour"] == 42000 and line["hours_to_spoil"] == 6
        assert {z["slug"]: z["purdue_level"] for z in exported["zones"]}["dmz"] == 3.5
        grant = exported["authorisations"][0]
        assert grant["valid_to"] == "2026-12-31T18:00:00+01:00"
        assert grant["work_order"] == "wo-100"

    def test_exported_file_validates_against_the_published_schema(self):
        import jsonschema

        from linewatch.core.sitefile.schema import SCHEMA

        import_files([str(ALPHA), str(BETA)])
        doc = load_text(export_text(Site.objects.get(slug="alpha")), "export")
        jsonschema.Draft202012Validator(SCHEMA).validate(doc.data)


def test_published_schema_matches_the_code():
    import json

    from linewatch.core.sitefile.schema import SCHEMA

    published = Path(__file__).resolve().parents[2] / "docs" / "site-schema.json"
    assert json.loads(published.read_text()) == SCHEMA, "run: linewatch site schema > docs/site-schema.json"
