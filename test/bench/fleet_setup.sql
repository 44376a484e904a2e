-- fleet_setup.sql: a database for scripts/bench/run.sh.  mtcbind and
-- pgcrypto, the event log's partitions for today and tomorrow (as a DBA
-- runs mtcbind.maintain_event_log daily; events then land in a day
-- partition, not the default one), and the identities of pair n, by the
-- same rules as the pgbench scripts (fleet_rekey.sql):
--   device 'dev-n', ICCID '8949' || 14-digit n || Luhn digit,
--   IMEI '3' || 13-digit n (+ check digit), IMSI '00' || 13-digit n.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE EXTENSION IF NOT EXISTS mtcbind;

DO $$
BEGIN
    IF to_regprocedure('mtcbind.maintain_event_log(integer)') IS NOT NULL THEN
        PERFORM mtcbind.maintain_event_log(1);
    END IF;
END
$$;

-- The Luhn digit of '8949' || 14-digit n, as arithmetic (no string loop),
-- so that loading ten million pairs stays fast: digits are counted from the
-- right of the body, the odd ones doubled; '8949' adds 30.
CREATE FUNCTION public.fleet_iccid(n bigint) RETURNS mtcbind.iccid
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT ('8949' || lpad(n::text, 14, '0') || ((10 - (30
        + 2 * (n % 10) - 9 * ((n % 10) / 5) + (n / 10) % 10
        + 2 * ((n / 100) % 10) - 9 * (((n / 100) % 10) / 5) + (n / 1000) % 10
        + 2 * ((n / 10000) % 10) - 9 * (((n / 10000) % 10) / 5) + (n / 100000) % 10
        + 2 * ((n / 1000000) % 10) - 9 * (((n / 1000000) % 10) / 5) + (n / 10000000) % 10
        + 2 * ((n / 100000000) % 10) - 9 * (((n / 100000000) % 10) / 5) + (n / 1000000000) % 10
        + 2 * ((n / 10000000000) % 10) - 9 * (((n / 10000000000) % 10) / 5) + (n / 100000000000) % 10
        + 2 * ((n / 1000000000000) % 10) - 9 * (((n / 1000000000000) % 10) / 5) + (n / 10000000000000) % 10
        ) % 10) % 10)::text)::mtcbind.iccid
$$;

CREATE FUNCTION public.fleet_imei(n bigint, prefix text DEFAULT '3') RETURNS mtcbind.imei
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT (prefix || lpad(n::text, 13, '0'))::mtcbind.imei
$$;

CREATE FUNCTION public.fleet_imsi(n bigint) RETURNS mtcbind.imsi
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT ('00' || lpad(n::text, 13, '0'))::mtcbind.imsi
$$;

-- Binds pairs first .. last in one statement, as a superuser's bulk load
-- would (the extension's triggers run: one 'bound' event per pair).
CREATE PROCEDURE public.fleet_load(first bigint, last bigint)
LANGUAGE sql AS $$
    INSERT INTO mtcbind.binding (terminal_id, iccid, imei, imsi)
    SELECT 'dev-' || n, public.fleet_iccid(n), public.fleet_imei(n), public.fleet_imsi(n)
      FROM generate_series(first, last) n;
$$;

-- One request as the pgbench scripts make it, for pair (or new pair) n:
-- kind first_use ('new-n'), rekey ('dev-n') or refusal ('thief-n', IMEI
-- prefix 4).  Used for the probes and checks of run.sh, not for timing.
CREATE FUNCTION public.fleet_request(kind text, n bigint,
                                     OUT outcome text, OUT reason text, OUT ks_local bytea,
                                     OUT rand_x bytea, OUT rand_y bytea)
LANGUAGE sql VOLATILE AS $$
    SELECT r.outcome, r.reason, r.ks_local, r.rand_x, r.rand_y
      FROM mtcbind.request_key('\x6e61662e6578616d706c652e6f72670100000002'::bytea,
                               'I1U8vpY3qJ0hiuRNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org',
                               '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'::bytea,
                               now() + interval '1 day',
                               CASE kind WHEN 'first_use' THEN 'new-' WHEN 'refusal' THEN 'thief-' ELSE 'dev-' END || n,
                               public.fleet_iccid(n),
                               imei => public.fleet_imei(n, CASE kind WHEN 'refusal' THEN '4' ELSE '3' END),
                               imsi => public.fleet_imsi(n)) r
$$;
