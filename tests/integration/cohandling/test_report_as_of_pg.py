"""A report as of T reproduces on PostgreSQL too (the body is tests/unit/jobs/test_report_as_of.py's):
the as-of statements (timestamp bounds, aggregates, a window) as PostgreSQL runs them."""

from __future__ import annotations

from tests.unit.jobs.test_report_as_of import report_as_of_t_reproduces


def test_a_report_as_of_t_is_the_same_after_more_results_and_a_correction_on_postgresql(pg_schema_url, tmp_path):
    report_as_of_t_reproduces(pg_schema_url(), tmp_path)
