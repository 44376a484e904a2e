--
-- The install's own ground: a schema nobody else can own or redirect, a
-- DBA's first query without search_path, audit that does not depend on how
-- a session set itself up, and the constraints the data deserves.
--
SET client_min_messages = warning;
-- A database of its own, so that no other test's rows change what this one sees.
SELECT current_database() AS regress_db \gset
CREATE DATABASE regress_mtcbind_security;
\c regress_mtcbind_security
SET client_min_messages = warning;
CREATE EXTENSION mtcbind;


-- Rule: schema mtcbind is the extension's own, owned by the superuser who
-- installed it, and a database owner who is not a superuser cannot drop,
-- rename or plant objects in it.
SELECT n.nspowner::regrole = e.extowner::regrole AS owned_by_installer,
       (SELECT rolsuper FROM pg_roles WHERE oid = n.nspowner) AS owner_is_superuser,
       EXISTS (SELECT FROM pg_depend d
                WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid
                  AND d.refobjid = e.oid AND d.deptype = 'e') AS member_of_extension
  FROM pg_namespace n, pg_extension e
 WHERE n.nspname = 'mtcbind' AND e.extname = 'mtcbind';
CREATE ROLE regress_dbowner LOGIN;
CREATE DATABASE regress_mtcbind_owned OWNER regress_dbowner;
\c regress_mtcbind_owned
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE EXTENSION mtcbind;
SET ROLE regress_dbowner;
SELECT pg_temp.try($$DROP SCHEMA mtcbind CASCADE$$);
SELECT pg_temp.try($$ALTER SCHEMA mtcbind RENAME TO mtcbind_old$$);
SELECT pg_temp.try($$CREATE FUNCTION mtcbind.planted() RETURNS int LANGUAGE sql AS 'SELECT 1'$$);
SELECT pg_temp.try($$CREATE TABLE mtcbind.planted (x int)$$);
SELECT pg_temp.try($$ALTER TABLE mtcbind.binding RENAME TO binding_old$$);
SELECT pg_temp.try($$DROP EVENT TRIGGER mtcbind_drop_guard$$);
RESET ROLE;

-- Rule: the install refuses a schema mtcbind that someone made before it
-- (here the database owner), rather than installing into it.
DROP EXTENSION mtcbind;
SET ROLE regress_dbowner;
CREATE SCHEMA mtcbind;
RESET ROLE;
SELECT pg_temp.try($$CREATE EXTENSION mtcbind$$);
SELECT count(*) AS installed FROM pg_extension WHERE extname = 'mtcbind';
\c regress_mtcbind_security
DROP DATABASE regress_mtcbind_owned;
DROP ROLE regress_dbowner;
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- Rule: every SECURITY DEFINER function pins search_path to pg_catalog,
-- pg_temp, and is not executable by PUBLIC.  request_key alone pins it in
-- C around the SQL it runs (1.1: its fast path runs none); the rule after
-- this one shows a hostile search_path does not reach that SQL.
SELECT count(*) AS definer_functions,
       count(*) FILTER (WHERE proconfig[1] = 'search_path=pg_catalog, pg_temp') AS pinned,
       count(*) FILTER (WHERE has_function_privilege('public', oid, 'EXECUTE')) AS public_exec,
       string_agg(proname, ', ') FILTER (WHERE proconfig IS NULL) AS pinned_in_c
  FROM pg_proc WHERE pronamespace = 'mtcbind'::regnamespace AND prosecdef;

