"""Plant nodes that survive a cut link.

A plant runs its own Linewatch next to headquarters. Everything it records (events, alerts and their handling,
and what other domains register) is also appended to a per-site **outbox** with a sequence number per (node, site).
`linewatch node sync` on the plant pushes the outbox to headquarters and pulls what headquarters recorded for the
plant's sites; both sides apply records idempotently by their natural key, so a record sent twice is kept once, and
a jump in sequence numbers is raised as an alert. The plant always opens the connection (HTTPS out of the plant, as
an OT firewall allows); while headquarters is unreachable the outbox simply grows. Design notes: docs/nodes.md.
"""
