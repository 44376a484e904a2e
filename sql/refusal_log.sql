--
-- The compact refusal log (1.1): with mtcbind.refusal_log = compact a
-- refusal is a narrow row of mtcbind.refusal (its time and a code); the
-- code, a row of mtcbind.refusal_subject, holds what was refused and why,
-- once for every repeat.  mtcbind.refusals shows the refusals of both logs.
--
SET client_min_messages = warning;
\set test_db regress_mtcbind_refusal_log
\i sql/include/own_database.sql

-- Requests a key from a NAF; returns outcome and reason.
CREATE FUNCTION pg_temp.req(naf text, term text, card text, imei text DEFAULT NULL,
                            imsi text DEFAULT NULL, imeisv text DEFAULT NULL)
RETURNS text LANGUAGE sql AS $$
    SELECT r.outcome || coalesce(' ' || r.reason, '')
      FROM mtcbind.request_key(mtcbind.naf_id(naf, '\x0100000002'),
                               'b@bsf.example.org',
                               '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
                               now() + interval '1 day', term, card::mtcbind.iccid,
                               imei => imei::mtcbind.imei, imsi => imsi::mtcbind.imsi,
                               imeisv => imeisv::mtcbind.imeisv) r
$$;
CREATE FUNCTION pg_temp.naf(naf_id bytea) RETURNS text LANGUAGE sql AS $$
    SELECT convert_from(substring(naf_id FROM 1 FOR length(naf_id) - 5), 'UTF8')
$$;
-- What a reader sees of a refusal, whichever log holds it.
CREATE TEMP VIEW seen AS
SELECT r.iccid, r.terminal_id, r.imei, r.imsi, r.imeisv, r.reason,
       r.binding_id, r.device_binding_id, r.uicc_binding_id, r.block_id,
       pg_temp.naf(r.naf_id) AS naf, r.actor = session_user AS by_me
  FROM mtcbind.refusals r;

-- Rule: the setting is a superuser's (a NAF cannot choose where its
-- refusals are recorded, or hide them), and takes only its two values.
SHOW mtcbind.refusal_log;
SET ROLE mtcbind_naf;
SELECT pg_temp.try($$SET mtcbind.refusal_log = compact$$);
RESET ROLE;
SELECT pg_temp.try($$SET mtcbind.refusal_log = none$$);
SELECT name, setting, in_effect FROM mtcbind.settings() WHERE name = 'refusal_log';

-- Rule: maintain_event_log makes the day partitions of the refusal log too.
SELECT mtcbind.maintain_event_log(2) AS days_made;
SELECT count(*) AS refusal_day_partitions
  FROM pg_inherits WHERE inhparent = 'mtcbind.refusal'::regclass
   AND inhrelid::regclass::text LIKE 'mtcbind.refusal\_p%';

-- Bindings to be refused against: a card and a device, and a blocked card.
SELECT pg_temp.req('naf-a.example.org', 'meter-r1', '89441000000000000018', '490154203237518', '001010000000001');
SELECT pg_temp.req('naf-a.example.org', 'meter-r2', '89441000000000000026');
SELECT mtcbind.block_uicc('89441000000000000034', 'test: card reported stolen') IS NOT NULL AS blocked;

-- Rule: the same refusal recorded in either log reads the same through the
-- view: presented identities (IMEISV included), reason, the bindings in the
-- way, NAF and session user; only where it is kept differs.
SELECT pg_temp.req('naf-a.example.org', 'thief-1', '89441000000000000018',
                   '356938035643809', '001019999999999', '3569380356438091');
SET mtcbind.refusal_log = compact;
SELECT pg_temp.req('naf-a.example.org', 'thief-1', '89441000000000000018',
                   '356938035643809', '001019999999999', '3569380356438091');
SELECT count(*) AS rejected_events FROM mtcbind.binding_event WHERE event = 'rejected';
SELECT count(*) AS compact_rows,
       bool_and(tableoid::regclass::text LIKE 'mtcbind.refusal\_p%') AS in_day_partition
  FROM mtcbind.refusal;
