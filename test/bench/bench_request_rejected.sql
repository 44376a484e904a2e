\set n random(1, 10000)
SELECT r.outcome, r.reason
  FROM bench_card c,
       LATERAL mtcbind.request_key('\x6e61662e6578616d706c652e6f72670100000002',
                                   'I1U8vpY3qJ0hiuRNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org',
                                   '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
                                   now() + interval '1 day', 'thief-' || :n, c.iccid) r
 WHERE c.n = :n;
