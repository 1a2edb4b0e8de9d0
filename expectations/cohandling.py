"""The Annex 1 suite for co-handling records, built in code (Great Expectations 1.x).

Runs on an ephemeral context inside the validation task, over the run's normalised
records (transforms/cohandling/normalize.py), never at DAG-parse time. Each expectation carries the
rule id of transforms/cohandling/rule_catalogue.py in its `meta`, so the Data Docs an auditor opens name the
same rules as the ledger's per-record verdicts. GX reports counts and a sample per
expectation (result format SUMMARY without samples: `RESULT_FORMAT`, personal columns masked,
so the Data Docs show no ID number or phone); the per-record verdicts, every failure of every
record, come from the vectorised rules and are what the ledger keeps.

Custom expectations: check characters of resident IDs (GB 11643, MOD 11-2) and unified
social credit codes (GB 32100, mod 31) inside multi-owner fields. Cross-field rules are
column-pair expectations over derived columns (owner counts, the registered name of an
institution code).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from transforms.cohandling.rule_catalogue import CERT_PATTERN, REQUIRED_FIELDS, Context
from transforms.common.checkdigits import ascii_matrix, id_check_ok, uscc_check_ok

OWNER_SPLIT = r"[,，、/;；]"



def _quiet_gx() -> None:
    """GX's loggers at WARNING (its warnings and errors still show): called before great_expectations is first
    imported (it logs some 200 INFO lines while registering its API and metrics) and after (some of its modules
    set their own loggers to INFO on import)."""
    loggers = [logging.getLogger("great_expectations")]
    loggers += [x for name, x in logging.root.manager.loggerDict.items() if name.startswith("great_expectations.") and isinstance(x, logging.Logger)]
    for logger in loggers:
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)


_quiet_gx()  # quiet task logs: before the lazy imports of great_expectations below


def check_characters_ok(values: pd.Series, scheme: str) -> pd.Series:
    """Per value: every owner's 18-character number of the scheme has the right check character.

    `gb11643`: resident IDs (17 digits + check); `gb32100`: unified social credit codes.
    Numbers of another shape are left to the shape rules and pass here.
    """
    parts = values.astype("str").str.split(OWNER_SPLIT, regex=True).explode()
    parts = parts[parts.notna()].astype(str)
    shapes = {"gb11643": (r"\d{17}[\dX]", id_check_ok), "gb32100": (r"[0-9A-HJ-NPQRTUWXY]{18}", uscc_check_ok)}
    if scheme not in shapes:
        raise ValueError(f"unknown check scheme {scheme!r}")
    pattern, check_ok = shapes[scheme]
    mask = parts.str.fullmatch(pattern).to_numpy(dtype=bool)
    ok = np.ones(len(parts), dtype=bool)
    if mask.any():
        ok[mask] = check_ok(ascii_matrix(parts[mask].to_numpy(dtype=object).astype("U18"), 18))
    per_value = pd.Series(ok, index=parts.index).groupby(level=0).all()
    return per_value.reindex(values.index, fill_value=True)


def _custom_expectations():
    """Define (once) the custom metric providers and expectations; GX registers them by class."""
    global ExpectColumnValuesToHaveValidCheckCharacters
    if "ExpectColumnValuesToHaveValidCheckCharacters" in globals():
        return ExpectColumnValuesToHaveValidCheckCharacters
    from great_expectations.execution_engine import PandasExecutionEngine
    from great_expectations.expectations.expectation import ColumnMapExpectation
    from great_expectations.expectations.metrics import ColumnMapMetricProvider, column_condition_partial

    class ColumnValuesValidCheckCharacters(ColumnMapMetricProvider):
        condition_metric_name = "column_values.valid_check_characters"
        condition_value_keys = ("scheme",)

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column, scheme, **kwargs):  # noqa: N805 - GX's metric signature
            return check_characters_ok(column, scheme)

    class ExpectColumnValuesToHaveValidCheckCharacters(ColumnMapExpectation):
        """Every owner's ID number in the column has the right check character (GB 11643 or GB 32100)."""

        map_metric = "column_values.valid_check_characters"
        success_keys = ("scheme", "mostly")
        scheme: str

    globals()["ExpectColumnValuesToHaveValidCheckCharacters"] = ExpectColumnValuesToHaveValidCheckCharacters
    return ExpectColumnValuesToHaveValidCheckCharacters


