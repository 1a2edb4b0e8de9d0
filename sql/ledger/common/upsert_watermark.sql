-- purpose: move a source's watermark (in the same transaction as the load it describes), never back: the higher sequence and the later re-read window are kept (a backfill with an older cut-off moves neither); the snapshot fence (transforms/common/fence.py, computed under the extract lock) is replaced when given.
INSERT INTO extract_watermark (source, last_seq, reread_from, fence, run_id, updated_at)
VALUES (:source, :last_seq, :reread_from, :fence, :run_id, :updated_at)
ON CONFLICT (source) DO UPDATE
SET last_seq = CASE WHEN excluded.last_seq > extract_watermark.last_seq THEN excluded.last_seq ELSE extract_watermark.last_seq END,
    reread_from = CASE
        WHEN extract_watermark.reread_from IS NULL OR excluded.reread_from > extract_watermark.reread_from THEN coalesce(excluded.reread_from, extract_watermark.reread_from)
        ELSE extract_watermark.reread_from
    END,
    fence = coalesce(excluded.fence, extract_watermark.fence),
    run_id = excluded.run_id, updated_at = excluded.updated_at
