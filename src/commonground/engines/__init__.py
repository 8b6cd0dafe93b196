"""Pure computation engines: tally, opinion and sortition.

Nothing under this package may import Django or any platform app; an
import-linter contract and ``tests/engines/test_purity.py`` keep it so.
"""