SELECT (SELECT count(*) FROM (SELECT DISTINCT * FROM seen) d) AS distinct_refusals_seen,
       (SELECT count(*) FROM seen) AS refusals_seen;
SELECT iccid, terminal_id, imei, imsi, imeisv, reason, binding_id IS NOT NULL AS names_binding,
       uicc_binding_id = binding_id AS card_holder, device_binding_id, block_id, naf, by_me
  FROM seen LIMIT 1;
SELECT logged_in, event_id IS NOT NULL AS has_event_id, subject IS NOT NULL AS has_subject
  FROM mtcbind.refusals ORDER BY refused_at;

-- Rule: a repeat names the same code: a row of refusal, no new code.  A
-- refusal that differs in anything -- the device, an identity present or
-- absent, the reason, the NAF -- gets its own code; absent identities
-- compare as equal (two refusals without an IMEI share a code).
SELECT pg_temp.req('naf-a.example.org', 'thief-1', '89441000000000000018',
                   '356938035643809', '001019999999999', '3569380356438091');
SELECT pg_temp.req('naf-a.example.org', 'thief-2', '89441000000000000018');
SELECT pg_temp.req('naf-a.example.org', 'thief-2', '89441000000000000018');
SELECT pg_temp.req('naf-a.example.org', 'thief-2', '89441000000000000018', '356938035643809');
SELECT pg_temp.req('naf-b.example.org', 'thief-2', '89441000000000000018');
SELECT pg_temp.req('naf-a.example.org', 'meter-r2', '89441000000000000018');
SELECT pg_temp.req('naf-a.example.org', 'thief-3', '89441000000000000034');
SELECT pg_temp.req('naf-a.example.org', 'thief-3', '89441000000000000034');
SELECT s.terminal_id, s.imei IS NOT NULL AS with_imei, pg_temp.naf(s.naf_id) AS naf, s.reason,
       s.device_binding_id IS NOT NULL AS names_device_holder, s.block_id IS NOT NULL AS names_block,
       (SELECT count(*) FROM mtcbind.refusal r WHERE r.subject = s.subject) AS refusals
  FROM mtcbind.refusal_subject s ORDER BY s.subject;

-- Rule: a refusal finds its code by its card and fingerprint, in one index
-- probe, however many codes its card and device have: after 300 kinds of
-- refusal of one card and device (a client varying the IMSI), one more
-- reads a row or two of refusal_subject, not 300 per lookup.
DO $$
BEGIN
    FOR i IN 1..300 LOOP
        PERFORM pg_temp.req('naf-a.example.org', 'thief-flood', '89441000000000000018',
                            imsi => '00101' || lpad(i::text, 10, '0'));
    END LOOP;
END $$;
-- (The session's counters, read before and after in one transaction: they
-- also hold what earlier statements read until they are reported.)
BEGIN;
SELECT idx_tup_fetch AS fetched0, seq_scan AS scans0
  FROM pg_stat_xact_user_tables WHERE relid = 'mtcbind.refusal_subject'::regclass \gset
SELECT pg_temp.req('naf-a.example.org', 'thief-flood', '89441000000000000018', imsi => '001019999999999');
SELECT idx_tup_fetch - :fetched0 <= 3 AS few_codes_read, seq_scan = :scans0 AS no_scan
  FROM pg_stat_xact_user_tables WHERE relid = 'mtcbind.refusal_subject'::regclass;
COMMIT;
SELECT count(*) AS flood_codes FROM mtcbind.refusal_subject WHERE terminal_id = 'thief-flood';
-- ... also for a session whose planner settings make every scan but a
-- sequential one look dear, with the plans made anew: the lookups are
-- planned with settings of their own, and leave the session's as they were.
DISCARD PLANS;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SET random_page_cost = 1e12;
SET cpu_index_tuple_cost = 1e12;
BEGIN;
SELECT idx_tup_fetch AS fetched0, seq_scan AS scans0
  FROM pg_stat_xact_user_tables WHERE relid = 'mtcbind.refusal_subject'::regclass \gset
