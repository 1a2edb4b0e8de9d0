"""The ledger's stores by product line: each line's methods over the ledger's one engine
(`Ledger.cohandling`, `Ledger.registry`, `Ledger.remote`). What every line shares stays on
`Ledger` itself (connectors/ledger/__init__.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.ledger.console_store import ConsoleStore
from connectors.ledger.delivery_store import DeliveryStore
from connectors.ledger.package_flow_store import RemoteFlowStore
from connectors.ledger.package_store import RemoteStore
from connectors.ledger.registry_store import RegistryStore
from connectors.ledger.reminder_store import ReminderStore
from connectors.ledger.result_store import ResultStore
from connectors.ledger.workorder_store import WorkOrderStore

if TYPE_CHECKING:
    from connectors.ledger import Ledger


class _LineStore:
    """One product line's part of the ledger: its own methods, over the ledger's one engine. What
    every line shares (the engine, the dialect, audit, dead letters, the private helpers) it reads
    from the ledger it belongs to."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def __getattr__(self, name: str):
        if name == "_ledger":
            raise AttributeError(name)
        return getattr(self._ledger, name)


class CohandlingLedger(_LineStore, WorkOrderStore, DeliveryStore, ResultStore, ReminderStore, ConsoleStore):
    """The co-handling line (协办): work orders, their deliveries and cancellations, results, overdue reminders, the console's read model."""


class RegistryLedger(_LineStore, RegistryStore):
    """The institution registry (机构登记): forms, institutions, county openings."""


class RemoteLedger(_LineStore, RemoteStore, RemoteFlowStore):
    """Remote collection (异地代收): checklists, packages and verdicts, deliveries, events, handover."""
