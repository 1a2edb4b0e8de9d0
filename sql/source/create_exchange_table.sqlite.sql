-- purpose: the platform's exchange table (前置库) of co-handling records, SQLite flavour.
-- The 25 Annex 1 columns are text as the platform sends them; the gateway normalises.
-- CHANGE_SEQ is the platform's change sequence, assigned when the row is written: every
-- insert, correction (OP='U') and withdrawal (OP='D') is a new row with a new sequence, so
-- the table is a change log and ROWGUID is deliberately not unique here.
-- CHANGE_TIME is the database clock (UTC) at write time, used for the re-read window.
CREATE TABLE IF NOT EXISTS BDC_SDQR_XBXX (
    CHANGE_SEQ  INTEGER PRIMARY KEY AUTOINCREMENT,
    CHANGE_TIME TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    OP          TEXT NOT NULL DEFAULT 'I' CHECK (OP IN ('I', 'U', 'D')),
    ROWGUID     TEXT,
    YCYWH       TEXT,
    ZRFXM       TEXT,
    ZRFZJZL     TEXT,
    ZRFZJHM     TEXT,
    ZRFLXDH     TEXT,
    ZCFXM       TEXT,
    ZCFZJZL     TEXT,
    ZCFZJHM     TEXT,
    ZCFLXDH     TEXT,
    XZQH        TEXT,
    FWZL        TEXT,
    FWJZMJ      TEXT,
    BDCQZH      TEXT,
    DBSJ        TEXT,
    YDHH        TEXT,
    YSHH        TEXT,
    GSJGBM      TEXT,
    GSJGMC      TEXT,
    YQHH        TEXT,
    RQJGBM      TEXT,
    RQJGMC      TEXT,
    YNHH        TEXT,
    GRJGBM      TEXT,
    GRJGMC      TEXT
);
CREATE INDEX IF NOT EXISTS IX_BDC_SDQR_XBXX_CHANGE_TIME ON BDC_SDQR_XBXX (CHANGE_TIME);
