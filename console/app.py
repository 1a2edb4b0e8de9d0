"""The web console (网关控制台) and the institutions' board (配置账号), one FastAPI app.

Mounted in Airflow's API server by plugins/gateway_console.py at `/gateway` (same login: console/auth.py), or run
standalone (`python -m console`, the tests) with its own sign-in form. Every request is scoped on the server
(console/scopes.py): a page outside the user's scope answers 404 — the same as a page that does not exist, so
nothing tells an institution that another's work order is there. Every page that lists work orders or records
(names, IDs, phones — shown masked, transforms/common/mask.py) is audited (`ledger.audit`, action `console_view`),
and so is every download and every result recorded or uploaded.

Pages: `/` (counts in scope), `/overdue` (超期清单 公示, filters), `/counties/<XZQH>`, `/institutions/<code>`,
`/quarantine`, `/exceptions`, `/trace?key=` (the trail of a ROWGUID, YCYWH or BWID, jobs/common/trace.py, scoped by
console/scopes.py `Scope.trail`), `/files/` (run reports and validation pages: province only); the board: `/board`, `/board/orders/...`,
`/board/download.xlsx|.csv`, `/board/upload`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from console import pages
from console.scopes import ROLES, Scope, load_users

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).resolve().parent / "templates"
SHANGHAI = ZoneInfo("Asia/Shanghai")
OPEN_STATUSES = ("delivered", "acknowledged", "overdue")
BOARD_SECTIONS = {  # the board's three lists: status -> heading
    "delivered": "新工单（已推送，待签收）(delivered)",
    "acknowledged": "待办（已签收，未到期）(acknowledged)",
    "overdue": "超期未办结 (overdue)",
}
MAX_ROWS = 500  # rows a page lists; the count above a table is always whole
MAX_KEY = 100  # characters of a trace key read (ROWGUID, YCYWH and BWID are far shorter)


class SignInNeeded(Exception):
    pass


def local_now() -> datetime:
    return datetime.now(SHANGHAI).replace(tzinfo=None)


def create_app(ledger, *, signin, users: dict[str, Scope] | None = None, files: dict[str, Path] | None = None,
               clock: Callable[[], datetime] = local_now) -> FastAPI:
    """The console on `ledger` (connectors.ledger.Ledger). `signin`: console.auth.AirflowSignIn or FormSignIn; `users`:
    name -> Scope (default: the users file, console/scopes.py); `files`: folder key -> folder served read-only to
    province users (default: the reports and the runs' output); `clock`: local time now."""
    from console.auth import SESSION_COOKIE, SESSION_S

    users = users if users is not None else load_users()
    if files is None:
        from jobs.common.settings import report_dir, run_output_dir

        files = {"reports": report_dir(), "runs": run_output_dir("x").parent}
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    app = FastAPI(title="协办网关控制台", docs_url=None, redoc_url=None, openapi_url=None)

    def page(request: Request, template: str, scope: Scope | None, status_code: int = 200, **context) -> HTMLResponse:
        base = request.scope.get("root_path", "")
        html = env.get_template(template).render(base=base, scope=scope, roles=ROLES, own_form=signin.own_form, **context)
        return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, exc: SignInNeeded):
        if request.method != "GET":
            return HTMLResponse("未登录 (not signed in)", status_code=401)
        return RedirectResponse(signin.login_url(request), status_code=303)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        words = {404: "没有这个页面，或不在您的权限范围内 (not found)", 403: "您的账号没有配置控制台权限 (no console scope)"}
        return page(request, "message.html", None, status_code=exc.status_code, title=str(exc.status_code),
                    message=words.get(exc.status_code, str(exc.detail)))

    async def current(request: Request) -> Scope:
        name = await signin.user(request)
        if not name:
            raise SignInNeeded()
        scope = users.get(name)
        if scope is None:
            raise HTTPException(403)
        return scope

    filled: list[bool] = []

    def today():
        """The reader's date (overdue is derived against it); the read model filled whole first if it is still empty."""
        if not filled:
            from jobs.cohandling.order_status import refresh_order_status

            last, has_orders = ledger.cohandling.read_model_state()
            if last is None and has_orders:  # a ledger migrated from 0015: filled now, not at the next hourly run
                refresh_order_status(ledger, whole=True)
                last = True
            if last is not None:
                filled.append(True)
        return clock().date()

    def audit(scope: Scope, what: str, object_id: object = None, **detail) -> None:
        ledger.audit(run_id=None, actor=f"console:{scope.user}", action="console_view", object_type=what, object_id=object_id,
                     detail={"role": scope.role, "code": scope.code, **detail})


    # --- sign-in (standalone only) ----------------------------------------------------------

    if signin.own_form:
        @app.get("/login", response_class=HTMLResponse)
        async def login_form(request: Request, next: str = "/"):
            return page(request, "login.html", None, next=_safe_next(request, next), error=None)

        @app.post("/login")
        async def login(request: Request, user: str = Form(...), password: str = Form(...), next: str = Form("/")):
            scope = users.get(user)
            if scope is None or not signin.password_ok(scope.password, password):
                return page(request, "login.html", None, status_code=401, next=_safe_next(request, next), error="用户名或密码不正确")
            response = RedirectResponse(_safe_next(request, next), status_code=303)
            response.set_cookie(SESSION_COOKIE, signin.session(user), max_age=SESSION_S, httponly=True, samesite="strict")
            return response

        @app.post("/logout")
        async def logout(request: Request):
            response = RedirectResponse(request.scope.get("root_path", "") + "/login", status_code=303)
            response.delete_cookie(SESSION_COOKIE)
            return response

    # --- pages ----------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request):
        scope = await current(request)
        c = pages.counts(ledger, scope.filters(), today())
        total = int(c["n"].sum())
        counties = pages.counties(c) if scope.role in ("province", "city") else []
        audit(scope, "home", rows=total)
        return page(request, "home.html", scope, counts=pages.status_counts(c), total=total, counties=counties, as_of=clock())

    @app.get("/overdue", response_class=HTMLResponse)
    async def overdue(request: Request, city: str = "", county: str = "", institution: str = "", utility: str = ""):
        from transforms.cohandling.annex1 import UTILITY_LABELS
        from transforms.reporting.cohandling_tables import OVERDUE_HEADINGS, OVERDUE_PUBLIC, overdue_list

        scope = await current(request)
        day = today()
        od = pages.counts(ledger, scope.filters(), day)
        od = od[od["status"] == "overdue"]
        options = {
            "city": sorted({(c, n) for c, n in zip(od["city_code"], od["city_name"])}),
            "county": sorted({(c, n) for c, n in zip(od["xzqh"], od["county_name"])}),
            # the grid has no institution code: it is chosen by its utility (electricity)
            "institution": sorted({(str(c), n) for c, n in zip(od["institution_code"], od["institution_name"]) if isinstance(c, str) and c}),
            "utility": [(u, UTILITY_LABELS[u]) for u in ("electricity", "water", "gas", "heat")],
        }
        chosen = {"city": city, "county": county, "institution": institution, "utility": utility}
        for column, value in (("city_code", city), ("xzqh", county), ("utility", utility)):
            if value:
                od = od[od[column] == value]
        if institution:
            od = od[od["institution_code"].fillna("") == institution]
        total = int(od["n"].sum())
        rows = pages.overdue_rows(ledger, pages.merged(scope, city_code=city, xzqh=county, institution_code=institution, utility=utility), day,
                                  MAX_ROWS) if total else pd.DataFrame()
        table = overdue_list(rows.assign(status="overdue", handle_working_days=np.nan)) if len(rows) else None
        columns = [OVERDUE_HEADINGS[c] for c in (*OVERDUE_PUBLIC, "xzqh", "institution_code")]
        shown = table[columns].head(MAX_ROWS).to_dict("records") if table is not None else []
        days = OVERDUE_HEADINGS["overdue_working_days"]
        for row in shown:  # whole working days
            row[days] = "" if pd.isna(row[days]) else int(row[days])
        audit(scope, "overdue_list", filters={k: v for k, v in chosen.items() if v}, rows=total)
        return page(request, "overdue.html", scope, columns=columns, rows=shown, total=total, options=options, chosen=chosen, max_rows=MAX_ROWS,
                    trace_column=OVERDUE_HEADINGS["platform_no"])

    @app.get("/counties/{xzqh}", response_class=HTMLResponse)
    async def county(request: Request, xzqh: str):
        scope = await current(request)
        if not scope.sees_area(xzqh):
            raise HTTPException(404)
        c = pages.counts(ledger, pages.merged(scope, xzqh=xzqh), today())
        if not len(c):
            raise HTTPException(404)
        total = int(c["n"].sum())
        audit(scope, "county", xzqh, rows=total)
        return page(request, "county.html", scope, xzqh=xzqh, name=c["county_name"].iloc[0], city=f"{c['city_name'].iloc[0]}({c['city_code'].iloc[0]})",
                    counts=pages.status_counts(c), total=total, institutions=pages.by_institution(c))

    @app.get("/institutions/{code}", response_class=HTMLResponse)
    async def institution(request: Request, code: str):
        scope = await current(request)
        c = pages.counts(ledger, pages.merged(scope, institution_code=code), today())
        if not len(c):
            raise HTTPException(404)
        total = int(c["n"].sum())
        audit(scope, "institution", code, rows=total)
        counties = pages.by_institution(c.assign(institution_code=c["xzqh"], institution_name=c["county_name"]))
        return page(request, "institution.html", scope, code=code, name=c["institution_name"].iloc[0], counts=pages.status_counts(c), total=total,
                    counties=counties, channel=c["channel"].iloc[0])

    @app.get("/quarantine", response_class=HTMLResponse)
    async def quarantine(request: Request):
        from transforms.cohandling.quarantine import HEADINGS, quarantine_list

        scope = await current(request)
        if scope.role == "institution":
            raise HTTPException(404)
        area = {"province": None, "city": scope.code[:4] + "%", "county": scope.code}[scope.role]  # Scope.sees_area
        raw, total = ledger.cohandling.console_quarantine(area=area, limit=MAX_ROWS)
        table = quarantine_list(raw)
        columns = [HEADINGS[c] for c in ("rowguid", "ycywh", "xzqh", "zrfxm", "zrfzjhm", "zrflxdh", "version", "status", "state", "utility",
                                         "rule_id", "rule_name", "field_label", "value", "message_zh")]
        audit(scope, "quarantine", rows=total)
        return page(request, "quarantine.html", scope, columns=columns, rows=table[columns].head(MAX_ROWS).to_dict("records"), total=total,
                    max_rows=MAX_ROWS, trace_column=HEADINGS["rowguid"])

    @app.get("/exceptions", response_class=HTMLResponse)
    async def exceptions(request: Request):
        from transforms.reporting.cohandling_tables import EXCEPTION_HEADINGS, exceptions_list

        scope = await current(request)
        today()
        if scope.role == "institution":
            drop = pages.drop_of(ledger, scope)
            raw, total = ledger.cohandling.console_exceptions(source=f"sftp:{drop}", scope=None, limit=MAX_ROWS) if drop else (None, 0)
            raw = _redact_foreign(raw, ledger.cohandling.console_own_rowguids(raw["rowguid"], scope.filters())) if drop else raw
        else:
            raw, total = ledger.cohandling.console_exceptions(source=None, scope=scope.filters(), limit=MAX_ROWS)
        table = exceptions_list(raw)
        columns = list(EXCEPTION_HEADINGS.values())
        audit(scope, "exceptions", rows=total)
        return page(request, "exceptions.html", scope, columns=columns, rows=table.head(MAX_ROWS).to_dict("records"), total=total, max_rows=MAX_ROWS)

    # --- the runs' files (province) -----------------------------------------------------------

    def province(scope: Scope) -> None:
        if scope.role != "province":
            raise HTTPException(404)

    @app.get("/files/", response_class=HTMLResponse)
    async def file_index(request: Request):
        scope = await current(request)
        province(scope)
        listing = []
        for key, folder in files.items():
            if folder.is_dir():
                for path in sorted(folder.rglob("*")):
                    if path.is_file() and path.suffix.lower() in (".html", ".xlsx", ".csv", ".pdf", ".json"):
                        listing.append({"key": key, "path": path.relative_to(folder).as_posix(), "size": path.stat().st_size})
        return page(request, "files.html", scope, listing=listing[:2000], total=len(listing))

    @app.get("/files/{key}/{path:path}")
    async def file_get(request: Request, key: str, path: str):
        scope = await current(request)
        province(scope)
        folder = files.get(key)
        if folder is None:
            raise HTTPException(404)
        target = (folder / path).resolve()
        if not target.is_file() or not target.is_relative_to(folder.resolve()):
            raise HTTPException(404)
        audit(scope, "run_file", f"{key}/{path}")
        return FileResponse(target, headers={"Cache-Control": "no-store"})

    # --- the institution's board ----------------------------------------------------------------

    def board_counts(scope: Scope) -> pd.DataFrame:
        if scope.role != "institution":
            raise HTTPException(404)
        return pages.counts(ledger, scope.filters(), today())

    def sections(scope: Scope, c: pd.DataFrame) -> list[dict]:
        day, n = clock().date(), c.groupby("status")["n"].sum() if len(c) else pd.Series(dtype=int)
        return [{"code": s, "heading": h, "n": int(n.get(s, 0)), "max_rows": MAX_ROWS,
                 "orders": order_cells(pages.with_people(ledger, ledger.cohandling.console_orders(scope.filters(), day, s, MAX_ROWS)))}
                for s, h in BOARD_SECTIONS.items()]

    def order_cells(rows: pd.DataFrame) -> list[dict]:
        from transforms.cohandling.annex1 import UTILITY_LABELS
        from transforms.common.mask import mask_address, mask_names, mask_phone

        out = rows.sort_values(["due_date", "rowguid"], kind="stable")
        return [{"key": f"{r.rowguid}:{r.utility}:{int(r.version)}", "rowguid": r.rowguid, "utility": r.utility, "version": int(r.version),
                 "utility_label": UTILITY_LABELS.get(r.utility, r.utility), "platform_no": r.platform_no, "county": f"{r.county_name}({r.xzqh})",
                 "address": a, "buyer": b, "phone": p, "delivered": str(r.delivered_at)[:16], "due": str(r.due_date)}
                for r, a, b, p in zip(out.itertuples(index=False), mask_address(out["address"].astype(object)), mask_names(out["buyer_name"].astype(object)),
                                      mask_phone(out["buyer_phone"].astype(object)))]

    @app.get("/board", response_class=HTMLResponse)
    async def board(request: Request):
        scope = await current(request)
        c = board_counts(scope)
        name = c["institution_name"].iloc[0] if len(c) else ""
        audit(scope, "board", rows=int(c.loc[c["status"].isin(OPEN_STATUSES), "n"].sum()))
        return page(request, "board.html", scope, sections=sections(scope, c), name=name, drop=pages.drop_of(ledger, scope), counts=pages.status_counts(c),
                    upload=None)

    def find_order(scope: Scope, rowguid: str, utility: str, version: int) -> tuple[str | None, pd.Series]:
        if scope.role != "institution":
            raise HTTPException(404)
        hit = ledger.cohandling.console_order(scope.filters(), today(), rowguid, utility, version)
        if not len(hit):
            raise HTTPException(404)
        return pages.drop_of(ledger, scope), pages.with_people(ledger, hit).iloc[0]

    @app.get("/board/orders/{rowguid}/{utility}/{version}", response_class=HTMLResponse)
    async def board_order(request: Request, rowguid: str, utility: str, version: int):
        from transforms.cohandling.result_files import RESULT_CODES

        scope = await current(request)
        drop, order = find_order(scope, rowguid, utility, version)
        audit(scope, "work_order", f"{rowguid}:{utility}:{version}")
        return page(request, "order.html", scope, order=order_cells(order.to_frame().T)[0], status=order["status"], result_code=order["result_code"],
                    codes=RESULT_CODES, drop=drop, outcome=None, now=clock().strftime("%Y-%m-%d %H:%M"))

    @app.post("/board/orders/{rowguid}/{utility}/{version}", response_class=HTMLResponse)
    async def board_record(request: Request, rowguid: str, utility: str, version: int, JGDM: str = Form(...), BLSJ: str = Form(...),
                           JGSM: str = Form(""), BLR: str = Form("")):
        from jobs.cohandling.console_results import record_result
        from transforms.cohandling.result_files import RESULT_CODES

        scope = await current(request)
        drop, order = find_order(scope, rowguid, utility, version)
        if drop is None or order["channel"] != "account":
            raise HTTPException(404)
        key = f"{rowguid}:{utility}:{version}"
        outcome = record_result(ledger, drop, key, code=JGDM, reason=JGSM, handled_at=BLSJ, handler=BLR, as_of=clock(), actor=f"console:{scope.user}")
        drop, order = find_order(scope, rowguid, utility, version)
        return page(request, "order.html", scope, order=order_cells(order.to_frame().T)[0], status=order["status"], result_code=order["result_code"],
                    codes=RESULT_CODES, drop=drop, outcome=outcome, now=clock().strftime("%Y-%m-%d %H:%M"))

    @app.get("/board/download.{fmt}")
    async def board_download(request: Request, fmt: str):
        import pyarrow as pa

        from transforms.cohandling.batchfiles import batch_table, render

        scope = await current(request)
        if fmt not in ("xlsx", "csv"):
            raise HTTPException(404)
        c = board_counts(scope)
        drop = pages.drop_of(ledger, scope)
        if drop is None:
            raise HTTPException(404)
        open_keys = ledger.cohandling.console_open_keys(scope.code)
        orders = ledger.cohandling.destination_orders(drop)
        keep = [(r, u, int(v)) in open_keys for r, u, v in zip(orders["rowguid"].to_pylist(), orders["utility"].to_pylist(), orders["version"].to_pylist())]
        table = batch_table(orders.filter(pa.array(keep, pa.bool_())))
        stamp = clock()
        data = render(table, fmt, title=f"{c['institution_name'].iloc[0]} 未办结工单 {stamp:%Y-%m-%d %H:%M}", created=stamp)
        name = f"工单_{scope.code}_{stamp:%Y%m%d%H%M}.{fmt}"
        ledger.audit(run_id=None, actor=f"console:{scope.user}", action="console_download", object_type="work_orders", object_id=drop,
                     detail={"format": fmt, "rows": table.num_rows})
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if fmt == "xlsx" else "text/csv; charset=utf-8"
        from urllib.parse import quote

        return Response(data, media_type=media, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}", "Cache-Control": "no-store"})

    @app.post("/board/upload", response_class=HTMLResponse)
    async def board_upload(request: Request, file: Annotated[UploadFile, File()]):
        from jobs.cohandling.console_results import receive_upload
        from transforms.cohandling.result_files import MAX_RESULT_FILE_BYTES

        scope = await current(request)
        board_counts(scope)
        drop = pages.drop_of(ledger, scope)
        if drop is None:
            raise HTTPException(404)
        data = await file.read(MAX_RESULT_FILE_BYTES + 1)
        name = Path(file.filename or "").name
        upload = receive_upload(ledger, drop, name, data, as_of=clock(), actor=f"console:{scope.user}")
        c = board_counts(scope)
        if upload.problems:
            problems = pd.DataFrame(upload.problems)
            own = ledger.cohandling.console_own_rowguids(problems["rowguid"] if "rowguid" in problems else [], scope.filters())
            upload.problems = _redact_foreign(problems, own).to_dict("records")
        return page(request, "board.html", scope, sections=sections(scope, c), name=c["institution_name"].iloc[0], drop=drop, counts=pages.status_counts(c),
                    upload=upload)

    # --- trace ----------------------------------------------------------------------------------

    @app.get("/trace", response_class=HTMLResponse)
    async def trace_page(request: Request, key: str = ""):
        from jobs.common.trace import trace

        scope = await current(request)
        key = key.strip()[:MAX_KEY]
        if not key:
            return page(request, "trace.html", scope, key="", trail=None, message=None)
        found = trace(ledger, key, as_of=clock())
        events = scope.trail(found)
        audit(scope, "trace", key, found=events is not None, events=0 if events is None else len(events))
        if events is None:  # not found and not theirs answer alike
            return page(request, "trace.html", scope, status_code=404, key=key, trail=None, message=found.not_found_message())
        matches = sorted({s.split(":")[0] for s in events["subject"] if s}) if scope.role == "institution" else list(found.matches)
        trail = {"kind": found.kind_zh, "matches": matches, "as_of": found.as_of.strftime("%Y-%m-%d %H:%M"),
                 "events": [{"time": e.time.strftime("%Y-%m-%d %H:%M:%S"), "stage": e.stage, "stage_zh": e.stage_zh, "subject": e.subject,
                             "what": e.what, "evidence": e.evidence} for e in events.itertuples(index=False)]}
        return page(request, "trace.html", scope, key=key, trail=trail, message=None)

    return app


def _redact_foreign(problems: pd.DataFrame, own: set) -> pd.DataFrame:
    """An institution's exceptions as it may see them: a row about a work order that is not its own (it sent another's
    key) keeps its row number and rule, but neither the key nor where that work order went (the reason's detail)."""
    from transforms.cohandling.result_files import EXCEPTIONS

    if not len(problems):
        return problems
    out = problems.copy()
    foreign = out["rowguid"].notna() & ~out["rowguid"].isin(own)
    out.loc[foreign, "reason"] = out.loc[foreign, "reason_code"].map(lambda c: EXCEPTIONS.get(c, c))
    out.loc[foreign, ["rowguid", "value"]] = "（非本单位工单 not yours）"
    return out


def _safe_next(request: Request, target: str) -> str:
    """Where to go after signing in: a path of this app only (never another site), else its home."""
    base = request.scope.get("root_path", "")
    if target.startswith(base + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return base + "/"

