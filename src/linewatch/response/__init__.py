"""Response: routing alerts to the teams that own the device, SLA clocks and escalation."""
