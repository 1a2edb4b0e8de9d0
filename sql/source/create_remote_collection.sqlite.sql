-- purpose: the platform's remote-collection (异地代收) exchange tables, SQLite flavour.
-- A collecting hall (代收窗口) collects an application for a property in another county and the
-- platform's remote-collection module writes it here as one package (报文) version:
--   BDC_YDDS_BWXX  the package: one row per write (a change log, like BDC_SDQR_XBXX);
--   BDC_YDDS_SQR   its applicants, one row each, keyed by the package row's CHANGE_SEQ;
--   BDC_YDDS_CL    its materials, one row each, keyed the same way;
--   BDC_YDDS_WJ    the electronic files the materials reference (the module's file store).
-- CHANGE_SEQ is the platform's change sequence, CHANGE_TIME the database clock (UTC) at write
-- time, OP 'I' a new package, 'U' a correction (same BWID, replaces the earlier version, with a
-- complete new set of applicants and materials), 'D' a withdrawal. BWID is not unique here.
-- Applicants and materials are child tables, not a JSON column: they are written in the same
-- transaction as their package row and carry its CHANGE_SEQ, so a package version is read
-- whole by a key range on every database; their columns are typed and checked by the
-- database, read and bulk-loaded the same way on SQLite and PostgreSQL (no JSON dialects).
CREATE TABLE IF NOT EXISTS BDC_YDDS_BWXX (
    CHANGE_SEQ  INTEGER PRIMARY KEY AUTOINCREMENT,
    CHANGE_TIME TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    OP          TEXT NOT NULL DEFAULT 'I' CHECK (OP IN ('I', 'U', 'D')),
    BWID        TEXT,   -- package id (报文标识), stable across corrections
    SQBH        TEXT,   -- the applicant's online application number (一网通办申请编号)
    SJDWDM      TEXT,   -- collecting hall code (收件单位代码)
    SJDWMC      TEXT,   -- collecting hall name
    SJXZQH      TEXT,   -- collecting hall's county code
    SJSJ        TEXT,   -- collected time (收件时间), local
    SJRY        TEXT,   -- window staff (收件人员)
    YWLX        TEXT,   -- business type code (业务类型)
    BDCDYH      TEXT,   -- 28-character real-estate unit number (不动产单元号)
    BDCQZH      TEXT,   -- certificate number (不动产权证号), when the property has one
    ZL          TEXT,   -- address (坐落)
    XZQH        TEXT    -- the property's county code (属地)
);
CREATE INDEX IF NOT EXISTS IX_BDC_YDDS_BWXX_CHANGE_TIME ON BDC_YDDS_BWXX (CHANGE_TIME);
CREATE TABLE IF NOT EXISTS BDC_YDDS_SQR (
    CHANGE_SEQ  INTEGER NOT NULL,   -- the package row (BDC_YDDS_BWXX.CHANGE_SEQ) it belongs to
    XH          INTEGER NOT NULL,   -- position in the package, from 1
    BWID        TEXT,
    SQRXM       TEXT,   -- name
    ZJZL        TEXT,   -- ID type (证件种类, docs/domain.md §3)
    ZJHM        TEXT,   -- ID number
    SQRLB       TEXT,   -- role: 1 权利人, 2 义务人
    HYDDM       TEXT,   -- hall where this applicant was verified (核验地点)
    HYXZQH      TEXT,   -- that hall's county code
    SFZDQ       TEXT,   -- ID card read (身份证件识别): 1 done, 0 not
    HTJC        TEXT,   -- liveness check (活体检测)
    ZWCJ        TEXT,   -- fingerprint taken (指纹采集)
    DZQM        TEXT,   -- e-signature (电子签名)
    WXJLBH      TEXT,   -- on-site questioning record id (现场问询记录编号)
    HYSJ        TEXT,   -- verified time, local
    PRIMARY KEY (CHANGE_SEQ, XH)
);
CREATE TABLE IF NOT EXISTS BDC_YDDS_CL (
    CHANGE_SEQ  INTEGER NOT NULL,
    XH          INTEGER NOT NULL,
    BWID        TEXT,
    CLBM        TEXT,   -- material code, as in the property county's checklist (材料编码)
    CLMC        TEXT,   -- material name
    YS          TEXT,   -- pages (页数)
    WJDZ        TEXT,   -- electronic file reference (文件地址) in BDC_YDDS_WJ
    WJHX        TEXT,   -- SHA-256 of the file, hex, as the module computed it at upload
    SFZZYJ      TEXT,   -- paper original collected (是否收取纸质原件): 1 yes, 0 no
    PRIMARY KEY (CHANGE_SEQ, XH)
);
CREATE TABLE IF NOT EXISTS BDC_YDDS_WJ (
    WJDZ        TEXT PRIMARY KEY,
    WJNR        BLOB NOT NULL,
    WJDX        INTEGER NOT NULL,   -- size in bytes
    SCSJ        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
