"""Thin views of the onboarding app."""
