"""The institution registry: loading the counties' Annex 2 / Annex 3 forms into the ledger,
and reading it as of a time for validation and routing.

`load_form` takes one form in the way every inbox does (jobs/common/inbox.py): read, parsed
(transforms/registry/institution_forms.py) and applied to the ledger's versioned registry
(connectors/ledger/registry_store.py) in one transaction. Forms dropped into `registry_inbox()`
are loaded by `jobs.common.inbox.load_inbox(..., load=load_form)` (the `registry_forms` DAG, and
the first task of `cohandling_daily`); a form that cannot be read is dead-lettered under the
surface `registry_form`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from connectors.ledger import Ledger
from connectors.ledger.registry_store import FormSummary
from jobs.common.inbox import take_in

if TYPE_CHECKING:
    import pandas as pd


def load_form(ledger: Ledger, path: str | Path, *, now: datetime | None = None) -> FormSummary:
    """Load one Annex 2 or Annex 3 form (.xlsx / .csv); the kind is told by its headings."""
    from jobs.common import reference
    from transforms.common.form_sheets import Places
    from transforms.registry.institution_forms import parse_annex2, parse_annex3

    places = Places(reference.divisions())

    def parse(sheets, name):
        parsed = parse_annex2(sheets, file=name, places=places)
        if any(i.rule == "FORM_NO_HEADER" for i in parsed.issues):
            annex3 = parse_annex3(sheets, file=name, places=places)
            if annex3.rows or not any(i.rule == "FORM_NO_HEADER" for i in annex3.issues):
                parsed = annex3
        return parsed

    return take_in(
        ledger, path, now=now, actor="registry", action="form_loaded", object_type="registry_form",
        held=ledger.registry.form_by_hash, skipped=lambda name: FormSummary(None, name, "?", already_loaded=True), parse=parse, apply=ledger.registry.apply_form,
        detail=lambda s: {"kind": s.kind, "rows_loaded": s.rows_loaded, "added": len(s.added), "changed": len(s.changed), "unchanged": s.unchanged,
                          "errors": s.errors, "warnings": s.warnings},
    )


load_form.surface = "registry_form"  # what jobs.common.inbox.load_inbox dead-letters an unreadable registry form under


def current_registry(ledger: Ledger, at: datetime) -> pd.DataFrame:
    """Institutions in force at `at` (local time), with retired codes that name a successor: what validation checks against."""
    return ledger.registry.registry_at(at)
