"""Passive discovery: the devices, protocols and talkers seen in packet captures (issue 4)."""
