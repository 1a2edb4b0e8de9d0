-- purpose: the audit chain's head: its last place (seq) and that entry's hash.
SELECT seq, hash FROM audit_chain_head WHERE head_id = 1
