"""Concurrent writers on PostgreSQL: appends to one site take turns on the log head's row lock, so sequence numbers
stay gap-free and unique and the tree the checkpoints sign covers every record exactly once."""

from __future__ import annotations

import threading

import pytest

from tests.conftest import TEST_SITES, services_required

pytestmark = pytest.mark.services


@pytest.fixture
def committed_postgres(transactional_db):
    from django.db import connection

    if connection.vendor != "postgresql":
        message = "needs DATABASE_URL=postgresql://… (the machine's PostgreSQL on 127.0.0.1:5432)"
        if services_required():
            pytest.fail(message)
        pytest.skip(message)
    from linewatch.core.sitefile.importer import import_files

    import_files(sorted(str(p) for p in TEST_SITES.glob("*.yaml")))
    return connection


def test_concurrent_appends_to_one_site_are_serialised(committed_postgres):
    from django.db import connection

    from linewatch.evidence import services
    from linewatch.evidence.engine.merkle import MerkleTree, leaf_hash
    from linewatch.evidence.models import Checkpoint, Entry, SiteLog
    from linewatch.evidence.records import record

    head = services.get_log(__import__("linewatch.core.models", fromlist=["Site"]).Site.objects.get(slug="alpha"))
    SiteLog.objects.filter(pk=head.pk).update(checkpoint_every=25)
    before = SiteLog.objects.get(pk=head.pk).size
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(40):
                record("alpha", "control.check", {"writer": n, "i": i})
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    head.refresh_from_db()
    assert head.size == before + 160
    seqs = list(Entry.objects.filter(log=head).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(head.size))
    services._trees.clear()
    tree = MerkleTree([leaf_hash(c.encode()) for c in Entry.objects.filter(log=head).order_by("seq")
                       .values_list("canonical", flat=True)])
    for cp in Checkpoint.objects.filter(log=head):
        assert bytes.fromhex(cp.root_hash) == tree.root(cp.size)
