--
-- The event log: compact events that name the NAF, answered by index,
-- partitioned by day, append-only, a retention path that keeps the
-- protection, and a DROP EXTENSION that does not silently destroy it.
--
SET client_min_messages = warning;
\set test_db regress_mtcbind_events
\i sql/include/own_database.sql

-- Requests a key from a given NAF; returns outcome and reason.
CREATE FUNCTION pg_temp.req(naf text, term text, card text, dev_imei text DEFAULT NULL)
RETURNS text LANGUAGE sql AS $$
    SELECT r.outcome || coalesce(' ' || r.reason, '')
      FROM mtcbind.request_key(mtcbind.naf_id(naf, '\x0100000002'),
                               'b@bsf.example.org',
                               '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
                               now() + interval '1 day', term, card, dev_imei) r
$$;

-- Rule: the day partitions are made ahead (UTC days); making them again
-- makes none.
SELECT mtcbind.maintain_event_log(3) AS made;
SELECT mtcbind.maintain_event_log(3) AS made_again;
SELECT count(*) AS day_partitions
  FROM pg_inherits WHERE inhparent = 'mtcbind.binding_event'::regclass
   AND inhrelid::regclass::text LIKE 'mtcbind.binding_event_p%';
SELECT pg_temp.try($$SELECT mtcbind.maintain_event_log(-1)$$);

-- Rule: request events record which NAF key centre asked (two NAFs here).
SELECT pg_temp.req('naf-a.example.org', 'meter-e1', '89441000000000000018', '490154203237518');
SELECT pg_temp.req('naf-b.example.org', 'meter-e1', '89441000000000000018', '490154203237518');
SELECT pg_temp.req('naf-b.example.org', 'thief-e2', '89441000000000000018');
SELECT event, terminal_id,
       convert_from(substring(naf_id FROM 1 FOR length(naf_id) - 5), 'UTF8') AS naf,
       tableoid::regclass::text LIKE 'mtcbind.binding_event_p%' AS in_day_partition
  FROM mtcbind.binding_event WHERE iccid = '89441000000000000018' ORDER BY event_id;

-- Rule: an event holds the identities as columns and only what they do
-- not say as JSON: a key issue or a first binding stays small.
SELECT event, pg_column_size(e.*) < 200 AS under_200_bytes, detail
  FROM mtcbind.binding_event e WHERE iccid = '89441000000000000018' ORDER BY event_id;

-- Rule: the questions a DBA asks (the history of a card, of a device, of an
-- IMEI, one event by id) are answered by indexes on every partition.
SET enable_seqscan = off;
\i sql/include/plan_uses_only_indexes.sql
SELECT pg_temp.plan_uses_only_indexes($$SELECT * FROM mtcbind.binding_event WHERE iccid = '89441000000000000018' ORDER BY occurred_at$$) AS card_history,
       pg_temp.plan_uses_only_indexes($$SELECT * FROM mtcbind.binding_event WHERE terminal_id = 'meter-e1' OR previous_terminal_id = 'meter-e1'$$) AS device_history,
       pg_temp.plan_uses_only_indexes($$SELECT * FROM mtcbind.binding_event WHERE imei = '490154203237518'$$) AS imei_history,
       pg_temp.plan_uses_only_indexes($$SELECT * FROM mtcbind.binding_event WHERE event_id = 42$$) AS by_event_id;
RESET enable_seqscan;

-- Rule: the log is append-only, in every partition, also for its owner.
SELECT pg_temp.try($$UPDATE mtcbind.binding_event SET reason = 'edited'$$);
SELECT pg_temp.try($$DELETE FROM mtcbind.binding_event$$);
SELECT pg_temp.try($$TRUNCATE mtcbind.binding_event$$);
SELECT pg_temp.try($$TRUNCATE mtcbind.binding_event_default$$);
SELECT relname AS partition_name FROM pg_class
 WHERE relname LIKE 'binding_event_p%' AND relnamespace = 'mtcbind'::regnamespace
 ORDER BY relname LIMIT 1 \gset
