-- purpose: the hash of the entry just appended becomes the audit chain's head.
UPDATE audit_chain_head SET hash = :hash WHERE head_id = 1
