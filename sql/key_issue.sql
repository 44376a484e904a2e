--
-- The compact key-issue log (1.1): with mtcbind.key_issue_log = compact an
-- issued key is a narrow row of mtcbind.key_issue, whose NAF and session
-- user are a code of mtcbind.key_issuer; mtcbind.key_issues shows the key
-- issues of both logs, with the device the binding had at the time.
--
SET client_min_messages = warning;
\set test_db regress_mtcbind_key_issue
\i sql/include/own_database.sql

-- Requests a key from a NAF; returns outcome, reason and expiry.
CREATE FUNCTION pg_temp.req(naf text, term text, card text)
RETURNS text LANGUAGE sql AS $$
    SELECT r.outcome || coalesce(' ' || r.reason, '')
      FROM mtcbind.request_key(mtcbind.naf_id(naf, '\x0100000002'),
                               'b@bsf.example.org',
                               '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
                               now() + interval '1 day', term, card) r
$$;
CREATE FUNCTION pg_temp.naf(naf_id bytea) RETURNS text LANGUAGE sql AS $$
    SELECT convert_from(substring(naf_id FROM 1 FOR length(naf_id) - 5), 'UTF8')
$$;
CREATE TEMP VIEW issued AS
SELECT k.binding_id, k.iccid, k.terminal_id, pg_temp.naf(k.naf_id) AS naf,
       k.actor = session_user AS by_me, k.logged_in
  FROM mtcbind.key_issues k;

-- Rule: the setting is a superuser's (a NAF cannot choose where its keys
-- are recorded), and takes only its two values.
SHOW mtcbind.key_issue_log;
SET ROLE mtcbind_naf;
SELECT pg_temp.try($$SET mtcbind.key_issue_log = compact$$);
RESET ROLE;
SELECT pg_temp.try($$SET mtcbind.key_issue_log = tiny$$);

-- Rule: maintain_event_log makes the day partitions of both logs, counted
-- by day; again, none.
SELECT mtcbind.maintain_event_log(2) AS days_made;
SELECT mtcbind.maintain_event_log(2) AS days_made_again;
-- ... also for mtcbind_admin, the role of a daily job.
CREATE ROLE regress_ki_admin IN ROLE mtcbind_admin;
SET ROLE regress_ki_admin;
SELECT mtcbind.maintain_event_log(3) AS days_made_by_admin;
RESET ROLE;
DROP ROLE regress_ki_admin;
SELECT count(*) AS key_issue_day_partitions
  FROM pg_inherits WHERE inhparent = 'mtcbind.key_issue'::regclass
   AND inhrelid::regclass::text LIKE 'mtcbind.key\_issue\_p%';

-- Rule: in compact mode a key issue writes no key_issued event but one row
-- of key_issue, in the day's partition; the first use's 'bound' event is
-- written as before.  The view shows it with its NAF, session user,
-- device and the answer's own expiry.
SET mtcbind.key_issue_log = compact;
SELECT r.outcome, r.expires_at AS first_expiry
  FROM mtcbind.request_key(mtcbind.naf_id('naf-a.example.org', '\x0100000002'), 'b@bsf.example.org',
                           '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
                           now() + interval '1 day', 'meter-k1', '89441000000000000018') r \gset
SELECT :'outcome' AS outcome;
SELECT event FROM mtcbind.binding_event WHERE iccid = '89441000000000000018' ORDER BY event_id;
SELECT count(*) AS key_rows,
       bool_and(tableoid::regclass::text LIKE 'mtcbind.key\_issue\_p%') AS in_day_partition,
       bool_and(expires_at = :'first_expiry'::timestamptz) AS expiry_as_answered
  FROM mtcbind.key_issue;
SELECT binding_id = (SELECT binding_id FROM mtcbind.binding WHERE terminal_id = 'meter-k1') AS right_binding,
       iccid, terminal_id, naf, by_me, logged_in
  FROM issued;

-- Rule: one code per NAF and session user, made once: a re-key from a
-- second NAF makes the second code, later re-keys reuse them.
SELECT pg_temp.req('naf-b.example.org', 'meter-k1', '89441000000000000018');
SELECT pg_temp.req('naf-a.example.org', 'meter-k1', '89441000000000000018');
SELECT pg_temp.req('naf-b.example.org', 'meter-k1', '89441000000000000018');
SELECT pg_temp.naf(naf_id) AS naf, actor = session_user AS by_me FROM mtcbind.key_issuer ORDER BY issuer;
SELECT naf, count(*) AS keys FROM issued GROUP BY naf ORDER BY naf;

