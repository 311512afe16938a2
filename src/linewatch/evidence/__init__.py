"""Operational evidence: a tamper-evident ledger of evidence records and packs anyone can verify offline.

The engine in `linewatch.evidence.engine` is plain Python (no Django): RFC 8785 canonical JSON, RFC 9162 Merkle
trees, C2SP signed-note checkpoints, the file-backed ledger and the evidence-pack builder and verifier. The CLI in
`linewatch.evidence.cli` drives the verifier. The pack format is documented in docs/evidence-format.md.
"""
