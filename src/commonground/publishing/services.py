"""Writes of the publishing app (see apps.py)."""
