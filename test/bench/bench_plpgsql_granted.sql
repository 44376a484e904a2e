-- The granted path as a user would write it in PL/pgSQL with pgcrypto.
\set n random(1, 10000)
\set s 30 + 2 * (:n % 10) - 9 * ((:n % 10) / 5) + (:n / 10) % 10 + 2 * ((:n / 100) % 10) - 9 * (((:n / 100) % 10) / 5) + (:n / 1000) % 10 + 2 * ((:n / 10000) % 10) - 9 * (((:n / 10000) % 10) / 5)
\set cd (10 - :s % 10) % 10
SELECT outcome, ks_local, rand_x, rand_y
  FROM bench_plpgsql_request_key('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
                                 'I1U8vpY3qJ0hiuRNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org',
                                 ('8949' || lpad(:n::text, 14, '0') || :cd)::mtcbind.iccid, 'dev-' || :n);
