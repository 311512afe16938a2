"""Network listeners that feed the ingestion path: syslog (UDP, TCP, TLS) and MQTT."""