def gx_frame(records: pd.DataFrame, *, registry: pd.DataFrame) -> pd.DataFrame:
    """The columns the suite reads: normalised Annex 1 fields plus derived cross-field columns."""
    from transforms.cohandling.rule_catalogue import normalise_name

    frame = pd.DataFrame({c: records[c].astype(object) for c in (*REQUIRED_FIELDS, "ZRFLXDH", "ZCFLXDH", "GSJGBM", "GSJGMC", "RQJGBM", "RQJGMC", "GRJGBM", "GRJGMC")})
    frame["FWJZMJ_NUM"] = records["FWJZMJ_NUM"].astype(float)
    frame["DBSJ_TS"] = records["DBSJ_TS"]
    for side in ("ZRF", "ZCF"):
        # Numbers by the kind of party their ID type says (single-type records; mixed lists stay with the person check).
        types = records[f"{side}ZJZL"].astype(object)
        company = types.isin(["6", "7", "8"]).to_numpy()
        frame[f"{side}_PERSON_IDS"] = records[f"{side}ZJHM"].astype(object).where(~company, None)
        frame[f"{side}_COMPANY_IDS"] = records[f"{side}ZJHM"].astype(object).where(company, None)
        for part in ("NAMES", "IDS"):
            frame[f"{side}_N_{part}"] = records[f"{side}_{part}"].list.len().astype("float").to_numpy()
    for utility, code, name in (("water", "GSJGBM", "GSJGMC"), ("gas", "RQJGBM", "RQJGMC"), ("heat", "GRJGBM", "GRJGMC")):
        reg = registry[registry["utility"] == utility]
        names = dict(zip(reg["code"].astype(str).str.upper(), reg["name"].astype(str).map(normalise_name)))
        frame[f"{name}_REGISTERED"] = frame[code].map(names)
    return frame


# Data Docs are a file anyone with the run folder opens: they must show no resident ID or phone.
# GX reports counts only (no sample of unexpected values: the checksum expectations need the
# clear numbers, so a sample would show them), and every personal column the suite only checks
# for presence is handed over masked (transforms/common/mask.py), so no clear value is in the batch's
# sample either. The per-record failures, with masked values, are in the quarantine list.
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0, "include_unexpected_rows": False}
MASKED_IDS = ("ZRFZJHM", "ZCFZJHM")
MASKED_PHONES = ("ZRFLXDH", "ZCFLXDH")


def masked_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The suite's frame with ID numbers and phones masked where the expectation needs only presence."""
    from transforms.common.mask import mask_id, mask_phone

    out = frame.copy()
    for column in MASKED_IDS:
        out[column] = mask_id(out[column].astype(object))
    for column in MASKED_PHONES:
        out[column] = mask_phone(out[column].astype(object))
    return out


