-- purpose: forget the migrations applied (the demo's and tests' fresh start).
DROP TABLE IF EXISTS alembic_version
