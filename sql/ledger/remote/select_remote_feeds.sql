-- purpose: destinations something was sent to (delivered, or attempted): the event feeds to poll.
SELECT DISTINCT destination FROM remote_delivery WHERE first_sent_at IS NOT NULL ORDER BY destination
