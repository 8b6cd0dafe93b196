"""Common Ground: a platform for member-led movements.

The package has two layers: pure computation engines under
:mod:`commonground.engines` (tally, opinion, sortition) that never import
Django, and the Django platform (one app per capability).
"""

__version__ = "0.1.0"
