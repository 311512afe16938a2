#!/usr/bin/env python3
"""Set-up and run in one command, on a machine with only Python 3.11 and pip.

    python3 run.py demo [ARGS]   create .venv, install the locked dependencies, run `linewatch demo`
    python3 run.py test [ARGS]   same set-up (with test tools), then ruff and pytest
    python3 run.py lock          re-pin requirements.lock from pyproject.toml (needs uv in .venv)

Installation is skipped when the lock file has not changed since the last run.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
LOCK = ROOT / "requirements.lock"


def sh(*args: str | Path, **kwargs) -> None:
    subprocess.run([str(a) for a in args], check=True, **kwargs)


def ensure_env() -> None:
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"Linewatch needs Python 3.11 (this is {sys.version.split()[0]}): run it with python3.11")
    if not (BIN / "python").exists():
        print("Creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / ".linewatch-installed"
    digest = hashlib.sha256(LOCK.read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    print("Installing locked dependencies …", flush=True)
    pip = [BIN / "python", "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    sh(*pip, "-r", LOCK)
    sh(*pip, "--no-deps", "-e", ROOT)
    stamp.write_text(digest)


def main() -> None:
    os.chdir(ROOT)
    command, args = (sys.argv[1] if len(sys.argv) > 1 else "help"), sys.argv[2:]
    if command == "demo":
        ensure_env()
        os.execv(BIN / "linewatch", [str(BIN / "linewatch"), "demo", *args])
    elif command == "test":
        ensure_env()
        sh(BIN / "ruff", "check", "src", "tests", "bench", cwd=ROOT)
        os.execv(BIN / "python", [str(BIN / "python"), "-m", "pytest", *args])
    elif command == "lock":
        sh(BIN / "uv", "pip", "compile", "pyproject.toml", "--extra", "dev", "--python-version", "3.11",
           "-o", LOCK, cwd=ROOT)
    else:
        print(__doc__)
        sys.exit(0 if command in {"help", "-h", "--help"} else 2)


if __name__ == "__main__":
    main()
