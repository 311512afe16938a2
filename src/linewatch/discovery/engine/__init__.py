"""Discovery engine: plain Python, no Django. Captures in, devices / talkers / observations out."""

from linewatch.discovery.engine.analyse import ICS_PROTOCOLS, Discovery, discover
from linewatch.discovery.engine.model import Device, Observation, Talker

__all__ = ["ICS_PROTOCOLS", "Device", "Discovery", "Observation", "Talker", "discover"]
