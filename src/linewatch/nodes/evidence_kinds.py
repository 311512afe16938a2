"""Headquarters witnesses a plant node's evidence checkpoints when the node syncs.

Each checkpoint a plant node signs is forwarded with the consistency proof from the checkpoint before it. On
headquarters the witness checks the plant log's signature and that the new tree extends the last one it cosigned
(`engine.checkpoint.cosign_checkpoint`), cosigns with its own key and queues the cosigned note back; when the plant
pulls, it keeps the cosignature beside its checkpoint. A plant that rewrote its history after a checkpoint was
witnessed cannot get a diverging one cosigned: the consistency proof fails and the batch is refused with the reason.

The plant log's public key travels with its first checkpoint and is pinned on headquarters from then on (trust on
first use, recorded in `WitnessedCheckpoint`), so a plant that swaps its key is refused too.
"""

from __future__ import annotations

import base64

from django.db.models.signals import post_save

from linewatch.nodes.replication import Replicator, append, applying, queuing, register
from linewatch.nodes.sync import HQ


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _on_checkpoint(sender, instance, created: bool, **kwargs) -> None:
    """A plant signed a checkpoint: forward it, with the proof that it extends the one before."""
    if not created or not queuing():
        return
    from linewatch.evidence import services
    from linewatch.evidence.models import Checkpoint

    head = instance.log
    previous = Checkpoint.objects.filter(log=head, size__lt=instance.size).order_by("-size").first()
    proof = services.tree(head, instance.size).consistency_proof(previous.size, instance.size) if previous else []
    append("evidence-checkpoint", [(head.site_slug, f"{head.origin}@{instance.size}", {
        "origin": head.origin, "size": instance.size, "note": instance.note,
        "previous_size": previous.size if previous else 0, "proof": [_b64(h) for h in proof],
        "log_key": services.log_verifier(head).vkey})])


def _apply_checkpoint(site: str, key: str, body: dict, origin: str) -> bool:
    """Headquarters: cosign a plant's checkpoint after checking it; queue the cosigned note back to the plant."""
    if origin == HQ:
        return False  # a plant does not witness headquarters' own checkpoints
    from linewatch.core.models import Site
    from linewatch.evidence import services
    from linewatch.evidence.engine.checkpoint import Checkpoint, CheckpointError, Verifier, cosign_checkpoint
    from linewatch.nodes.models import WitnessedCheckpoint

    site_obj = Site.objects.select_related("organisation").get(slug=site)
    pinned = WitnessedCheckpoint.objects.filter(peer=origin, origin=body["origin"]).order_by("-size").first()
    if pinned and pinned.size >= body["size"]:
        return False  # cosigned before
    if pinned and pinned.log_key != body["log_key"]:
        raise ValueError(f"checkpoint {key} is signed by another key than the one pinned for {body['origin']}")
    if pinned and pinned.size != body["previous_size"]:
        raise ValueError(f"checkpoint {key} extends size {body['previous_size']}, but the last one witnessed "
                         f"is size {pinned.size}")
    previous = Checkpoint.parse(pinned.note.encode().split(b"\n\n", 1)[0] + b"\n") if pinned else None
    try:
        note = cosign_checkpoint(body["note"].encode(), services.witness_signer(site_obj),
                                 Verifier.from_vkey(body["log_key"]), previous,
                                 [base64.b64decode(h) for h in body["proof"]])
    except CheckpointError as exc:
        raise ValueError(f"checkpoint {key} not witnessed: {exc}") from exc
    parsed = Checkpoint.parse(note.split(b"\n\n", 1)[0] + b"\n")
    WitnessedCheckpoint.objects.create(peer=origin, origin=body["origin"], size=parsed.size,
                                       root_hash=parsed.root_hash.hex(), note=note.decode(),
                                       log_key=body["log_key"])
    with applying(""):  # queue for the plant even while applying the plant's own batch
        append("evidence-cosignature", [(site, key, {"origin": body["origin"], "size": parsed.size,
                                                     "note": note.decode()})])
    return True


def _apply_cosignature(site: str, key: str, body: dict, origin: str) -> bool:
    """The plant: keep headquarters' cosignature on its own checkpoint (it must still verify under its key)."""
    from linewatch.evidence import services
    from linewatch.evidence.engine.checkpoint import verify_checkpoint
    from linewatch.evidence.models import Checkpoint, Cosignature, SiteLog

    head = SiteLog.objects.filter(origin=body["origin"]).first()
    cp = Checkpoint.objects.filter(log=head, size=body["size"]).first() if head else None
    if cp is None:
        raise ValueError(f"cosignature for {key}, a checkpoint this node does not have")
    if cp.note == body["note"]:
        return False
    verify_checkpoint(body["note"].encode(), [services.log_verifier(head)], log_key=head.origin)
    if not body["note"].startswith(cp.note.rstrip("\n").split("\n\n", 1)[0]):
        raise ValueError(f"cosignature for {key} is over another checkpoint body")
    cp.note = body["note"]
    cp.save(update_fields=["note"])
    witness = body["note"].rstrip("\n").splitlines()[-1].split(" ")[1]
    Cosignature.objects.get_or_create(checkpoint=cp, witness=witness)
    return True


def install() -> None:
    from linewatch.evidence.models import Checkpoint

    register(Replicator("evidence-checkpoint", _apply_checkpoint))
    register(Replicator("evidence-cosignature", _apply_cosignature))
    post_save.connect(_on_checkpoint, sender=Checkpoint, dispatch_uid="linewatch-nodes-evidence-checkpoint")
