"""The plant model: organisation, sites, zones, conduits, areas, assets, lines, teams, ownership,
people; plus the audit trail, role assignments and API tokens that guard it.

Natural keys (slugs and names, unique within their site or organisation) identify every object
in site-as-code files, so an import can be repeated without creating duplicates.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from linewatch.core import choices


class Organisation(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, default="EUR", help_text="ISO 4217 code for consequence figures")

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class Site(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="sites")
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=choices.SiteKind.choices)
    timezone = models.CharField(max_length=64, help_text="IANA time zone, e.g. Europe/Berlin")
    address = models.CharField(max_length=300, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class Zone(models.Model):
    """A network security zone (IEC 62443-3-2) placed on the Purdue model."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="zones")
    slug = models.SlugField()
    name = models.CharField(max_length=200)
    purdue_level = models.CharField(max_length=4, choices=choices.PurdueLevel.choices)
    security_level_target = models.PositiveSmallIntegerField(choices=choices.SecurityLevel.choices, default=1)
    cidrs = models.JSONField(default=list, blank=True, help_text="Address ranges of the zone")
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["site", "slug"]
        constraints = [models.UniqueConstraint(fields=["site", "slug"], name="zone_unique_slug")]

    def __str__(self) -> str:
        return self.name


class Conduit(models.Model):
    """A declared communication path between two zones, with the services it may carry."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="conduits")
    slug = models.SlugField()
    from_zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="conduits_out")
    to_zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="conduits_in")
    services = models.JSONField(default=list, help_text='e.g. ["tcp/502", "udp/47808", "icmp"]')
    direction = models.CharField(
        max_length=16, choices=choices.ConduitDirection.choices, default=choices.ConduitDirection.FORWARD
    )
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["site", "slug"]
        constraints = [models.UniqueConstraint(fields=["site", "slug"], name="conduit_unique_slug")]

    def __str__(self) -> str:
        return f"{self.from_zone.slug} → {self.to_zone.slug}"


class Area(models.Model):
    """A physical area: a building, hall, room or yard, with its access restriction."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="areas")
    slug = models.SlugField()
    name = models.CharField(max_length=200)
    restricted_level = models.PositiveSmallIntegerField(
        choices=choices.RestrictedLevel.choices, default=choices.RestrictedLevel.CONTROLLED
    )
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["site", "slug"]
        constraints = [models.UniqueConstraint(fields=["site", "slug"], name="area_unique_slug")]

    def __str__(self) -> str:
        return self.name


class Asset(models.Model):
    """Any networked device: IT, OT or physical security."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="assets")
    name = models.SlugField(max_length=100, help_text="Unique within the site, usually the hostname")
    kind = models.CharField(max_length=32, choices=choices.AssetKind.choices)
    vendor = models.CharField(max_length=100, blank=True)
    model = models.CharField(max_length=100, blank=True)
    firmware = models.CharField(max_length=100, blank=True)
    serial = models.CharField(max_length=100, blank=True)
    zone = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="assets")
    area = models.ForeignKey(Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="assets")
    criticality = models.CharField(
        max_length=16, choices=choices.Criticality.choices, default=choices.Criticality.MEDIUM
    )
    description = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["site", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="asset_unique_name")]
        indexes = [models.Index(fields=["site", "kind"])]

    def __str__(self) -> str:
        return self.name

    @property
    def domain(self) -> str:
        return choices.ASSET_KIND_DOMAIN[self.kind]


class Interface(models.Model):
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="interfaces")
    name = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    mac = models.CharField(max_length=17, blank=True, help_text="lower-case, colon separated")
    vlan = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["asset", "name"]
        constraints = [models.UniqueConstraint(fields=["asset", "name"], name="interface_unique_name")]
        indexes = [models.Index(fields=["ip"]), models.Index(fields=["mac"])]

    def __str__(self) -> str:
        return f"{self.asset.name}:{self.name}"


class Door(models.Model):
    """A door, gate, turnstile or dock door into an area, with its controller and readers."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="doors")
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="doors")
    slug = models.SlugField()
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=choices.DoorKind.choices, default=choices.DoorKind.DOOR)
    controller = models.ForeignKey(
        Asset, null=True, blank=True, on_delete=models.SET_NULL, related_name="controlled_doors"
    )
    readers = models.ManyToManyField(Asset, blank=True, related_name="reader_doors")

    class Meta:
        ordering = ["site", "slug"]
        constraints = [models.UniqueConstraint(fields=["site", "slug"], name="door_unique_slug")]

    def __str__(self) -> str:
        return self.name