-- Rule: a code is used only while its last day of use (UTC) is today: a
-- code last used long ago is moved on by the next key, not replaced.
INSERT INTO mtcbind.key_issuer (naf_id, actor, last_used)
VALUES (mtcbind.naf_id('naf-e.example.org', '\x0100000002'), session_user, '2020-01-01');
SELECT pg_temp.req('naf-e.example.org', 'meter-k1', '89441000000000000018');
SELECT count(*) AS naf_e_codes,
       bool_and(last_used = (now() AT TIME ZONE 'UTC')::date) AS moved_to_today,
       (SELECT count(*) FROM mtcbind.key_issue k WHERE k.issuer = min(i.issuer)) AS its_keys
  FROM mtcbind.key_issuer i WHERE naf_id = mtcbind.naf_id('naf-e.example.org', '\x0100000002');

-- Rule: a row of key_issue is narrow (a 24-byte header, 40 bytes of data).
SELECT max(pg_column_size(k.*)) <= 64 AS at_most_64_bytes FROM mtcbind.key_issue k;

-- Rule: refusals are events as before, in either mode.
SELECT pg_temp.req('naf-a.example.org', 'thief-k2', '89441000000000000018');
SELECT count(*) AS refusals FROM mtcbind.binding_event WHERE event = 'rejected';

-- Rule: a rollback takes the key's row and a code made for it alike; a
-- savepoint rolled back, the same; nothing is left half-recorded.
BEGIN;
SELECT pg_temp.req('naf-c.example.org', 'meter-k1', '89441000000000000018');
ROLLBACK;
BEGIN;
SAVEPOINT s;
SELECT pg_temp.req('naf-d.example.org', 'meter-k1', '89441000000000000018');
ROLLBACK TO SAVEPOINT s;
SELECT pg_temp.req('naf-d.example.org', 'meter-k1', '89441000000000000018');
COMMIT;
SELECT pg_temp.naf(naf_id) AS naf FROM mtcbind.key_issuer ORDER BY issuer;
SELECT naf, count(*) AS keys FROM issued GROUP BY naf ORDER BY naf;

-- Rule: with log_key_issue off nothing is recorded, in either mode.
SET mtcbind.log_key_issue = off;
SELECT count(*) AS keys_before FROM mtcbind.key_issue \gset
SELECT pg_temp.req('naf-a.example.org', 'meter-k1', '89441000000000000018');
SELECT count(*) = :keys_before AS nothing_recorded FROM mtcbind.key_issue;
RESET mtcbind.log_key_issue;

-- Rule: the view shows the device a key went to, also after the binding
-- moved to another device, and after the 'bound' event that named the
-- first one is gone; and key issues logged as events beside.  Retention by
-- kind does not remove the moves that tell the devices of compact key
-- issues it keeps.
SELECT mtcbind.rebind('89441000000000000018', 'meter-k1-new', 'device replaced');
SELECT pg_temp.req('naf-a.example.org', 'meter-k1-new', '89441000000000000018');
SET mtcbind.key_issue_log = events;
SELECT pg_temp.req('naf-a.example.org', 'meter-k1-new', '89441000000000000018');
SET mtcbind.key_issue_log = compact;
SELECT terminal_id, logged_in, count(*) AS keys FROM issued GROUP BY 1, 2 ORDER BY 1, 2;
SELECT pg_temp.try($$SELECT mtcbind.purge_events('0', 'test: forget the moves', '{bound,rebound}')$$);
-- (the internal delete goes past that rule, as missed maintenance can)
SELECT mtcbind._delete_events('mtcbind.binding_event', now(), '{bound}') AS bound_events_removed;
SELECT terminal_id, logged_in, count(*) AS keys FROM issued GROUP BY 1, 2 ORDER BY 1, 2;

