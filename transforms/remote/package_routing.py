"""Where a validated remote-collection package goes (docs/domain.md §6): pure, vectorised.

By the property's county, never by the collecting hall (属地登记: the property's authority
accepts, reviews, records and issues the certificate):

| verdict | channel | destination |
|---|---|---|
| passed, XZQH 37xxxx | `county_system` | `county_system_<XZQH>` (the Airflow connection of that county's registration system) |
| passed, XZQH of another province | `cross_province` | `cross_province` (跨省通办 channel) |
| returned | `return_to_hall` | the collecting hall's code (SJDWDM): the reasons go back to the window |
| withdrawn | `none` | `` |

`paper_collected` says the window took at least one paper original; `paper_handover` says
the collecting hall owes those originals to the property's authority (seed 2, 三(六): 代收的
纸质资料主动定期移交属地登记机构) — only for a passed package: a returned one's paper goes
back to the applicant with the package.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms.remote.package_rules import DONE, code_text

SHANDONG_PREFIX = "37"
CROSS_PROVINCE = "cross_province"


def route_packages(packages: pd.DataFrame, materials: pd.DataFrame, outcome: pd.DataFrame) -> pd.DataFrame:
    """Per package row (positional, as `outcome`): channel, destination, paper_collected, paper_handover."""
    xzqh = code_text(packages["XZQH"].reset_index(drop=True)).fillna("")
    hall = code_text(packages["SJDWDM"].reset_index(drop=True)).fillna("")
    status = outcome["status"].to_numpy(dtype=object)
    shandong = xzqh.str.startswith(SHANDONG_PREFIX).to_numpy(dtype=bool)
    passed = status == "passed"
    returned = status == "returned"
    channel = np.where(passed & shandong, "county_system", np.where(passed, CROSS_PROVINCE, np.where(returned, "return_to_hall", "none")))
    destination = np.where(
        passed & shandong, "county_system_" + xzqh.to_numpy(dtype=object).astype(str),
        np.where(passed, CROSS_PROVINCE, np.where(returned, hall.to_numpy(dtype=object).astype(str), "")),
    )
    seqs = packages["CHANGE_SEQ"].to_numpy()
    paper_seqs = materials.loc[code_text(materials["SFZZYJ"]).isin(DONE).to_numpy(dtype=bool), "CHANGE_SEQ"].unique() if len(materials) else []
    paper = np.isin(seqs, paper_seqs)
    return pd.DataFrame({"channel": channel, "destination": destination, "paper_collected": paper, "paper_handover": paper & passed})
