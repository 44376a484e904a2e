-- A first use through alt.request_key (plpgsql_contract.sql):
-- bench_request_bound.sql with the PL/pgSQL alternative.  A new device
-- with a new UICC, bound on the spot; n is drawn from 10^13 values so that
-- repeats are rare; the ICCID is '8949' || 14-digit n || Luhn digit,
-- computed here.
\set n random(100000, 9999999999999)
\set s 30 + 2 * ((:n / 1) % 10) - 9 * (((:n / 1) % 10) / 5) + ((:n / 10) % 10) + 2 * ((:n / 100) % 10) - 9 * (((:n / 100) % 10) / 5) + ((:n / 1000) % 10) + 2 * ((:n / 10000) % 10) - 9 * (((:n / 10000) % 10) / 5) + ((:n / 100000) % 10) + 2 * ((:n / 1000000) % 10) - 9 * (((:n / 1000000) % 10) / 5) + ((:n / 10000000) % 10) + 2 * ((:n / 100000000) % 10) - 9 * (((:n / 100000000) % 10) / 5) + ((:n / 1000000000) % 10) + 2 * ((:n / 10000000000) % 10) - 9 * (((:n / 10000000000) % 10) / 5) + ((:n / 100000000000) % 10) + 2 * ((:n / 1000000000000) % 10) - 9 * (((:n / 1000000000000) % 10) / 5) + ((:n / 10000000000000) % 10)
\set cd (10 - :s % 10) % 10
SELECT outcome
  FROM alt.request_key('\x6e61662e6578616d706c652e6f72670100000002',
                       'I1U8vpY3qJ0hiuRNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org',
                       '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
                       now() + interval '1 day', 'new-' || :n,
                       ('8949' || lpad(:n::text, 14, '0') || :cd)::mtcbind.iccid);