-- Rule: request_key's SQL (first use, recording an IMEI, a refusal, the
-- key log, the policy) never resolves a name through the caller's
-- search_path, even one that puts a schema before pg_catalog: operators
-- and functions planted there for every mtcbind type are never called.
CREATE SCHEMA regress_evil;
CREATE TABLE regress_evil.calls (what text);
DO $plant$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['mtcbind.imei', 'mtcbind.imeisv', 'mtcbind.iccid', 'mtcbind.imsi', 'text', 'bytea', 'bigint'] LOOP
        EXECUTE format('CREATE FUNCTION regress_evil.spy(%s, %s) RETURNS boolean LANGUAGE plpgsql AS $f$
            BEGIN INSERT INTO regress_evil.calls VALUES (%L || '' as '' || current_user); RETURN false; END $f$', t, t, t);
        EXECUTE format('CREATE OPERATOR regress_evil.= (LEFTARG = %s, RIGHTARG = %s, FUNCTION = regress_evil.spy)', t, t);
        EXECUTE format('CREATE OPERATOR regress_evil.<> (LEFTARG = %s, RIGHTARG = %s, FUNCTION = regress_evil.spy)', t, t);
    END LOOP;
END
$plant$;
SELECT mtcbind.set_policy('max_key_lifetime', '2 days', 'regress: reload the policy under a hostile path');
-- a block of another card: the guard trigger then runs its query
SELECT mtcbind.block_uicc('89441000000000000125', 'regress: the blocklist is not empty') > 0 AS blocked;
SET search_path = regress_evil, pg_catalog, public;
SELECT v.n, r.outcome, r.reason
  FROM (VALUES (1, 'evil-1', '89441000000000000117', NULL, NULL, NULL),
               (2, 'evil-1', '89441000000000000117', '356938035643809', '3569380356438001', '001010000000009'),
               (3, 'evil-2', '89441000000000000117', NULL, NULL, NULL),
               (4, 'evil-1', '89441000000000000117', '356938035643809', '3569380356438002', NULL))
       AS v(n, term, card, imei, imeisv, imsi),
       LATERAL mtcbind.request_key(mtcbind.naf_id('naf.example.org', '\x0100000002'),
           'b@bsf.example.org', '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
           now() + interval '1 day', v.term, v.card::mtcbind.iccid, v.imei::mtcbind.imei,
           v.imeisv::mtcbind.imeisv, v.imsi::mtcbind.imsi) r
 ORDER BY v.n;
-- a DBA's direct INSERT, through the guard trigger's blocklist query
INSERT INTO mtcbind.binding (terminal_id, iccid) VALUES ('evil-3', '89441000000000000133');
RESET search_path;
SELECT count(*) AS planted_calls FROM regress_evil.calls;
SELECT mtcbind.set_policy('max_key_lifetime', NULL, 'regress: done');
DROP SCHEMA regress_evil CASCADE;

-- Rule: a DBA's first ad hoc query works in a session whose search_path
-- does not name mtcbind: the comparison operators live in pg_catalog, and
-- they are the ones the indexes use.
SELECT mtcbind.bind('kiosk-01', '89441000000000000018', imei => '490154203237518') AS kiosk \gset
SET search_path = public;
SELECT binding_id = :kiosk AS found FROM mtcbind.bindings WHERE iccid = '8944 1000 0000 0000 0018';
SELECT binding_id = :kiosk AS found FROM mtcbind.binding WHERE imei = '49-015420-323751-8';
SELECT count(*) AS history FROM mtcbind.binding_event WHERE iccid = '89441000000000000018';
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM mtcbind.binding WHERE iccid = '89441000000000000018';
EXPLAIN (COSTS OFF) SELECT * FROM mtcbind.binding ORDER BY imei LIMIT 1;
RESET enable_seqscan;
-- min and max too
SELECT min(iccid) = '89441000000000000018' AS min_works, max(imei) IS NOT NULL AS max_works FROM mtcbind.binding;
-- SQL written for OPERATOR(mtcbind.=) still runs
SELECT count(*) AS via_schema_operator FROM mtcbind.binding WHERE iccid OPERATOR(mtcbind.=) '89441000000000000018';
RESET search_path;

-- Rule: a direct INSERT is audited however the session set search_path
-- (pg_dump's scripts and hardened sessions empty it), and by a role that
-- was granted only INSERT (a loader), with the loader as the actor.
SELECT pg_catalog.set_config('search_path', '', false);
INSERT INTO mtcbind.binding (terminal_id, iccid) VALUES ('kiosk-02', '89441000000000000026');
SELECT event, terminal_id FROM mtcbind.binding_event WHERE terminal_id = 'kiosk-02';
RESET search_path;
CREATE ROLE regress_loader LOGIN;
GRANT USAGE ON SEQUENCE mtcbind.binding_binding_id_seq TO regress_loader;
GRANT INSERT ON mtcbind.binding TO regress_loader;
SET SESSION AUTHORIZATION regress_loader;
SELECT pg_catalog.set_config('search_path', '', false);
INSERT INTO mtcbind.binding (terminal_id, iccid) VALUES ('kiosk-03', '89441000000000000034');
RESET search_path;
RESET SESSION AUTHORIZATION;
SELECT event, terminal_id, actor FROM mtcbind.binding_event WHERE terminal_id = 'kiosk-03';
-- created_by is the session user's name as it is now: after a rename, the
-- old name is a forgery (the guard keeps the name between rows, and must
-- forget it when a role changes)
ALTER ROLE regress_loader RENAME TO regress_loader_renamed;
SET SESSION AUTHORIZATION regress_loader_renamed;
SELECT pg_temp.try($$INSERT INTO mtcbind.binding (terminal_id, iccid, created_by) VALUES ('kiosk-06', '89441000000000003103', 'regress_loader')$$) AS old_name;
INSERT INTO mtcbind.binding (terminal_id, iccid) VALUES ('kiosk-06', '89441000000000003103');
RESET SESSION AUTHORIZATION;
ALTER ROLE regress_loader_renamed RENAME TO regress_loader;
SET SESSION AUTHORIZATION regress_loader;
SELECT pg_temp.try($$INSERT INTO mtcbind.binding (terminal_id, iccid, created_by) VALUES ('kiosk-07', '89441000000000003111', 'regress_loader_renamed')$$) AS former_name;
RESET SESSION AUTHORIZATION;
SELECT terminal_id, created_by FROM mtcbind.binding WHERE terminal_id IN ('kiosk-06', 'kiosk-07');
-- ... and the loader's next first-use request answers as usual (the
-- sequence was never left behind).
SELECT outcome FROM mtcbind.request_key(mtcbind.naf_id('naf.example.org', '\x0100000002'),
    'b@bsf.example.org', '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
    now() + interval '1 day', 'kiosk-04', '89441000000000000042');
REVOKE ALL ON mtcbind.binding FROM regress_loader;
REVOKE ALL ON SEQUENCE mtcbind.binding_binding_id_seq FROM regress_loader;
DROP ROLE regress_loader;

-- Rule: an IMEISV must belong to the IMEI stored beside it, whoever writes.
SELECT pg_temp.try($$INSERT INTO mtcbind.binding (terminal_id, iccid, imei, imeisv) VALUES ('kiosk-05', '89441000000000000059', '490154203237518', '3512345600000201')$$);
SELECT pg_temp.try($$INSERT INTO mtcbind.binding (terminal_id, iccid, imeisv) VALUES ('kiosk-05', '89441000000000000059', '3512345600000201')$$);
SELECT pg_temp.try($$UPDATE mtcbind.binding SET imeisv = '3512345600000201' WHERE terminal_id = 'kiosk-01'$$);
-- Rule: a transfer authorisation belongs to an existing binding, and goes
-- with it.
SELECT pg_temp.try($$INSERT INTO mtcbind.transfer_authorization (binding_id, iccid, valid_until) VALUES (999999, '89441000000000000018', now() + interval '1 day')$$);
SELECT mtcbind.authorize_transfer('89441000000000000018', 'kiosk-09') > 0 AS authorized;
SELECT mtcbind.unbind('89441000000000000018', 'kiosk dismantled');
SELECT count(*) AS authorizations_left FROM mtcbind.transfer_authorization WHERE iccid = '89441000000000000018';

-- Rule: the identifier types are int8-like in storage (LIKE = int8).
SELECT typname, typlen, typbyval, typalign, typstorage
  FROM pg_type WHERE typnamespace = 'mtcbind'::regnamespace AND typname IN ('imei', 'imeisv', 'iccid', 'imsi')
 ORDER BY typname;

-- Rule: a session's planner settings reach neither the plans of its own
-- requests nor those the backend keeps for its later sessions (under a
-- pooler, other NAFs'): mtcbind plans its statements with fixed settings.
-- A NAF makes every scan but a sequential one look dear and has the plans
-- made anew; its requests (eight re-keyings, so that PostgreSQL also makes
-- the generic plans, a first use, an IMSI recorded, a refusal, with the
-- blocklist not empty) read every table of mtcbind through its indexes,
-- and so does the next request after its transaction.
CREATE ROLE regress_planner_naf;
GRANT mtcbind_naf TO regress_planner_naf;
SELECT mtcbind.bind('planner-1', '89441000000000003012') > 0 AS bound;
CREATE FUNCTION pg_temp.planner_req(term text, card text, imsi text DEFAULT NULL) RETURNS text
LANGUAGE sql AS $$
    SELECT r.outcome || coalesce(' ' || r.reason, '')
      FROM mtcbind.request_key(mtcbind.naf_id('naf.example.org', '\x0100000002'),
           'b@bsf.example.org', '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
           now() + interval '1 day', term, card::mtcbind.iccid, imsi => imsi::mtcbind.imsi) r
$$;
-- Every scan but a sequential one made dear, until the transaction ends.
CREATE FUNCTION pg_temp.hostile_planner() RETURNS void
LANGUAGE sql AS $$
    SELECT set_config('enable_indexscan', 'off', true), set_config('enable_bitmapscan', 'off', true),
           set_config('enable_indexonlyscan', 'off', true), set_config('random_page_cost', '1e12', true),
           set_config('cpu_index_tuple_cost', '1e12', true)
$$;
-- (a first request reads the policy, a whole small table, once per session)
SELECT pg_temp.planner_req('planner-1', '89441000000000003012') AS warm;
BEGIN;
SELECT coalesce(sum(seq_scan), 0) AS scans0
  FROM pg_stat_xact_user_tables WHERE schemaname = 'mtcbind' \gset
SELECT pg_temp.hostile_planner();
SET LOCAL ROLE regress_planner_naf;
DISCARD PLANS;
SELECT n, pg_temp.planner_req('planner-1', '89441000000000003012') FROM generate_series(1, 8) AS n;
SELECT pg_temp.planner_req('planner-2', '89441000000000003020') AS first_use;
SELECT pg_temp.planner_req('planner-1', '89441000000000003012', '001010000000301') AS imsi_recorded;
SELECT pg_temp.planner_req('planner-thief', '89441000000000003012') AS refusal;
SHOW enable_indexscan;
RESET ROLE;
SELECT sum(seq_scan) - :scans0 AS sequential_scans
  FROM pg_stat_xact_user_tables WHERE schemaname = 'mtcbind';
COMMIT;
BEGIN;
SELECT coalesce(sum(seq_scan), 0) AS scans0
  FROM pg_stat_xact_user_tables WHERE schemaname = 'mtcbind' \gset
SELECT pg_temp.planner_req('planner-1', '89441000000000003012') AS next_session;
SELECT sum(seq_scan) - :scans0 AS sequential_scans
  FROM pg_stat_xact_user_tables WHERE schemaname = 'mtcbind';
COMMIT;
-- ... nor the queries PostgreSQL plans on mtcbind's behalf and keeps for
-- the connection as well: the check of the foreign key from
-- transfer_authorization to binding, for each of eight authorisations an
-- administrator gives with the same settings.
CREATE ROLE regress_planner_admin;
GRANT mtcbind_admin TO regress_planner_admin;
BEGIN;
SELECT coalesce(sum(seq_scan), 0) AS scans0
  FROM pg_stat_xact_user_tables WHERE schemaname = 'mtcbind' \gset
SELECT pg_temp.hostile_planner();
SET LOCAL ROLE regress_planner_admin;
DISCARD PLANS;
SELECT count(mtcbind.authorize_transfer('89441000000000003020', 'planner-new-' || n, reason => 'regress'))
    AS authorisations
  FROM generate_series(1, 8) AS n;
RESET ROLE;
SELECT sum(seq_scan) - :scans0 AS sequential_scans
  FROM pg_stat_xact_user_tables WHERE schemaname = 'mtcbind';
COMMIT;
DROP ROLE regress_planner_admin;
-- ... and the PL/pgSQL functions that roles other than a superuser run, or
-- that fire for anyone, keep their plans for the connection too: they run
-- with fixed planner settings, JIT off among them (no function listed).
SELECT p.oid::regprocedure AS function_without_fixed_planner_settings
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'mtcbind'::regnamespace AND l.lanname = 'plpgsql'
   AND (p.proacl IS NULL
        OR p.prorettype = 'event_trigger'::regtype
        OR EXISTS (SELECT FROM aclexplode(p.proacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee
                    WHERE a.grantee = 0 OR NOT r.rolsuper))
   AND NOT coalesce('jit=off' = ANY (p.proconfig), false)
 ORDER BY 1;
SELECT count(*) AS functions_with_fixed_planner_settings
  FROM pg_proc WHERE pronamespace = 'mtcbind'::regnamespace AND 'jit=off' = ANY (proconfig);
DROP ROLE regress_planner_naf;

\c :regress_db
DROP DATABASE regress_mtcbind_security;
