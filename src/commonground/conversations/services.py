"""Writes of the conversations app (see apps.py)."""
