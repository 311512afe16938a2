"""Enumerations of the workforce domain."""

from django.db import models


class WorkOrderStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    IN_PROGRESS = "in_progress", "In progress"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


class CredentialKind(models.TextChoices):
    BADGE = "badge", "Badge (card)"
    PIN = "pin", "PIN"
    AD_ACCOUNT = "ad_account", "Directory account (AD)"
    HMI_ACCOUNT = "hmi_account", "HMI account"
    EWS_ACCOUNT = "ews_account", "Engineering workstation account"
    REMOTE_ACCESS = "remote_access", "Remote-access account (VPN / SRA)"


PHYSICAL_KINDS = frozenset({CredentialKind.BADGE, CredentialKind.PIN})


class CredentialStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    LOST = "lost", "Lost"
    STOLEN = "stolen", "Stolen"
    REPLACED = "replaced", "Replaced"
    REVOKED = "revoked", "Revoked"


class TrainingKind(models.TextChoices):
    SITE_INDUCTION = "site_induction", "Site induction"
    LOTO = "loto", "Lockout/tagout"
    CONFINED_SPACE = "confined_space", "Confined space"
    HOT_WORK = "hot_work", "Hot work"
    WORKING_AT_HEIGHT = "working_at_height", "Working at height"
    ELECTRICAL = "electrical", "Electrical safety"
    OT_SECURITY = "ot_security", "OT security awareness"


class VisitStatus(models.TextChoices):
    EXPECTED = "expected", "Expected"
    ON_SITE = "on_site", "On site"
    LEFT = "left", "Left"
    EXPIRED = "expired", "Expired (past its expected end)"
    CANCELLED = "cancelled", "Cancelled"


class PersonStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    OFFBOARDED = "offboarded", "Offboarded"


class CampaignStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class ReviewDecision(models.TextChoices):
    PENDING = "pending", "Pending"
    CONFIRMED = "confirmed", "Confirmed"
    REVOKED = "revoked", "Revoked"
    AUTO_REVOKED = "auto_revoked", "Revoked (not reviewed by the deadline)"


class IdDocument(models.TextChoices):
    PASSPORT = "passport", "Passport"
    NATIONAL_ID = "national_id", "National ID card"
    DRIVING_LICENCE = "driving_licence", "Driving licence"
    COMPANY_ID = "company_id", "Company ID"
