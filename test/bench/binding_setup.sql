-- Data for the request_key benchmarks: 10 000 bound pairs, a 10 000-row
-- table for the primary-key floor, and the PL/pgSQL + pgcrypto version of
-- the granted path that a user would otherwise write.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE EXTENSION IF NOT EXISTS mtcbind;

-- Valid ICCIDs built from a number: "8949" + 14 digits + Luhn digit.
CREATE FUNCTION bench_iccid(n bigint) RETURNS mtcbind.iccid LANGUAGE sql IMMUTABLE AS $$
    WITH d AS (SELECT '8949' || lpad(n::text, 14, '0') AS body)
    SELECT (body || ((10 - (SELECT sum(CASE WHEN i % 2 = 1
                                            THEN (2 * substr(reverse(body), i, 1)::int) / 10
                                                 + (2 * substr(reverse(body), i, 1)::int) % 10
                                            ELSE substr(reverse(body), i, 1)::int END)
                              FROM generate_series(1, length(body)) i) % 10) % 10)::text)::mtcbind.iccid
      FROM d
$$;

CREATE TABLE bench_card (n int PRIMARY KEY, iccid mtcbind.iccid NOT NULL);
INSERT INTO bench_card SELECT n, bench_iccid(n) FROM generate_series(1, 10000) n;
INSERT INTO mtcbind.binding (terminal_id, iccid)
    SELECT 'dev-' || n, iccid FROM bench_card;

-- The floor: a primary-key lookup of one row in a 10 000-row table.
CREATE TABLE bench_pk (id int PRIMARY KEY, payload text);
INSERT INTO bench_pk SELECT n, 'dev-' || n FROM generate_series(1, 10000) n;

-- What a user would write instead: the granted path in PL/pgSQL with
-- pgcrypto's hmac() for the TS 33.220 KDF (same layout as mtcbind.ks_local).
CREATE FUNCTION bench_plpgsql_request_key(ks_int_naf bytea, b_tid text, card mtcbind.iccid,
                                          terminal text, OUT outcome text, OUT ks_local bytea,
                                          OUT rand_x bytea, OUT rand_y bytea)
LANGUAGE plpgsql AS $$
DECLARE
    held_terminal text;
    s bytea;
    p bytea;
    params bytea[];
BEGIN
    SELECT b.terminal_id INTO held_terminal FROM mtcbind.binding b
     WHERE b.iccid OPERATOR(pg_catalog.=) card;
    IF held_terminal IS DISTINCT FROM terminal THEN
        outcome := 'rejected';
        RETURN;
    END IF;
    rand_x := gen_random_bytes(16);
    rand_y := gen_random_bytes(16);
    params := ARRAY[convert_to(b_tid, 'UTF8'), convert_to(card::text, 'UTF8'),
                    convert_to(terminal, 'UTF8'), ''::bytea, ''::bytea, rand_x, rand_y];
    s := '\x01'::bytea;
    FOREACH p IN ARRAY params LOOP
        s := s || p || set_byte(set_byte('\x0000'::bytea, 0, length(p) >> 8), 1, length(p) & 255);
    END LOOP;
    ks_local := hmac(s, ks_int_naf, 'sha256');
    outcome := 'granted';
END
$$;
ANALYZE;

-- The floor of a first use: a single-row INSERT into a table with a primary
-- key and two UNIQUE text indexes.
CREATE TABLE bench_insert (id bigserial PRIMARY KEY, a text UNIQUE, b text UNIQUE);
