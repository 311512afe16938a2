"""The workforce engine: plain Python (no Django) — schedules and plant calendars, identity
resolution, the detections and the insider scenario generator."""
