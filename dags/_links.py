"""Links from a DAG run's tasks to the pages they wrote: the validation page (validate) and the report
(cohandling_report, remote_report), shown as buttons on the task instance in Airflow's UI (Grid view →
the task → its extra links).

How Airflow 3.3 makes an operator extra link: the operator class lists `BaseOperatorLink`s in
`operator_extra_links`; at the end of each try the worker calls each link's `get_link` and stores the
result as an XCom (`_link_<class name>`); the DAG's serialization records the link's name and XCom key,
and the API server reads the XCom back (airflow.serialization's XComOperatorLink). No plugin is needed
for that: a plugin's `operator_extra_links` would make the API server call our `get_link` itself, where
there is no task to ask. `@task` functions get the links through a decorated-operator subclass
(`page_task` below, made with Airflow's `task_decorator_factory`, as providers make `@task.<kind>`).

A link is the page's URL under $GATEWAY_REPORT_URL / $GATEWAY_OUTPUT_URL when the folder is served
(jobs/common/settings.py page_url), else its file:// path. A try that wrote no page (failed) stores an
empty link, which the UI shows disabled.

Not a DAG (no `dag_id`): imported by DAG files at parse time, so it imports Airflow only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import task_decorator_factory
from airflow.providers.standard.decorators.python import _PythonDecoratedOperator
from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey


def page_of(result: Any, keys: tuple[tuple[str, ...], ...]) -> str | None:
    """The first path found in a task's returned dict along one of `keys` (each a path of dict keys), or None."""
    for path in keys:
        value = result
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        if isinstance(value, str) and value:
            return value
    return None


class _PageLink(BaseOperatorLink):
    """A link to a file the task wrote, found in its return value (its XCom) under `keys`."""

    keys: tuple[tuple[str, ...], ...] = ()

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        from jobs.common.settings import page_url

        path = page_of(XCom.get_value(ti_key=ti_key, key="return_value"), self.keys)
        return page_url(path) if path else ""


class ValidationPageLink(_PageLink):
    """The run's validation page (jobs/cohandling/validate_records.py: validation.html in the run's folder)."""

    name = "校验结果 validation page"
    keys = (("page_path",),)


class ReportPageLink(_PageLink):
    """The report's page (report.html): the reconciliation report returns its files under "files", the remote report at the top."""

    name = "报告 report"
    keys = (("files", "html"), ("html",))


class ValidationPageTask(_PythonDecoratedOperator):
    operator_extra_links = (ValidationPageLink(),)


class ReportPageTask(_PythonDecoratedOperator):
    operator_extra_links = (ReportPageLink(),)


def page_task(operator_class: type[_PythonDecoratedOperator], **kwargs):
    """`@task(**kwargs)` whose task carries the links of `operator_class` (ValidationPageTask, ReportPageTask)."""
    return task_decorator_factory(decorated_operator_class=operator_class, **kwargs)
