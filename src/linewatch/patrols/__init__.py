"""Guard patrols: tours, checkpoints (QR, NFC NTAG 424 DNA SUN, GPS), scans with photos, exceptions
and photo checks (EXIF plausibility, exact and perceptual reuse, C2PA)."""
