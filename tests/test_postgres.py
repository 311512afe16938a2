"""The plant model on PostgreSQL, the distributed mode's database (run by .ci/run)."""

from __future__ import annotations

import pytest

from linewatch.core import services
from linewatch.core.models import Asset, AuditEntry, Site
from linewatch.core.sitefile.exporter import export_text
from linewatch.core.sitefile.importer import import_files
from linewatch.errors import InputErrors
from tests.conftest import DEMO_SITES, TEST_SITES

pytestmark = pytest.mark.services


def test_import_export_and_consequence_on_postgresql(postgres, tmp_path):
    files = sorted(str(p) for p in DEMO_SITES.glob("*.yaml")) or sorted(str(p) for p in TEST_SITES.glob("*.yaml"))
    report = import_files(files)
    assert report.changed
    assert not import_files(files).changed
    for site in Site.objects.all():
        text = export_text(site)
        path = tmp_path / f"{site.slug}.yaml"
        path.write_text(text)
        assert not import_files([str(path)]).changed
        assert export_text(site) == text
    plc = Asset.objects.filter(kind="plc").first()
    result = services.consequence([plc])
    assert result.failed == [str(plc.pk)]


def test_bad_import_rolls_back_on_postgresql(postgres, tmp_path):
    import_files([str(TEST_SITES / "alpha.yaml"), str(TEST_SITES / "beta.yaml")])
    entries = AuditEntry.objects.count()
    bad = tmp_path / "alpha.yaml"
    bad.write_text((TEST_SITES / "alpha.yaml").read_text().replace("ip: 10.1.11.22", "ip: 10.1.11.21")
                   .replace("V2.9.4", "V3.0.0"))
    with pytest.raises(InputErrors):
        import_files([str(bad)])
    assert Asset.objects.get(name="plc-line1").firmware == "V2.9.4"
    assert AuditEntry.objects.count() == entries
    assert postgres.vendor == "postgresql"
