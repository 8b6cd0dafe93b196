"""Writes of the newsletters app (see apps.py)."""