SELECT pg_temp.try(format('TRUNCATE mtcbind.%I', :'partition_name'));
SELECT pg_temp.try(format('DELETE FROM mtcbind.%I', :'partition_name'));
-- A day partition is an ordinary table (pg_restore --clean would drop it
-- first): dropping one that holds events is refused as well.
SELECT count(*) > 0 AS partition_has_events FROM mtcbind.binding_event WHERE tableoid = format('mtcbind.%I', :'partition_name')::regclass;
SELECT regexp_replace(pg_temp.try(format('DROP TABLE mtcbind.%I', :'partition_name')), 'p[0-9]{8}', 'pYYYYMMDD') AS drop_partition;

-- Rule: retention drops whole day partitions that ended before the cutoff
-- (here one from 2020, made as maintain_event_log would have made it) and
-- deletes older rows from the default partition; newer history stays, and
-- the purge itself is an event.
CREATE TABLE mtcbind.binding_event_p20200101 PARTITION OF mtcbind.binding_event
    FOR VALUES FROM ('2020-01-01 00:00:00+00') TO ('2020-01-02 00:00:00+00');
SELECT mtcbind._prepare_event_partition('binding_event_p20200101');
INSERT INTO mtcbind.binding_event (occurred_at, event, reason)
SELECT '2020-01-01 12:00:00+00', 'rejected', 'uicc_bound_elsewhere' FROM generate_series(1, 5);
INSERT INTO mtcbind.binding_event (occurred_at, event, reason)
SELECT '2019-06-01 12:00:00+00', 'rejected', 'device_bound_elsewhere' FROM generate_series(1, 3);
SELECT count(*) AS events_before FROM mtcbind.binding_event \gset
SELECT mtcbind.purge_events('365 days', 'retention: one year') AS removed;
SELECT count(*) = :events_before - 8 + 1 AS only_old_ones_gone FROM mtcbind.binding_event;
SELECT to_regclass('mtcbind.binding_event_p20200101') IS NULL AS old_partition_dropped;
-- The partition bounds are read the same whatever the session's DateStyle
-- and TimeZone (some zone abbreviations do not read back at all).
SET DateStyle = 'Postgres, DMY';
SET TimeZone = 'Pacific/Guam';
CREATE TABLE mtcbind.binding_event_p20200701 PARTITION OF mtcbind.binding_event
    FOR VALUES FROM ('2020-07-01 00:00:00+00') TO ('2020-07-02 00:00:00+00');
SELECT mtcbind._prepare_event_partition('binding_event_p20200701');
INSERT INTO mtcbind.binding_event (occurred_at, event, reason)
SELECT '2020-07-01 12:00:00+00', 'rejected', 'uicc_bound_elsewhere' FROM generate_series(1, 2);
SELECT mtcbind.purge_events('365 days', 'retention under another DateStyle') AS removed;
SELECT to_regclass('mtcbind.binding_event_p20200701') IS NULL AS summer_partition_dropped;
SELECT mtcbind.maintain_event_log(1) >= 0 AS maintained;
RESET DateStyle;
RESET TimeZone;
SELECT reason, detail->'partitions_dropped' AS dropped, detail->'events_removed' AS removed
  FROM mtcbind.binding_event WHERE event = 'events_purged';
-- With kinds, only those kinds go (the clean-up after a flood of refusals).
SELECT pg_temp.req('naf-b.example.org', 'thief-e3', '89441000000000000018');
SELECT mtcbind.purge_events('0', 'flood from a rogue NAF client', '{rejected}') AS refusals_removed;
SELECT count(*) FILTER (WHERE event = 'rejected') AS refusals_left,
       count(*) FILTER (WHERE event = 'bound') AS bindings_kept
  FROM mtcbind.binding_event;
