-- Re-keying a bound pair through alt.request_key (plpgsql_contract.sql):
-- bench_request_granted.sql with the PL/pgSQL alternative.  Pair n is
-- device 'dev-n' with the ICCID '8949' || 14-digit n || Luhn digit
-- (computed here), loaded into alt.binding by plpgsql_setup.sql.
\set n random(1, 10000)
\set s 30 + 2 * (:n % 10) - 9 * ((:n % 10) / 5) + (:n / 10) % 10 + 2 * ((:n / 100) % 10) - 9 * (((:n / 100) % 10) / 5) + (:n / 1000) % 10 + 2 * ((:n / 10000) % 10) - 9 * (((:n / 10000) % 10) / 5)
\set cd (10 - :s % 10) % 10
SELECT outcome, ks_local, rand_x, rand_y, expires_at
  FROM alt.request_key('\x6e61662e6578616d706c652e6f72670100000002',
                       'I1U8vpY3qJ0hiuRNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org',
                       '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
                       now() + interval '1 day', 'dev-' || :n,
                       ('8949' || lpad(:n::text, 14, '0') || :cd)::mtcbind.iccid);
