-- The floor of a first use: one row, a primary key and two UNIQUE text indexes.
\set n random(1, 9999999999999)
INSERT INTO bench_insert (a, b) VALUES ('a-' || :n, 'b-' || :n) ON CONFLICT DO NOTHING;
