"""Writes of the onboarding app (see apps.py)."""
