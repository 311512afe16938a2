"""The evidence engine: canonical JSON, Merkle trees, signed checkpoints, the ledger and evidence packs.

Imports nothing from Django, so a third party can verify a pack with this package, `cryptography` and `rfc8785`.
"""
