"""Linewatch: cyber-physical security operations for manufacturers."""

__version__ = "0.1.0"
