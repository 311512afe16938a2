"""Events: the normalized schema, one parser per source format, ingestion and the event store."""
