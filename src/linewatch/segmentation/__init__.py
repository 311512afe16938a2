"""Segmentation: firewall configs, packet-set reachability and zone-to-zone answers (issue 5)."""
