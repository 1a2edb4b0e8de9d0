-- purpose: move a source's watermark (in the same transaction as the load it describes).
INSERT INTO extract_watermark (source, last_seq, reread_from, run_id, updated_at)
VALUES (:source, :last_seq, :reread_from, :run_id, :updated_at)
ON CONFLICT (source) DO UPDATE
SET last_seq = excluded.last_seq,
    reread_from = coalesce(excluded.reread_from, extract_watermark.reread_from),
    run_id = excluded.run_id, updated_at = excluded.updated_at
