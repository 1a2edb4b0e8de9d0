"""What happens when a task or a DAG run fails: one clear log line naming the DAG, the task
and the run, and an entry in the ledger's audit log when the ledger can be reached.

`on_failure` is every DAG's `on_failure_callback` (and every task's, through default_args).
Airflow calls a DAG's with a `reason` ("task_failure", "timed_out", ...) and the context of the
task that failed last (its `ti`): that is the run's failure, logged and written as
`dag_run_failed` naming that task; a task's own failure comes with its `exception`
(`task_failed`). A callback must never raise — a failure while reporting a failure would hide
the first one — so every step is guarded and a step that cannot be done is logged and skipped.
Error text is clipped and ID numbers and phones in it masked (transforms/common/mask.mask_in_text)
before it is logged or stored.

`deadline_missed` is the callback of the daily DAG's Deadline Alert (Airflow 3.1+ `DeadlineAlert`, an
`AsyncCallback`: it runs in the triggerer when a run is not finished `interval` after it was queued, the run
still going). Airflow gives it `context` = {"dag_run": the run as the REST API shows it, "deadline": {"id",
"deadline_time"}} and the kwargs the DAG set: it logs one `GATEWAY DEADLINE MISSED` line (the same channel as
`GATEWAY FAILURE`) and writes `deadline_missed` to the ledger's audit log; it never raises either.

Imported by the DAG files at parse time: the standard library only, up here.
"""

from __future__ import annotations

import logging
import re

log = logging.getLogger("jobs.common.alerts")

ERROR_CHARS = 500  # of the exception's text, in the log line and the audit entry


def on_failure(context) -> None:
    """Airflow failure callback for tasks and DAG runs. Never raises."""
    try:
        facts = _facts(context)
    except Exception:  # noqa: BLE001 - a context we cannot read still gets its line
        facts = {"dag_id": "?", "task_id": None, "failed_task": None, "run_id": None, "try_number": None, "error": "(context unreadable)"}
    try:
        if facts["task_id"]:
            what = f"task={facts['task_id']} try={facts['try_number']}"
        else:
            what = "dag run" + (f" (last failed task: {facts['failed_task']})" if facts.get("failed_task") else "")
        log.error("GATEWAY FAILURE dag=%s %s run=%s: %s", facts["dag_id"], what, facts["run_id"], facts["error"])
    except Exception:  # noqa: BLE001
        pass
    try:
        _audit(facts)
    except Exception as exc:  # noqa: BLE001 - the ledger unreachable (the failure itself may be that): the log line stands
        try:
            log.warning("GATEWAY FAILURE not written to the ledger's audit log: %s", type(exc).__name__)
        except Exception:  # noqa: BLE001
            pass


def _facts(context) -> dict:
    context = context or {}
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    dag = context.get("dag")
    dag_id = getattr(ti, "dag_id", None) or getattr(dag_run, "dag_id", None) or getattr(dag, "dag_id", None) or "?"
    run_id = getattr(ti, "run_id", None) or getattr(dag_run, "run_id", None) or context.get("run_id")
    error = context.get("exception") or context.get("reason") or ""
    text = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    run_failed = "reason" in context and not context.get("exception")  # a DAG's callback: the run failed (ti: the last task that failed)
    task_id = getattr(ti, "task_id", None)
    return {"dag_id": str(dag_id), "task_id": None if run_failed else task_id, "failed_task": task_id if run_failed else None,
            "run_id": None if run_id is None else str(run_id), "try_number": None if run_failed else getattr(ti, "try_number", None),
            "error": _masked(text)}


def _masked(text: str) -> str:
    text = " ".join(text.split())[:ERROR_CHARS]
    try:
        import pandas as pd

        from transforms.common.mask import mask_in_text

        return str(mask_in_text(pd.Series([text])).iloc[0])
    except Exception:  # noqa: BLE001 - without the masker: every long run of digits hidden
        return re.sub(r"\d{6,}[\dXx]?", lambda m: m.group(0)[:3] + "*" * (len(m.group(0)) - 3), text)


def _audit(facts: dict) -> None:
    from connectors.ledger import Ledger
    from jobs.common.settings import LEDGER_CONN_ID

    ledger = Ledger.from_conn_id(LEDGER_CONN_ID)
    try:
        task = facts["task_id"]
        ledger.audit(run_id=facts["run_id"], actor="airflow", action="task_failed" if task else "dag_run_failed",
                     object_type="task" if task else "dag_run", object_id=f"{facts['dag_id']}.{task}" if task else facts["dag_id"],
                     detail={k: v for k, v in facts.items() if v is not None})
    finally:
        ledger.dispose()


async def deadline_missed(context=None, **kwargs) -> None:
    """Deadline Alert callback (AsyncCallback, run by the triggerer): one log line and an audit entry. Never raises."""
    import asyncio

    facts = deadline_facts(context, **kwargs)
    try:
        log.error("GATEWAY DEADLINE MISSED dag=%s run=%s: %s", facts["dag_id"], facts["run_id"], facts["error"])
    except Exception:  # noqa: BLE001
        pass
    try:
        await asyncio.to_thread(_audit_deadline, facts)
    except Exception as exc:  # noqa: BLE001 - the ledger unreachable: the log line stands
        try:
            log.warning("GATEWAY DEADLINE MISSED not written to the ledger's audit log: %s", type(exc).__name__)
        except Exception:  # noqa: BLE001
            pass


def deadline_facts(context=None, **kwargs) -> dict:
    """What a missed deadline's context says: the DAG, the run, when it was queued, its state, the deadline, and the
    DAG's own words (`what`, `interval_minutes` from the DeadlineAlert's kwargs). Never raises."""
    try:
        context = context or {}
        run = context.get("dag_run") or {}
        deadline = context.get("deadline") or {}
        dag_id = str(run.get("dag_id") or kwargs.get("dag_id") or "?")
        run_id = run.get("dag_run_id") or run.get("run_id")
        what = kwargs.get("what") or "the run"
        minutes = kwargs.get("interval_minutes")
        limit = f" within {minutes:g} min of being queued" if isinstance(minutes, int | float) else ""
        text = (f"{what} not finished{limit}: deadline {deadline.get('deadline_time') or '?'}, queued at {run.get('queued_at') or '?'}, "
                f"state {run.get('state') or '?'} — 截止时间已过，本次运行仍未完成")
        return {"dag_id": dag_id, "run_id": None if run_id is None else str(run_id), "deadline_id": deadline.get("id"), "error": _masked(text)}
    except Exception:  # noqa: BLE001
        return {"dag_id": "?", "run_id": None, "deadline_id": None, "error": "(context unreadable)"}


def _audit_deadline(facts: dict) -> None:
    from connectors.ledger import Ledger
    from jobs.common.settings import LEDGER_CONN_ID

    ledger = Ledger.from_conn_id(LEDGER_CONN_ID)
    try:
        ledger.audit(run_id=facts["run_id"], actor="airflow", action="deadline_missed", object_type="dag_run", object_id=facts["dag_id"],
                     detail={k: v for k, v in facts.items() if v is not None})
    finally:
        ledger.dispose()
