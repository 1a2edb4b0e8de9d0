"""Glue between the DAGs, connectors and transforms: settings, jobs and the local demo."""
