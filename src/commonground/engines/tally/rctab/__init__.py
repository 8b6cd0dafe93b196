"""RCTab v2.0.1 rule set: configuration, cast-vote-record readers, count, reports.

>>> from commonground.engines.tally.rctab import tabulate_rctab
>>> # tabulate_rctab("contest_config.json", "out/")  -> [Path(...), ...]
"""

from __future__ import annotations

from ._config import RctabConfig, load_config
from ._records import (
    OVERVOTE,
    RawRecord,
    read_cdf_json_records,
    read_ess_xlsx_records,
    read_generic_csv_records,
)
from ._standalone import read_cdf_json, read_ess_xlsx
from ._tabulate import tabulate_rctab

__all__ = [
    "OVERVOTE",
    "RawRecord",
    "RctabConfig",
    "load_config",
    "read_cdf_json",
    "read_ess_xlsx",
    "read_cdf_json_records",
    "read_ess_xlsx_records",
    "read_generic_csv_records",
    "tabulate_rctab",
]
