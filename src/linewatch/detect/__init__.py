"""Detection: the Sigma engine (engine/, Django-free), alerts and their enrichment."""
