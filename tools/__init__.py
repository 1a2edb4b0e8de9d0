"""Operator tools outside the product package: the CLI and the local demo (`make run`)."""