SELECT pg_temp.req('naf-a.example.org', 'thief-flood', '89441000000000000018', imsi => '001019999999998');
SELECT idx_tup_fetch - :fetched0 <= 3 AS few_codes_read, seq_scan = :scans0 AS no_scan
  FROM pg_stat_xact_user_tables WHERE relid = 'mtcbind.refusal_subject'::regclass;
COMMIT;
SHOW enable_indexscan;
SHOW enable_seqscan;
SHOW random_page_cost;
RESET enable_indexscan;
RESET enable_bitmapscan;
RESET random_page_cost;
RESET cpu_index_tuple_cost;
-- The fingerprint depends on every column, an absent one included.
SELECT count(DISTINCT f) AS distinct_fingerprints FROM (VALUES
    (mtcbind._refusal_fingerprint('89441000000000000018', 'a', 'r', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'u')),
    (mtcbind._refusal_fingerprint('89441000000000000018', 'a', 'r', NULL, NULL, NULL, NULL, NULL, NULL, NULL, '\x', 'u')),
    (mtcbind._refusal_fingerprint('89441000000000000018', 'a', 'r', NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 'u')),
    (mtcbind._refusal_fingerprint('89441000000000000018', 'a', 'r', NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 'u')),
    (mtcbind._refusal_fingerprint('89441000000000000018', 'ar', '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'u')),
    (mtcbind._refusal_fingerprint('89441000000000000018', 'a', 'r', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'v')),
    (mtcbind._refusal_fingerprint('89441000000000000026', 'a', 'r', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'u'))) v(f);

-- Rule: a row of refusal is narrow (a 24-byte header, 16 bytes of data).
SELECT max(pg_column_size(r.*)) <= 40 AS at_most_40_bytes FROM mtcbind.refusal r;

-- Rule: a code is used only while its last day of use (UTC) is today: a
-- code last used long ago is moved on by the next such refusal, not
-- replaced.
INSERT INTO mtcbind.refusal_subject (iccid, terminal_id, reason, binding_id, uicc_binding_id,
                                     naf_id, actor, last_used)
SELECT '89441000000000000026', 'thief-4', 'uicc_bound_elsewhere', binding_id, binding_id,
       mtcbind.naf_id('naf-a.example.org', '\x0100000002'), session_user, '2020-01-01'
  FROM mtcbind.binding WHERE terminal_id = 'meter-r2';
SELECT pg_temp.req('naf-a.example.org', 'thief-4', '89441000000000000026');
SELECT count(*) AS thief_4_codes,
       bool_and(last_used = (now() AT TIME ZONE 'UTC')::date) AS moved_to_today,
       (SELECT count(*) FROM mtcbind.refusal r WHERE r.subject = min(s.subject)) AS its_refusals
  FROM mtcbind.refusal_subject s WHERE terminal_id = 'thief-4';

-- Rule: a rollback takes the refusal and a code made for it alike; a
-- savepoint rolled back, the same.
SELECT count(*) AS codes_before FROM mtcbind.refusal_subject \gset
SELECT count(*) AS rows_before FROM mtcbind.refusal \gset
BEGIN;
SELECT pg_temp.req('naf-a.example.org', 'thief-5', '89441000000000000018');
ROLLBACK;
BEGIN;
SAVEPOINT s;
SELECT pg_temp.req('naf-a.example.org', 'thief-6', '89441000000000000018');
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT count(*) = :codes_before AS no_code_left,
       (SELECT count(*) FROM mtcbind.refusal) = :rows_before AS no_refusal_left
  FROM mtcbind.refusal_subject;

-- Rule: a key issue is unaffected: granted keys are logged as before, and
-- first use writes its 'bound' event.
SELECT pg_temp.req('naf-a.example.org', 'meter-r1', '89441000000000000018', '490154203237518', '001010000000001');
SELECT event, count(*) FROM mtcbind.binding_event GROUP BY event ORDER BY event;

-- Rule: status() counts the refusals of the last hour in both logs.
SELECT refusals_last_hour = (SELECT count(*) FROM mtcbind.refusals) AS status_counts_both
  FROM mtcbind.status();

-- Rule: a card's and a device's refusals are found by index, in both logs.
SET enable_seqscan = off;
\i sql/include/plan_uses_only_indexes.sql
SELECT pg_temp.plan_uses_only_indexes(
    $$SELECT * FROM mtcbind.refusals WHERE iccid = '89441000000000000018' AND refused_at > now() - interval '1 day'$$)
    AS card_by_index,
       pg_temp.plan_uses_only_indexes(
    $$SELECT * FROM mtcbind.refusals WHERE terminal_id = 'thief-2' AND refused_at > now() - interval '1 day'$$)
    AS device_by_index;
RESET enable_seqscan;

-- Rule: the compact log is append-only like the event log: rows, codes, a
-- partition, by UPDATE, DELETE or TRUNCATE; nor can a partition be
-- detached or dropped while it holds refusals.
SELECT inhrelid::regclass::text AS day_partition FROM pg_inherits
 WHERE inhparent = 'mtcbind.refusal'::regclass
   AND inhrelid::regclass::text LIKE 'mtcbind.refusal\_p%'
   AND EXISTS (SELECT FROM mtcbind.refusal r WHERE r.tableoid = inhrelid) \gset
SELECT pg_temp.try($$UPDATE mtcbind.refusal SET subject = subject + 1$$);
SELECT pg_temp.try($$DELETE FROM mtcbind.refusal$$);
SELECT pg_temp.try(format('DELETE FROM %s', :'day_partition'));
SELECT regexp_replace(pg_temp.try(format('TRUNCATE %s', :'day_partition')), 'p[0-9]{8}', 'pYYYYMMDD') AS truncate_partition;
SELECT pg_temp.try($$TRUNCATE mtcbind.refusal$$);
SELECT pg_temp.try($$UPDATE mtcbind.refusal_subject SET terminal_id = 'someone else'$$);
SELECT pg_temp.try($$DELETE FROM mtcbind.refusal_subject$$);
SELECT pg_temp.try($$TRUNCATE mtcbind.refusal_subject$$);
SELECT regexp_replace(pg_temp.try(format('ALTER TABLE mtcbind.refusal DETACH PARTITION %s', :'day_partition')),
                      'p[0-9]{8}', 'pYYYYMMDD') AS detach_partition;
SELECT regexp_replace(pg_temp.try(format('DROP TABLE %s', :'day_partition')), 'p[0-9]{8}', 'pYYYYMMDD') AS drop_partition;
SELECT pg_temp.try($$DROP TABLE mtcbind.refusal$$);

-- Rule: who reads it: the auditor and the admin, not a NAF, not PUBLIC.
SELECT has_table_privilege('mtcbind_auditor', 'mtcbind.refusals', 'SELECT') AS auditor_reads_view,
       has_table_privilege('mtcbind_auditor', 'mtcbind.refusal_subject', 'SELECT') AS auditor_reads_codes,
       has_table_privilege('mtcbind_admin', 'mtcbind.refusals', 'SELECT') AS admin_reads_view,
       has_table_privilege('mtcbind_admin', 'mtcbind.refusal', 'INSERT') AS admin_inserts,
       has_table_privilege('mtcbind_naf', 'mtcbind.refusals', 'SELECT') AS naf_reads,
       has_table_privilege('public', 'mtcbind.refusal_subject', 'SELECT') AS public_reads;
SET ROLE mtcbind_auditor;
SELECT count(*) > 0 AS auditor_sees_refusals FROM mtcbind.refusals WHERE logged_in = 'refusal';
RESET ROLE;

-- Rule: retention covers the compact log: whole old day partitions go
-- (here one from 2020), old rows of its default partition are deleted, and
-- the codes no kept refusal can name (last used two or more days before
-- the cutoff's day); kinds '{rejected}' takes refusals from both logs,
-- other kinds none of them.
CREATE TABLE mtcbind.refusal_p20200101 PARTITION OF mtcbind.refusal
    FOR VALUES FROM ('2020-01-01 00:00:00+00') TO ('2020-01-02 00:00:00+00');
SELECT mtcbind._prepare_refusal_partition('refusal_p20200101');
INSERT INTO mtcbind.refusal_subject (iccid, terminal_id, reason, actor, last_used)
VALUES ('89441000000000000042', 'long-gone', 'uicc_bound_elsewhere', 'someone', '2020-01-01');
INSERT INTO mtcbind.refusal (refused_at, subject)
SELECT '2020-01-01 12:00:00+00', subject FROM mtcbind.refusal_subject, generate_series(1, 4)
 WHERE terminal_id = 'long-gone';
INSERT INTO mtcbind.refusal (refused_at, subject)
SELECT '2019-06-01 12:00:00+00', subject FROM mtcbind.refusal_subject, generate_series(1, 3)
 WHERE terminal_id = 'long-gone';
SELECT count(*) AS codes_before FROM mtcbind.refusal_subject \gset
SELECT count(*) AS rows_before FROM mtcbind.refusal \gset
SELECT mtcbind.purge_events('365 days', 'retention: one year') AS removed;
SELECT count(*) = :codes_before - 1 AS old_code_gone,
       NOT EXISTS (SELECT FROM mtcbind.refusal_subject WHERE terminal_id = 'long-gone') AS it_was_that_one
  FROM mtcbind.refusal_subject;
SELECT count(*) = :rows_before - 7 AS only_old_refusals_gone FROM mtcbind.refusal;
SELECT to_regclass('mtcbind.refusal_p20200101') IS NULL AS old_partition_dropped;
SELECT detail->'partitions_dropped' AS dropped, detail->'events_removed' AS removed,
       detail->'refusal_codes_removed' AS codes_removed
  FROM mtcbind.binding_event WHERE event = 'events_purged' ORDER BY event_id DESC LIMIT 1;
SELECT mtcbind.purge_events('0', 'key issues only', '{key_issued}') >= 1 AS key_issues_removed;
SELECT count(*) = :rows_before - 7 AS refusals_kept FROM mtcbind.refusal;
SELECT mtcbind.purge_events('0', 'all refusals', '{rejected}') AS refusals_removed;
SELECT count(*) AS refusals_left FROM mtcbind.refusals;
SELECT pg_temp.try($$SELECT mtcbind._delete_events('mtcbind.refusal', now(), '{rejected}')$$);
SELECT pg_temp.try($$SELECT mtcbind._delete_events('mtcbind.refusals', now(), NULL)$$);

-- Rule: DROP EXTENSION is refused while the compact log alone holds rows,
-- and while only its codes remain.
SELECT pg_temp.req('naf-a.example.org', 'thief-7', '89441000000000000018');
DELETE FROM mtcbind.binding;
DELETE FROM mtcbind.blocklist;
SELECT pg_temp.try($$SELECT mtcbind._delete_events('mtcbind.binding_event', now(), NULL)$$);
SELECT count(*) AS events_left, (SELECT count(*) FROM mtcbind.refusal) AS compact_refusals
  FROM mtcbind.binding_event;
SELECT pg_temp.try($$DROP EXTENSION mtcbind$$);
SELECT pg_temp.try($$SELECT mtcbind._delete_events('mtcbind.refusal', now(), NULL)$$);
SELECT pg_temp.try($$SELECT mtcbind._delete_events('mtcbind.binding_event', now(), NULL)$$);
SELECT count(*) AS compact_refusals_left, (SELECT count(*) FROM mtcbind.refusal_subject) AS codes
  FROM mtcbind.refusal;
SELECT pg_temp.try($$DROP EXTENSION mtcbind$$);

\c :regress_db
DROP DATABASE :"test_db";
