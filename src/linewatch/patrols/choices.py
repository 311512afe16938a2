"""Patrols vocabularies in one place."""

INCIDENT_CATEGORIES = [
    ("intrusion", "Intrusion or trespass"), ("theft", "Theft or missing property"), ("damage", "Damage or vandalism"),
    ("door", "Door or gate insecure"), ("safety", "Safety hazard"), ("fire", "Fire or smoke"),
    ("medical", "Medical"), ("suspicious", "Suspicious person or vehicle"), ("equipment", "Equipment fault"),
    ("other", "Other"),
]
SEVERITIES = [("low", "Low"), ("medium", "Medium"), ("high", "High"), ("critical", "Critical")]
EXCEPTION_LABELS = {
    "missed": "Missed checkpoint", "late": "Late scan", "out_of_order": "Out of order",
    "too_fast": "Faster than walking", "outside_geofence": "Outside geofence", "badge_conflict": "Badge log conflict",
    "unverified": "Tag did not verify", "photo_duplicate": "Photo: exact duplicate", "photo_reuse": "Photo: reused",
    "exif_time": "Photo: EXIF time", "exif_gps": "Photo: EXIF GPS", "exif_missing": "Photo: no EXIF time",
    "exif_software": "Photo: edited", "c2pa_invalid": "Photo: content credentials invalid",
}
