-- purpose: PostgreSQL only, in the transaction of a cursor that will be read to its end (reconciliation's input): plan it for the whole answer, not for its first 10 % (cursor_tuple_fraction 0.1 chose nested loops over every result group).
SET LOCAL cursor_tuple_fraction = 1.0
