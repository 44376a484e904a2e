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
