-- purpose: a source's watermark: the last sequence loaded and the start of the re-read window.
SELECT last_seq, reread_from FROM extract_watermark WHERE source = :source
