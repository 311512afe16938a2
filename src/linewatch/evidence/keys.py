"""Our own signing keys: the private half in the data folder (evidence/keys/, mode 0600), the public half (vkey) in
the database. A database dump therefore never holds a private key, and neither does the repository."""

from __future__ import annotations

import os
from pathlib import Path

from linewatch import paths
from linewatch.evidence.engine.checkpoint import CheckpointError, Signer


class KeyMissing(RuntimeError):
    """The private key of a log or witness is not in this data folder (e.g. a restored database dump)."""


def key_dir() -> Path:
    path = paths.data_dir() / "evidence" / "keys"
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def _file(name: str) -> Path:
    return key_dir() / (name.replace("/", "__") + ".skey")


def load_signer(name: str) -> Signer:
    path = _file(name)
    try:
        return Signer.from_skey(path.read_text())
    except FileNotFoundError:
        raise KeyMissing(f"no private key for {name!r} in {path.parent}") from None
    except CheckpointError as exc:
        raise KeyMissing(f"{path}: {exc}") from None


def create_signer(name: str) -> Signer:
    """A new key named `name`, written once (0600); an existing file is never overwritten."""
    path = _file(name)
    signer = Signer.generate(name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(signer.skey + "\n")
    return signer


def has_signer(name: str) -> bool:
    return _file(name).exists()