class Line(models.Model):
    """A production line or business process, with what its stoppage costs."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="lines")
    slug = models.SlugField()
    name = models.CharField(max_length=200)
    kind = models.CharField(
        max_length=32, choices=choices.LineKind.choices, default=choices.LineKind.PRODUCTION_LINE
    )
    area = models.ForeignKey(Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="lines")
    downtime_cost_per_hour = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    trucks_per_day = models.PositiveIntegerField(default=0)
    perishable_value = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    hours_to_spoil = models.FloatField(null=True, blank=True)
    safety_critical = models.BooleanField(default=False)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["site", "slug"]
        constraints = [models.UniqueConstraint(fields=["site", "slug"], name="line_unique_slug")]

    def __str__(self) -> str:
        return self.name


class Dependency(models.Model):
    """What a line (or an asset) needs running: a group of assets of which `required` must be up.

    A single-member group is a plain dependency; a group with `required=1` is a redundant set
    that fails only when every member is down.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="dependencies")
    line = models.ForeignKey(Line, null=True, blank=True, on_delete=models.CASCADE, related_name="dependencies")
    asset = models.ForeignKey(
        Asset, null=True, blank=True, on_delete=models.CASCADE, related_name="dependencies"
    )
    name = models.CharField(max_length=200)
    effect = models.CharField(
        max_length=16, choices=choices.DependencyEffect.choices, default=choices.DependencyEffect.STOPS
    )
    required = models.PositiveSmallIntegerField(default=1, help_text="Members that must be up")
    capacity_loss = models.FloatField(
        null=True, blank=True, help_text="Share of output lost when a degrading dependency fails (0–1)"
    )
    members = models.ManyToManyField(Asset, related_name="dependents")

    class Meta:
        ordering = ["site", "line", "asset", "name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(line__isnull=False) & Q(asset__isnull=True))
                | (Q(line__isnull=True) & Q(asset__isnull=False)),
                name="dependency_has_one_dependent",
            ),
            models.UniqueConstraint(fields=["line", "name"], name="dependency_unique_line_name"),
            models.UniqueConstraint(fields=["asset", "name"], name="dependency_unique_asset_name"),
        ]

    def __str__(self) -> str:
        return f"{self.line or self.asset}: {self.name}"


class Team(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="teams")
    slug = models.SlugField()
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=choices.TeamKind.choices)
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="teams",
        help_text="The site whose site-as-code file defines this team",
    )
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    company = models.ForeignKey(
        "Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="teams",
        help_text="For vendor and contractor teams",
    )

    class Meta:
        ordering = ["organisation", "slug"]
        constraints = [models.UniqueConstraint(fields=["organisation", "slug"], name="team_unique_slug")]

    def __str__(self) -> str:
        return self.name


class TeamMember(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    person = models.ForeignKey("Person", on_delete=models.CASCADE, related_name="team_memberships")
    is_lead = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "person"], name="team_member_unique")]

    def __str__(self) -> str:
        return f"{self.person} in {self.team}"


class Ownership(models.Model):
    """A RACI rule: a team's role for one asset, for an asset kind at a site, or for a whole site."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="ownership_rules")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="ownership_rules")
    role = models.CharField(max_length=16, choices=choices.RaciRole.choices)
    scope = models.CharField(max_length=8, choices=choices.OwnershipScope.choices)
    asset = models.ForeignKey(
        Asset, null=True, blank=True, on_delete=models.CASCADE, related_name="ownership_rules"
    )
    kind = models.CharField(max_length=32, choices=choices.AssetKind.choices, blank=True)

    class Meta:
        ordering = ["site", "scope", "kind", "asset", "role", "team"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(scope="asset") & Q(asset__isnull=False) & Q(kind=""))
                | (Q(scope="kind") & Q(asset__isnull=True) & ~Q(kind=""))
                | (Q(scope="site") & Q(asset__isnull=True) & Q(kind="")),
                name="ownership_scope_matches_target",
            ),
            models.UniqueConstraint(
                fields=["site", "team", "role", "scope", "asset", "kind"], name="ownership_unique_rule",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        target = {"asset": lambda: self.asset.name, "kind": lambda: self.kind, "site": lambda: "site"}[self.scope]()
        return f"{self.team.slug} {self.role} for {target}"


class Company(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="companies")
    slug = models.SlugField()
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=choices.CompanyKind.choices)
    risk_standing = models.CharField(
        max_length=16, choices=choices.Criticality.choices, default=choices.Criticality.LOW,
        help_text="How much risk working with this firm carries",
    )
    contract_expires = models.DateField(null=True, blank=True)
    insurance_expires = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["organisation", "slug"]
        verbose_name_plural = "companies"
        constraints = [models.UniqueConstraint(fields=["organisation", "slug"], name="company_unique_slug")]

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    """Anyone who works at or visits a site, employees or not."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="people")
    key = models.SlugField(max_length=64, help_text="HR, contractor or visitor id")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    title = models.CharField(max_length=200, blank=True)
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="people")

    class Meta:
        ordering = ["organisation", "key"]
        verbose_name_plural = "people"
        constraints = [models.UniqueConstraint(fields=["organisation", "key"], name="person_unique_key")]

    def __str__(self) -> str:
        return self.name


class SiteAffiliation(models.Model):
    """A person's standing at one site, with the sponsor who answers for it and its validity."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="affiliations")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="affiliations")
    kind = models.CharField(max_length=16, choices=choices.Affiliation.choices)
    sponsor = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="sponsored_affiliations"
    )
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["site", "person"]
        constraints = [models.UniqueConstraint(fields=["person", "site"], name="affiliation_unique_site")]

    def __str__(self) -> str:
        return f"{self.person} ({self.kind}) at {self.site.slug}"


class AuditEntry(models.Model):
    """One change to the model: who, when, through what, and the object before and after."""

    time = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_name = models.CharField(max_length=150, blank=True)
    via = models.CharField(max_length=200, blank=True, help_text="web, api, admin, cli or the imported file")
    action = models.CharField(max_length=8, choices=choices.AuditAction.choices)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=300)
    site_slug = models.CharField(max_length=50, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-time", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_type} {self.object_repr}"


class RoleAssignment(models.Model):
    """A user's role, for all sites or for the listed ones."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="linewatch_roles")
    role = models.CharField(max_length=32, choices=choices.Role.choices)
    all_sites = models.BooleanField(default=False)
    sites = models.ManyToManyField(Site, blank=True, related_name="role_assignments")

    def __str__(self) -> str:
        return f"{self.user} as {self.role}"


class ApiToken(models.Model):
    """A bearer token for machines. Only its SHA-256 digest is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="First characters, to recognise a token")
    digest = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(null=True, blank=True)
    last_used = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
