"""The work each DAG task does: one module per task, grouped by product line (common, cohandling, registry, remote)."""
