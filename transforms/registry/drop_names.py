"""Where an institution's work orders are delivered, from its registry row: the SFTP drop account
(account mode) or the county system's connection id (system mode)."""

from __future__ import annotations


def drop_account(code: str) -> str:
    """The SFTP drop account of an account-mode institution: `xb` (协办) + its code in lower case."""
    return "xb" + code.lower()


def delivery_settings(code: str, channel: str, xzqh: str) -> tuple[str | None, str | None]:
    """(SFTP drop account, county endpoint connection id) an institution's channel needs.

    Account mode: the drop account is `xb` + the institution code in lower case (a valid
    Unix user name: it starts with a letter; 20 characters). System mode: the county system's
    Airflow connection `county_system_<XZQH>`.
    """
    if channel == "account":
        return drop_account(code), None
    return None, f"county_system_{xzqh}"