-- Bad arguments.
SELECT pg_temp.try($$SELECT mtcbind.purge_events('-1 day', 'x')$$);
SELECT pg_temp.try($$SELECT mtcbind.purge_events('1 day', NULL)$$);
SELECT pg_temp.try($$SELECT mtcbind.purge_events('1 day', 'x', '{bound,nonsense}')$$);
SELECT pg_temp.try($$SELECT mtcbind._delete_events('mtcbind.binding', now(), NULL)$$);
-- Only a superuser purges (or whoever a superuser grants it to).
SELECT has_function_privilege('mtcbind_admin', 'mtcbind.purge_events(interval, text, text[])', 'EXECUTE') AS admin_purges,
       has_function_privilege('mtcbind_admin', 'mtcbind.maintain_event_log(integer)', 'EXECUTE') AS admin_maintains;

-- Rule: DROP EXTENSION does not silently delete bindings and their history.
SELECT pg_temp.try($$DROP EXTENSION mtcbind$$);
SELECT pg_temp.try($$DROP EXTENSION mtcbind CASCADE$$);
SELECT count(*) AS still_installed FROM pg_extension WHERE extname = 'mtcbind';
-- ... also with session_replication_role = replica (the setting of a
-- restore, where pg_restore --clean drops the extension first).
SET session_replication_role = replica;
SELECT pg_temp.try($$DROP EXTENSION mtcbind$$);
RESET session_replication_role;
-- ... nor through the other ways to the same end: a CASCADE from
-- something mtcbind depends on, releasing a member table so it can be
-- dropped alone, or detaching a day of events from the append-only log.
SELECT pg_temp.try($$DROP EXTENSION plpgsql CASCADE$$);
SELECT pg_temp.try($$DROP LANGUAGE plpgsql CASCADE$$);
SELECT pg_temp.try($$ALTER EXTENSION mtcbind DROP TABLE mtcbind.blocklist$$);
SELECT pg_temp.try($$DROP TABLE mtcbind.blocklist CASCADE$$);
SELECT pg_temp.try(format('ALTER TABLE mtcbind.binding_event DETACH PARTITION mtcbind.%I', :'partition_name'));
SELECT count(*) AS still_installed FROM pg_extension WHERE extname IN ('mtcbind', 'plpgsql');
-- Other extensions drop as usual, with CASCADE too when nothing of mtcbind
-- depends on them, also for a non-superuser (the guard reads mtcbind's
-- tables with its own rights).
CREATE EXTENSION pgcrypto;
DROP EXTENSION pgcrypto;
CREATE ROLE regress_ext_owner;
SELECT format('GRANT CREATE ON DATABASE %I TO regress_ext_owner', current_database()) \gexec
SET ROLE regress_ext_owner;
CREATE EXTENSION pgcrypto;
SELECT pg_temp.try($$DROP EXTENSION pgcrypto CASCADE$$) AS non_superuser_drop;
RESET ROLE;
SELECT format('REVOKE CREATE ON DATABASE %I FROM regress_ext_owner', current_database()) \gexec
DROP ROLE regress_ext_owner;

-- Rule: DROP OWNED BY the role that installed mtcbind (the usual way to
-- remove a role) would drop the extension with its data: refused too.
CREATE ROLE regress_mtcbind_installer SUPERUSER NOLOGIN;
CREATE DATABASE regress_mtcbind_owned;
\c regress_mtcbind_owned
SET client_min_messages = warning;
SET ROLE regress_mtcbind_installer;
CREATE EXTENSION mtcbind;
SELECT mtcbind.bind('meter-o1', '89441000000000000018') > 0 AS bound;
RESET ROLE;
DROP OWNED BY regress_mtcbind_installer;
SELECT count(*) AS still_installed FROM pg_extension WHERE extname = 'mtcbind';
\c :test_db
DROP DATABASE regress_mtcbind_owned;
DROP ROLE regress_mtcbind_installer;

\c :regress_db
DROP DATABASE :"test_db";
