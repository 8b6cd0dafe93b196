"""Thin views of the publishing app."""
