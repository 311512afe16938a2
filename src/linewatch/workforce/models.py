"""Work orders and access authorisations: why a non-employee may be where, and until when."""

from __future__ import annotations

from django.db import models

from linewatch.core.models import Area, Asset, Line, Person, Site
from linewatch.workforce import choices


class WorkOrder(models.Model):
    """A maintenance work order or permit from the CMMS: the reason a technician is on site."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="work_orders")
    key = models.SlugField(max_length=64, help_text="CMMS id, e.g. WO-2026-1042")
    title = models.CharField(max_length=300)
    status = models.CharField(max_length=16, choices=choices.WorkOrderStatus.choices)
    assignee = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="work_orders")
    approved_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="approved_work_orders"
    )
    line = models.ForeignKey(Line, null=True, blank=True, on_delete=models.SET_NULL, related_name="work_orders")
    assets = models.ManyToManyField(Asset, blank=True, related_name="work_orders")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["site", "key"]
        constraints = [models.UniqueConstraint(fields=["site", "key"], name="work_order_unique_key")]

    def __str__(self) -> str:
        return f"{self.key}: {self.title}"


class Authorisation(models.Model):
    """Access for a person to an area, within a validity and an optional weekly schedule (RRULE)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="authorisations")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="authorisations")
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="authorisations")
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_to = models.DateTimeField(null=True, blank=True)
    schedule = models.CharField(max_length=300, blank=True, help_text="RFC 5545 RRULE in the site's time zone")
    granted_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="granted_authorisations"
    )
    reason = models.CharField(max_length=300, blank=True)
    work_order = models.ForeignKey(
        WorkOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="authorisations"
    )

    class Meta:
        ordering = ["site", "person", "area"]
        constraints = [models.UniqueConstraint(fields=["person", "area"], name="authorisation_unique_area")]

    def __str__(self) -> str:
        return f"{self.person} → {self.area}"
