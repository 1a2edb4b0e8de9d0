-- purpose: a pending delivery that never left stops: superseded or withdrawn, with why.
UPDATE remote_delivery SET status = :status, reason = :reason, updated_at = :now WHERE source = :source AND change_seq = :change_seq
