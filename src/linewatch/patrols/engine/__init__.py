"""The patrols engine: plain Python, no Django. NTAG 424 DNA SUN verification, signed QR tokens,
tour schedules, exception detection over a run's scans, and photo checks (hashes, EXIF, C2PA, reuse index)."""
