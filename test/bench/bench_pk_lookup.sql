\set id random(1, 10000)
SELECT payload FROM bench_pk WHERE id = :id;
