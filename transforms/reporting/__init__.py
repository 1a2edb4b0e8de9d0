"""The auditors' reports: tables, and their HTML."""
