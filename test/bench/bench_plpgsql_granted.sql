\set n random(1, 10000)
SELECT r.outcome, r.ks_local, r.rand_x, r.rand_y
  FROM bench_card c,
       LATERAL bench_plpgsql_request_key('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
                                         'I1U8vpY3qJ0hiuRNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org',
                                         c.iccid, 'dev-' || :n) r
 WHERE c.n = :n;
