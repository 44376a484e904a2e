-- The floor of the granted path: an indexed read of the same binding row.
\set n random(1, 10000)
\set s 30 + 2 * (:n % 10) - 9 * ((:n % 10) / 5) + (:n / 10) % 10 + 2 * ((:n / 100) % 10) - 9 * (((:n / 100) % 10) / 5) + (:n / 1000) % 10 + 2 * ((:n / 10000) % 10) - 9 * (((:n / 10000) % 10) / 5)
\set cd (10 - :s % 10) % 10
SELECT binding_id, terminal_id
  FROM mtcbind.binding
 WHERE iccid OPERATOR(pg_catalog.=) ('8949' || lpad(:n::text, 14, '0') || :cd)::mtcbind.iccid;
