-- purpose: every accepted package status event (what tracking reads).
SELECT source, change_seq, status, at, reason, detail FROM remote_event WHERE accepted
