"""Access drift: what the access-control system (PACS) or the OT systems actually grant, against what Linewatch says
is authorised.

Plain Python over plain records, so the comparison is testable and reusable without a database. Each drift names
the export row it came from (file:line) and why it is drift:

- **unauthorised** — the PACS grants a person an area with no live authorisation for it here (over-provisioned:
  the PACS was changed outside the process, or a revocation did not reach it);
- **not provisioned** — a live authorisation the PACS does not carry (the person will be refused at the door);
- **orphan account** — a PACS or OT account of nobody Linewatch knows, or of someone offboarded;
- **account without credential** — an enabled OT account (HMI, EWS, remote access) with no live credential of
  that system for the person here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Granted:
    """One row of an export: `who` (person key, or a card/account id), and `area` for PACS access levels."""

    place: str  # file:line
    who: str
    area: str = ""
    system: str = ""
    enabled: bool = True


@dataclass(frozen=True)
class Drift:
    kind: str  # unauthorised | not_provisioned | orphan_account | account_without_credential
    severity: str  # high | medium | low
    person: str  # person key, or the id the export used when nobody matches
    what: str
    place: str
    why: str

    def as_dict(self) -> dict:
        return {"kind": self.kind, "severity": self.severity, "person": self.person, "what": self.what,
                "place": self.place, "why": self.why}


def compare_pacs(granted: Iterable[Granted], authorised: set[tuple[str, str]], people: dict[str, str],
                 offboarded: set[str], restricted: set[str]) -> list[Drift]:
    """PACS access levels (person or card × area) against live authorisations {(person key, area slug)}.

    `people` resolves card numbers and keys to person keys; `restricted` areas make over-provisioning high."""
    drift: list[Drift] = []
    seen: set[tuple[str, str]] = set()
    for row in granted:
        person = people.get(row.who)
        if person is None or person in offboarded:
            why = "nobody Linewatch knows" if person is None else f"{person} is offboarded"
            drift.append(Drift("orphan_account", "high", person or row.who, f"PACS access to {row.area}", row.place,
                               f"the PACS grants {row.area} to {row.who}: {why}"))
            continue
        seen.add((person, row.area))
        if (person, row.area) not in authorised:
            drift.append(Drift("unauthorised", "high" if row.area in restricted else "medium", person,
                               f"PACS access to {row.area}", row.place,
                               f"no live authorisation for {row.area}: granted in the PACS outside the process, or "
                               "a revocation did not reach it"))
    for person, area in sorted(authorised - seen):
        drift.append(Drift("not_provisioned", "low", person, f"authorised for {area}", "",
                           f"authorised here for {area} but the PACS export does not carry it"))
    return drift


def compare_accounts(accounts: Iterable[Granted], credentials: set[tuple[str, str]], people: dict[str, str],
                     offboarded: set[str]) -> list[Drift]:
    """Enabled OT accounts (system × account) against live credentials {(person key, system)}."""
    drift: list[Drift] = []
    for row in accounts:
        if not row.enabled:
            continue
        person = people.get(row.who)
        if person is None or person in offboarded:
            why = "nobody Linewatch knows" if person is None else f"{person} is offboarded"
            drift.append(Drift("orphan_account", "high", person or row.who, f"{row.system} account {row.who}",
                               row.place, f"enabled {row.system} account of {why}"))
        elif (person, row.system) not in credentials:
            drift.append(Drift("account_without_credential", "medium", person, f"{row.system} account {row.who}",
                               row.place, f"enabled on {row.system} with no live {row.system} credential here"))
    return drift
