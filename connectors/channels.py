"""Opening the delivery channels (connectors/delivery.py names their shapes): `channel_for`
resolves a destination to its Airflow Connection and the right client; `Channels` keeps what one
task opened and closes it all. Secrets live only in the Connections."""

from __future__ import annotations

import logging
import re

from connectors.delivery import (
    COUNTY_CONN_PREFIX,
    COUNTY_DEFAULT_CONN_ID,
    CROSS_PROVINCE_CONN_ID,
    GRID_CONN_ID,
    GRID_DESTINATION,
    SFTP_CONN_ID,
    Channel,
    Drop,
)

log = logging.getLogger(__name__)


def channel_for(destination: str, *, packages: bool = False) -> Channel | Drop:
    """The channel to `destination`, from its Airflow Connection.

    `gateway_sftp` → the drops (every account-mode institution on that host); `grid` → the grid's
    marketing API (connection `grid_marketing`); `county_system_<XZQH>` → that county's system
    (connection `county_system_<XZQH>`, else `county_system_default`, whose extra base_path holds
    "{xzqh}", e.g. "/county/{xzqh}") — its work-order endpoints, or with `packages` its
    registration system's package endpoints; `cross_province` → the cross-province channel
    (packages only). A destination that is none of these, or a missing or incomplete
    connection, raises."""
    from connectors.http_receiver import HttpReceiver
    from connectors.package_receiver import PackageReceiver

    kind = PackageReceiver if packages else HttpReceiver
    if destination == SFTP_CONN_ID and not packages:
        from connectors.sftp_drop import SftpDrops

        return SftpDrops.from_conn_id(SFTP_CONN_ID)
    if destination == GRID_DESTINATION and not packages:
        return HttpReceiver.from_conn_id(GRID_CONN_ID)
    if destination == CROSS_PROVINCE_CONN_ID and packages:
        return PackageReceiver.from_conn_id(CROSS_PROVINCE_CONN_ID)
    if destination.startswith(COUNTY_CONN_PREFIX):
        xzqh = destination.removeprefix(COUNTY_CONN_PREFIX)
        if not re.fullmatch(r"\d{6}", xzqh):
            raise ValueError(f"not a county code: {xzqh!r}")
        try:
            return kind.from_conn_id(destination, xzqh=xzqh)
        except _not_found_errors():
            return kind.from_conn_id(COUNTY_DEFAULT_CONN_ID, xzqh=xzqh)
    raise ValueError(f"not a {'package' if packages else 'work-order'} destination: {destination!r}")


class Channels:
    """The channels one task opens, one per destination, from Airflow Connections at run time;
    all closed on leaving (`with Channels() as channels:`). `packages`: the package endpoints.
    A destination whose connection is missing raises when asked for: its items stay pending,
    with the reason, for the next run."""

    def __init__(self, *, packages: bool = False) -> None:
        self.packages = packages
        self._open: dict[str, Channel | Drop] = {}
        self._drops_tried = False

    def __enter__(self) -> Channels:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __call__(self, destination: str) -> Channel:
        """The channel to `destination` (as the remote-collection jobs ask: `receiver_for(destination)`)."""
        if destination not in self._open:
            self._open[destination] = channel_for(destination, packages=self.packages)
        return self._open[destination]  # type: ignore[return-value]

    def receiver_for(self, channel: str, destination: str) -> Channel:
        """The work-order channel to `destination` (as the co-handling jobs ask; `channel`, system or grid, follows from it)."""
        return self(destination)

    def drops(self) -> Drop | None:
        """The SFTP drops (one connection for every institution), or None without a connection (logged)."""
        if not self._drops_tried:
            self._drops_tried = True
            try:
                self._open[SFTP_CONN_ID] = channel_for(SFTP_CONN_ID)
            except Exception as exc:  # noqa: BLE001 - Airflow's "not found" differs between versions
                log.warning("no SFTP drop connection %s: %s", SFTP_CONN_ID, exc)
        return self._open.get(SFTP_CONN_ID)  # type: ignore[return-value]

    def close(self) -> None:
        for channel in self._open.values():
            channel.close()
        self._open.clear()


def _not_found_errors() -> tuple[type[Exception], ...]:
    errors: list[type[Exception]] = []
    try:
        from airflow.sdk.exceptions import AirflowNotFoundException as sdk_not_found

        errors.append(sdk_not_found)
    except ImportError:  # pragma: no cover - older task SDK
        pass
    try:
        from airflow.exceptions import AirflowNotFoundException as core_not_found

        errors.append(core_not_found)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)
