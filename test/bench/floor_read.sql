-- Floor of re-keying with mtcbind.log_key_issue = off: the indexed read of
-- the same binding row (by ICCID, the key re-keying looks it up by), with
-- the same ICCID computation as fleet_rekey.sql.
\set n random(1, :pairs)
\set s 30 + 2 * (:n % 10) - 9 * ((:n % 10) / 5) + (:n / 10) % 10 + 2 * ((:n / 100) % 10) - 9 * (((:n / 100) % 10) / 5) + (:n / 1000) % 10 + 2 * ((:n / 10000) % 10) - 9 * (((:n / 10000) % 10) / 5) + (:n / 100000) % 10 + 2 * ((:n / 1000000) % 10) - 9 * (((:n / 1000000) % 10) / 5) + (:n / 10000000) % 10 + 2 * ((:n / 100000000) % 10) - 9 * (((:n / 100000000) % 10) / 5) + (:n / 1000000000) % 10 + 2 * ((:n / 10000000000) % 10) - 9 * (((:n / 10000000000) % 10) / 5) + (:n / 100000000000) % 10 + 2 * ((:n / 1000000000000) % 10) - 9 * (((:n / 1000000000000) % 10) / 5) + (:n / 10000000000000) % 10
\set cd (10 - :s % 10) % 10
SELECT *
  FROM mtcbind.binding
 WHERE iccid = ('8949' || lpad(:n::text, 14, '0') || :cd)::mtcbind.iccid;
