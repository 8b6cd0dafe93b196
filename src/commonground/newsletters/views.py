"""Thin views of the newsletters app."""
