"""Crisis management and resilience: crisis declaration, site status, roll call, degraded-mode
runbooks, situation reports (CAP 1.2) and plant nodes that keep working when cut off from headquarters."""
