-- purpose: whether a result file with these bytes (SHA-256) was already recorded from a source.
SELECT file_id FROM result_file WHERE source = :source AND sha256 = :sha256