def build_suite(*, ctx: Context, registry: pd.DataFrame):
    """The Annex 1 expectation suite (great_expectations imported here, not at module level)."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    custom = _custom_expectations()
    suite = gx.ExpectationSuite(name="annex1_cohandling")

    def add(expectation, rule_id: str) -> None:
        # The rule id in meta; in GX's Data Docs the description (rule id, Chinese name, the fields' Annex 1 labels) stands in
        # for GX's English sentence — the custom check-character expectations would otherwise show as raw Python names.
        expectation.meta = {"rule_id": rule_id}
        expectation.description = _note(rule_id, expectation)
        suite.add_expectation(expectation)

    for field in REQUIRED_FIELDS:
        add(gxe.ExpectColumnValuesToNotBeNull(column=field), "REQUIRED")
    add(gxe.ExpectColumnValuesToBeInSet(column="XZQH", value_set=sorted(ctx.counties | ctx.functional_zones)), "XZQH_COUNTY")
    add(gxe.ExpectColumnValuesToBeBetween(column="FWJZMJ_NUM", min_value=0, strict_min=True), "AREA_POSITIVE")
    add(gxe.ExpectColumnValuesToMatchRegex(column="BDCQZH", regex=CERT_PATTERN), "CERT_FORMAT")
    add(gxe.ExpectColumnValuesToBeBetween(column="DBSJ_TS", max_value=pd.Timestamp(ctx.as_of).isoformat()), "DBSJ_FUTURE")
    for side in ("ZRF", "ZCF"):
        add(custom(column=f"{side}_PERSON_IDS", scheme="gb11643"), "ID_CHECKSUM")
        add(custom(column=f"{side}_COMPANY_IDS", scheme="gb32100"), "USCC_CHECKSUM")
        add(gxe.ExpectColumnPairValuesToBeEqual(column_A=f"{side}_N_NAMES", column_B=f"{side}_N_IDS"), "OWNER_COUNT")
    for name in ("GSJGMC", "RQJGMC", "GRJGMC"):
        add(gxe.ExpectColumnPairValuesToBeEqual(column_A=name, column_B=f"{name}_REGISTERED", ignore_row_if="either_value_is_missing"), "INSTITUTION_NAME")
    return suite


def _note(rule_id: str, expectation) -> str:
    """Rule id and Chinese rule name, and the columns with their Annex 1 labels: `ID_CHECKSUM 证件号码校验位错误… — 买方证件号码·个人证件(ZRF_PERSON_IDS)`."""
    from transforms.cohandling.rule_catalogue import RULES
    from transforms.reporting.validation_page import column_label

    columns = [c for c in (getattr(expectation, "column", None), getattr(expectation, "column_A", None), getattr(expectation, "column_B", None)) if c]
    return f"{rule_id} {RULES[rule_id].zh} — " + "、".join("{}({})".format(*column_label(c)) for c in columns)


def expectation_results(validation_results) -> list[dict]:
    """Per expectation of a GX validation result: rule_id, type, columns, evaluated, unexpected, missing, success (for the validation page)."""
    out = []
    for r in validation_results:
        config, result = r.expectation_config, r.result or {}
        kwargs = config.kwargs
        columns = [kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)]
        out.append({"rule_id": config.meta["rule_id"], "type": config.type, "columns": columns, "evaluated": result.get("element_count", 0),
                    "unexpected": result.get("unexpected_count", 0), "missing": result.get("missing_count", 0), "success": bool(r.success)})
    return out


def run_suite(records: pd.DataFrame, *, registry: pd.DataFrame, ctx: Context, docs_dir: Path, run_name: str) -> dict:
    """Validate the run's records on an ephemeral context and write Data Docs.

    Returns {"docs": index path, "success": bool, "failed_rules": rule ids of failed expectations, "expectations": per expectation
    its rule, columns and counts (expectation_results)}.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    _quiet_gx()
    context = gx.get_context(mode="ephemeral")
    # No progress bars: tqdm writes them to stderr, which a worker's task log shows as ERROR lines.
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = context.data_sources.add_pandas("gateway").add_dataframe_asset("cohandling_records")
    batch = asset.add_batch_definition_whole_dataframe("run")
    suite = context.suites.add(build_suite(ctx=ctx, registry=registry))
    definition = context.validation_definitions.add(gx.ValidationDefinition(name="annex1", data=batch, suite=suite))
    docs_dir.mkdir(parents=True, exist_ok=True)
    context.add_data_docs_site(
        site_name="run",
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name="annex1_checkpoint",
            validation_definitions=[definition],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="docs", site_names=["run"])],
            result_format=RESULT_FORMAT,
        )
    )
    frame = masked_frame(gx_frame(records, registry=registry))
    with warnings.catch_warnings():  # pandas warns, every run, that CERT_PATTERN has groups (GX's regex metric matches with str.contains)
        warnings.filterwarnings("ignore", message="This pattern is interpreted as a regular expression, and has match groups", category=UserWarning)
        result = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=gx.RunIdentifier(run_name=run_name))
    failed = sorted({r.expectation_config.meta["rule_id"] for v in result.run_results.values() for r in v.results if not r.success})
    expectations = [e for v in result.run_results.values() for e in expectation_results(v.results)]
    return {"docs": str(docs_dir / "index.html"), "success": bool(result.success), "failed_rules": failed, "expectations": expectations}
