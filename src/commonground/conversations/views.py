"""Thin views of the conversations app."""
