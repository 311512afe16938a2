"""Ownership resolves most-specific first; every change leaves an audit entry with before and after."""

from __future__ import annotations

import pytest

from linewatch.core import audit, services
from linewatch.core.models import Asset, AuditEntry, Site


def asset(site: str, name: str) -> Asset:
    return Asset.objects.select_related("site").get(site__slug=site, name=name)


def team_slugs(teams) -> list[str]:
    return [t.slug for t in teams]


@pytest.mark.usefixtures("alpha_beta")
class TestOwnership:
    def test_kind_rule_beats_site_rule(self):
        owners = services.owners_of(asset("alpha", "plc-line1"))
        assert team_slugs(owners.accountable) == ["alpha-ot"]
        assert owners.scope["accountable"] == "kind"

    def test_site_rule_is_the_fallback(self):
        owners = services.owners_of(asset("alpha", "intercom-1"))
        assert team_slugs(owners.accountable) == ["alpha-it"]
        assert owners.scope["accountable"] == "site"

    def test_each_raci_role_resolves_on_its_own(self):
        owners = services.owners_of(asset("alpha", "cam-1"))
        assert team_slugs(owners.teams["accountable"]) == ["alpha-sec"]
        assert team_slugs(owners.teams["responsible"]) == ["alpha-it"]
        assert "consulted" not in owners.teams

    def test_two_accountable_teams_at_asset_level_is_a_conflict(self):
        owners = services.owners_of(asset("alpha", "door-ctl-1"))
        assert owners.conflict and not owners.gap
        assert owners.scope["accountable"] == "asset"

    def test_gap_report_ranks_by_consequence(self):
        Asset.objects.get(name="wms-1").ownership_rules.all().delete()
        from linewatch.core.models import Ownership

        Ownership.objects.filter(site__slug="beta", scope="site").delete()
        gaps = services.ownership_gaps(Site.objects.all())
        names = [(g.asset.name, g.problem) for g in gaps]
        assert names[0] == ("wms-1", "no accountable owner")  # dispatch stops: 9,000/h
        assert ("door-ctl-1", "conflicting owners") in names
        assert gaps[0].cost_per_hour == 9000
        kinds = services.kind_gaps(Site.objects.filter(slug="beta"))
        assert {"site": "beta", "kind": "server", "domain": "it", "problem": "no accountable owner",
                "teams": []} in kinds


@pytest.mark.usefixtures("alpha_beta")
class TestAuditTrail:
    def test_update_records_actor_before_and_after(self, django_user_model):
        user = django_user_model.objects.create_user("mia", password="x" * 12)
        plc = asset("alpha", "plc-line1")
        with audit.acting_as(audit.Actor(user=user, name="mia", via="web")):
            plc.firmware = "V3.0.0"
            plc.save()
        entry = AuditEntry.objects.filter(object_type="core.asset", object_id=str(plc.pk)).first()
        assert entry.action == "update" and entry.actor == user and entry.via == "web"
        assert entry.before["firmware"] == "V2.9.4" and entry.after["firmware"] == "V3.0.0"
        assert entry.site_slug == "alpha"

    def test_import_is_attributed_to_the_file(self):
        entry = AuditEntry.objects.filter(object_type="core.site").order_by("id").first()
        assert entry.action == "create" and entry.via.startswith("import ")
        assert "alpha.yaml" in entry.via or "beta.yaml" in entry.via

    def test_saving_without_change_records_nothing(self):
        plc = asset("alpha", "plc-line1")
        count = AuditEntry.objects.count()
        plc.save()
        assert AuditEntry.objects.count() == count

    def test_many_to_many_changes_are_recorded(self):
        from linewatch.core.models import Door

        door = Door.objects.get(slug="hall-1-east")
        door.readers.add(asset("alpha", "intercom-1"))
        entry = AuditEntry.objects.filter(object_type="core.door").first()
        assert entry.after == {"field": "readers", "add": [asset("alpha", "intercom-1").pk]}
