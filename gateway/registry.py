"""The institution registry the rules check codes and names against.

Until the registry is loaded from the counties' Annex 2 / Annex 3 forms into the ledger
(the next issue), the gateway uses the synthetic registry the synthetic platform draws
from — the same ~600 water / gas / heat institutions.
"""

from __future__ import annotations

import pandas as pd


def current_registry() -> pd.DataFrame:
    """Institutions in force: utility, code, name, xzqh (and the rest of the registry's columns)."""
    from simulators.registry import build_registry

    return build_registry()
