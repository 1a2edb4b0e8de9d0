-- purpose: a source's watermark: the last sequence loaded, the start of the re-read window and (PostgreSQL sources) the snapshot fence.
SELECT last_seq, reread_from, fence FROM extract_watermark WHERE source = :source
