-- purpose: the bytes kept of one dead letter.
SELECT payload FROM dead_letter WHERE dl_id = :dl_id
