"""The extended workforce: work orders and access authorisations (people live in core)."""
