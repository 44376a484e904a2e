-- pgbench (scripts/citus_demo.sh): re-keying one of the 10 000 bound pairs
-- 'rk-' || n through :fn (single.rekey or scaleout.rekey).  The ICCID of pair
-- n is '8949' || 14-digit n || Luhn digit (as test/bench/ computes it), here
-- as one number so that it reaches :fn as a literal (Citus delegates by it).
\set n random(1, 10000)
\set s 30 + 2 * (:n % 10) - 9 * ((:n % 10) / 5) + (:n / 10) % 10 + 2 * ((:n / 100) % 10) - 9 * (((:n / 100) % 10) / 5) + (:n / 1000) % 10 + 2 * ((:n / 10000) % 10) - 9 * (((:n / 10000) % 10) / 5)
\set cd (10 - :s % 10) % 10
\set icc 8949000000000000000 + :n * 10 + :cd
SELECT :fn('rk-:n', ':icc',
           '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
           'I1U8vpY3qJ0hiuRNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org');
