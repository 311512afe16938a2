"""Enumerations of the workforce domain."""

from django.db import models


class WorkOrderStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    IN_PROGRESS = "in_progress", "In progress"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"