-- Rule: the keys of a card are found by index, in both logs.
SET enable_seqscan = off;
\i sql/include/plan_uses_only_indexes.sql
SELECT pg_temp.plan_uses_only_indexes(
    $$SELECT * FROM mtcbind.key_issues WHERE iccid = '89441000000000000018' AND issued_at > now() - interval '1 day'$$)
    AS card_by_index;
RESET enable_seqscan;

-- Rule: the compact log is append-only like the event log: rows, the
-- codes, a partition, by UPDATE, DELETE or TRUNCATE.
SELECT inhrelid::regclass::text AS day_partition FROM pg_inherits
 WHERE inhparent = 'mtcbind.key_issue'::regclass
   AND inhrelid::regclass::text LIKE 'mtcbind.key\_issue\_p%' LIMIT 1 \gset
SELECT pg_temp.try($$UPDATE mtcbind.key_issue SET expires_at = now() + interval '10 years'$$);
SELECT pg_temp.try($$DELETE FROM mtcbind.key_issue$$);
SELECT pg_temp.try(format('DELETE FROM %s', :'day_partition'));
SELECT regexp_replace(pg_temp.try(format('TRUNCATE %s', :'day_partition')), 'p[0-9]{8}', 'pYYYYMMDD') AS truncate_partition;
SELECT pg_temp.try($$TRUNCATE mtcbind.key_issue$$);
SELECT pg_temp.try($$UPDATE mtcbind.key_issuer SET actor = 'someone else'$$);
SELECT pg_temp.try($$DELETE FROM mtcbind.key_issuer$$);
SELECT pg_temp.try($$TRUNCATE mtcbind.key_issuer$$);
SELECT regexp_replace(pg_temp.try(format('ALTER TABLE mtcbind.key_issue DETACH PARTITION %s', :'day_partition')),
                      'p[0-9]{8}', 'pYYYYMMDD') AS detach_partition;
SELECT regexp_replace(pg_temp.try(format('DROP TABLE %s', :'day_partition')), 'p[0-9]{8}', 'pYYYYMMDD') AS drop_partition;

-- Rule: DROP TABLE of either log itself, or of the view, is answered (the
-- guard looks into every partition), never a crashed backend ...
SELECT pg_temp.try($$DROP TABLE mtcbind.key_issue$$);
SELECT pg_temp.try($$DROP TABLE mtcbind.binding_event$$);
SELECT pg_temp.try($$DROP TABLE mtcbind.key_issues$$);
-- ... and a role that does not own the tables gets PostgreSQL's refusal,
-- not the guard's account of what they hold.
CREATE ROLE regress_ki_stranger;
SET ROLE regress_ki_stranger;
SELECT regexp_replace(pg_temp.try(format('DROP TABLE %s', :'day_partition')), 'p[0-9]{8}', 'pYYYYMMDD') AS stranger_drops_partition;
SELECT pg_temp.try($$DROP TABLE mtcbind.key_issue$$) AS stranger_drops_log;
SELECT pg_temp.try($$ALTER TABLE mtcbind.key_issue DETACH PARTITION mtcbind.key_issue_default$$) AS stranger_detaches;
RESET ROLE;
DROP ROLE regress_ki_stranger;

-- Rule: who reads it: the auditor and the admin, not a NAF, not PUBLIC.
SELECT has_table_privilege('mtcbind_auditor', 'mtcbind.key_issues', 'SELECT') AS auditor_reads_view,
       has_table_privilege('mtcbind_auditor', 'mtcbind.key_issue', 'SELECT') AS auditor_reads_log,
       has_table_privilege('mtcbind_admin', 'mtcbind.key_issues', 'SELECT') AS admin_reads_view,
       has_table_privilege('mtcbind_admin', 'mtcbind.key_issue', 'INSERT') AS admin_inserts,
       has_table_privilege('mtcbind_naf', 'mtcbind.key_issue', 'SELECT') AS naf_reads,
       has_table_privilege('public', 'mtcbind.key_issuer', 'SELECT') AS public_reads;
SET ROLE mtcbind_auditor;
SELECT count(*) > 0 AS auditor_sees_keys FROM mtcbind.key_issues WHERE terminal_id IS NOT NULL;
RESET ROLE;

