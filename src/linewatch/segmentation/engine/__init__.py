"""The Django-free reachability engine: vendor-neutral model, parsers, BDD packet sets, propagation."""
