-- Refusal, each one different: as fleet_refusal.sql, but the device's name
-- carries a random tag, so no two refusals share what was refused (the
-- compact refusal log's worst case: a new code for every refusal).
\set n random(1, :pairs)
\set u random(1, 1000000000000)
\set s 30 + 2 * (:n % 10) - 9 * ((:n % 10) / 5) + (:n / 10) % 10 + 2 * ((:n / 100) % 10) - 9 * (((:n / 100) % 10) / 5) + (:n / 1000) % 10 + 2 * ((:n / 10000) % 10) - 9 * (((:n / 10000) % 10) / 5) + (:n / 100000) % 10 + 2 * ((:n / 1000000) % 10) - 9 * (((:n / 1000000) % 10) / 5) + (:n / 10000000) % 10 + 2 * ((:n / 100000000) % 10) - 9 * (((:n / 100000000) % 10) / 5) + (:n / 1000000000) % 10 + 2 * ((:n / 10000000000) % 10) - 9 * (((:n / 10000000000) % 10) / 5) + (:n / 100000000000) % 10 + 2 * ((:n / 1000000000000) % 10) - 9 * (((:n / 1000000000000) % 10) / 5) + (:n / 10000000000000) % 10
\set cd (10 - :s % 10) % 10
SELECT outcome, reason, binding_id, ks_local, rand_x, rand_y, expires_at
  FROM mtcbind.request_key('\x6e61662e6578616d706c652e6f72670100000002'::bytea,
                           'I1U8vpY3qJ0hiuRNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org',
                           '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'::bytea,
                           now() + interval '1 day', 'thief-' || :n || '-' || :u,
                           ('8949' || lpad(:n::text, 14, '0') || :cd)::mtcbind.iccid,
                           imei => ('4' || lpad(:n::text, 13, '0'))::mtcbind.imei,
                           imsi => ('00' || lpad(:n::text, 13, '0'))::mtcbind.imsi);