-- Rule: retention covers the compact log: whole old day partitions go
-- (here one from 2020), old rows of its default partition are deleted,
-- kinds '{key_issued}' takes key issues from both logs, other kinds none
-- of them; the purge records what it removed.
CREATE TABLE mtcbind.key_issue_p20200101 PARTITION OF mtcbind.key_issue
    FOR VALUES FROM ('2020-01-01 00:00:00+00') TO ('2020-01-02 00:00:00+00');
SELECT mtcbind._prepare_key_issue_partition('key_issue_p20200101');
INSERT INTO mtcbind.key_issue (binding_id, iccid, issued_at, expires_at, issuer)
SELECT 1, '89441000000000000018', '2020-01-01 12:00:00+00', '2020-01-02 12:00:00+00', 1 FROM generate_series(1, 4);
INSERT INTO mtcbind.key_issue (binding_id, iccid, issued_at, expires_at, issuer)
SELECT 1, '89441000000000000018', '2019-06-01 12:00:00+00', '2019-06-02 12:00:00+00', 1 FROM generate_series(1, 3);
-- and a code last used before the cutoff's day (a NAF_Id sent once, long
-- ago) goes with them; codes in use stay.
INSERT INTO mtcbind.key_issuer (naf_id, actor, last_used)
VALUES ('\x6f6e6365', 'someone', '2020-01-01');
SELECT count(*) AS codes_before FROM mtcbind.key_issuer \gset
SELECT count(*) AS keys_before FROM mtcbind.key_issue \gset
SELECT mtcbind.purge_events('365 days', 'retention: one year') AS removed;
SELECT count(*) = :codes_before - 1 AS old_code_gone,
       NOT EXISTS (SELECT FROM mtcbind.key_issuer WHERE actor = 'someone') AS it_was_that_one
  FROM mtcbind.key_issuer;
SELECT count(*) = :keys_before - 7 AS only_old_keys_gone FROM mtcbind.key_issue;
SELECT to_regclass('mtcbind.key_issue_p20200101') IS NULL AS old_partition_dropped;
SELECT detail->'partitions_dropped' AS dropped, detail->'events_removed' AS removed,
       detail->'issuer_codes_removed' AS codes_removed
  FROM mtcbind.binding_event WHERE event = 'events_purged' ORDER BY event_id DESC LIMIT 1;
SELECT mtcbind.purge_events('0', 'refusals only', '{rejected}') >= 1 AS refusals_removed;
SELECT count(*) = :keys_before - 7 AS key_issues_kept FROM mtcbind.key_issue;
SELECT mtcbind.purge_events('0', 'all key issues', '{key_issued}') AS keys_removed;
SELECT count(*) AS key_issues_left FROM mtcbind.key_issues;
SELECT pg_temp.try($$SELECT mtcbind._delete_events('mtcbind.key_issue', now(), '{rejected}')$$);

-- Rule: DROP EXTENSION is refused while the compact log alone holds rows,
SELECT pg_temp.req('naf-a.example.org', 'meter-k1-new', '89441000000000000018');
SELECT mtcbind.unbind('89441000000000000018', 'test: card retired');
-- The binding is gone: the device of its key comes from the unbind event
-- (here the only event left that names it), or from the binding's last move
-- before the key; with neither left, it is unknown.
SELECT mtcbind._delete_events('mtcbind.binding_event', now(), '{bound,rebound}') AS move_events_removed;
SELECT terminal_id, logged_in FROM issued;
SELECT mtcbind._delete_events('mtcbind.binding_event', now(), '{unbound}') AS unbind_events_removed;
SELECT terminal_id, logged_in FROM issued;
SELECT pg_temp.try($$SELECT mtcbind._delete_events('mtcbind.binding_event', now(), NULL)$$);
SELECT count(*) AS events_left FROM mtcbind.binding_event;
SELECT pg_temp.try($$DROP EXTENSION mtcbind$$);
-- ... and while only issuer codes remain: archived key issues refer to them.
SELECT pg_temp.try($$SELECT mtcbind._delete_events('mtcbind.key_issue', now(), NULL)$$);
SELECT count(*) AS key_issues_left, (SELECT count(*) FROM mtcbind.key_issuer) AS codes FROM mtcbind.key_issue;
SELECT pg_temp.try($$DROP EXTENSION mtcbind$$);

\c :regress_db
DROP DATABASE :"test_db";
