"""Deliberation models of the assemblies app (sessions, panel discussion, the
panel's vote on recommendations): filled in by the deliberation work (issue 16,
item 4)."""
