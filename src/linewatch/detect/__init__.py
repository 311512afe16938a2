"""Detection: the Sigma engine (`engine/`, Django-free) and, later, correlation and rule packs."""
