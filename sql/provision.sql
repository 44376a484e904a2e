--
-- mtcbind.provision (1.1): the pairs of a SIM vendor's file, loaded into a
-- table, bound in one statement; every line that cannot be bound is listed
-- with its number, its SQLSTATE and why.  on_error: 'abort' binds all or
-- nothing, 'skip' binds the good lines, 'report' binds nothing.
--
SET client_min_messages = warning;
\set test_db regress_mtcbind_provision
\i sql/include/own_database.sql

SELECT mtcbind.bind('old-meter', '89441000000000000018') > 0 AS bound_before;
SELECT mtcbind.block_uicc('89441000000000000042', 'stolen before delivery') > 0 AS blocked;

-- The vendor's file, as COPY would load it: text columns, in file order.
CREATE TABLE vendor_file (terminal_id text, iccid text, imei text, imeisv text, imsi text);
INSERT INTO vendor_file VALUES
    ('meter-1',   '89441000000000000026', '490154203237518', NULL, '001010000000001'),
    ('meter-2',   '89441000000000000034', NULL, '3569380356438001', NULL),  -- IMEI from the IMEISV
    ('meter-3',   '89441000000000000018', NULL, NULL, NULL),   -- card bound to old-meter
    ('meter-4',   '8944100000000000002X', NULL, NULL, NULL),   -- not an ICCID
    ('meter-5',   '89441000000000000026', NULL, NULL, NULL),   -- card of line 1 again
    ('old-meter', '89441000000000000018', NULL, NULL, NULL),   -- bound like this already
    ('meter-7',   '89441000000000000042', NULL, NULL, NULL),   -- blocked card
    ('meter-8',   '89441000000000000059', '490154203237518', NULL, NULL), -- IMEI of line 1
    ('',          '89441000000000000067', NULL, NULL, NULL),   -- no terminal_id
    ('meter-10',  '89441000000000000075', '356938035643817', '4901542032375102', NULL), -- IMEISV of another IMEI
    (NULL,        NULL, NULL, NULL, NULL);

-- Rule: 'report' lists every bad line and binds nothing.
SELECT line, terminal_id, iccid, sqlstate, problem
  FROM mtcbind.provision('vendor_file', 'report') ORDER BY line;
SELECT count(*) AS bindings_after_report FROM mtcbind.binding;

-- Rule: 'abort' (the default) binds nothing when a line is bad, and says so
-- in one error naming the first lines.
SELECT pg_temp.try($$SELECT * FROM mtcbind.provision('vendor_file')$$);
SELECT count(*) AS bindings_after_abort FROM mtcbind.binding;

-- Rule: 'skip' binds the good lines, lists the rest; the audit has one
-- 'bound' event per new binding, written for the whole statement, with the
-- reason given and what the event's columns do not hold in its detail.
SELECT line, sqlstate FROM mtcbind.provision('vendor_file', 'skip', 'vendor file 2026-11') ORDER BY line;
SELECT terminal_id, iccid, imei, imeisv, imsi FROM mtcbind.binding ORDER BY binding_id;
SELECT event, terminal_id, iccid, imei, imsi, reason, detail
  FROM mtcbind.binding_event WHERE event = 'bound' ORDER BY event_id;

-- Rule: a file that is all good binds with the default 'abort'; a line
-- whose pair is bound to each other already is no error.
CREATE TABLE vendor_file_2 (line int, terminal_id text, iccid mtcbind.iccid, note text);
INSERT INTO vendor_file_2 VALUES (10, 'meter-11', '89441000000000000083', 'lot 7'),
                                 (20, 'meter-1', '89441000000000000026', NULL),
                                 (30, 'meter-12', '89441000000000000091', NULL);
SET mtcbind.reason = 'lot 7 from the vendor';
SELECT count(*) AS refused FROM mtcbind.provision('vendor_file_2');
RESET mtcbind.reason;
SELECT terminal_id, note FROM mtcbind.binding WHERE terminal_id IN ('meter-11', 'meter-12') ORDER BY 1;
-- ... the session's mtcbind.reason is the events' reason when none is given
SELECT terminal_id, reason FROM mtcbind.binding_event
 WHERE event = 'bound' AND terminal_id IN ('meter-11', 'meter-12') ORDER BY 1;
-- Rule: a line for a pair bound already, but with another IMEI than the
-- binding records, is refused as bind() refuses it, not skipped.
CREATE TABLE vendor_file_3 (terminal_id text, iccid text, imei text);
INSERT INTO vendor_file_3 VALUES ('meter-1', '89441000000000000026', '356938035643817'),
                                 ('meter-1', '89441000000000000026', '490154203237518');
SELECT line, sqlstate, regexp_replace(problem, 'binding \d+', 'binding N') AS problem
  FROM mtcbind.provision('vendor_file_3', 'report');
-- ... and a conflict makes 'abort' bind none of them
INSERT INTO vendor_file_2 VALUES (40, 'meter-13', '89441000000000000109', NULL),
                                 (50, 'meter-14', '89441000000000000083', NULL);
SELECT regexp_replace(pg_temp.try($$SELECT * FROM mtcbind.provision('vendor_file_2')$$),
                      'binding \d+', 'binding N');
SELECT count(*) AS meter_13_bound FROM mtcbind.binding WHERE terminal_id = 'meter-13';

-- Rule: bad arguments and sources are errors that name what is wrong.
SELECT pg_temp.try($$SELECT * FROM mtcbind.provision('vendor_file', 'sometimes')$$);
SELECT pg_temp.try($$SELECT * FROM mtcbind.provision(NULL)$$);
SELECT pg_temp.try($$SELECT * FROM mtcbind.provision('vendor_file', NULL)$$);
CREATE TABLE no_cards (terminal_id text);
SELECT pg_temp.try($$SELECT * FROM mtcbind.provision('no_cards')$$);
CREATE VIEW vendor_view AS SELECT terminal_id, iccid FROM vendor_file;
SELECT pg_temp.try($$SELECT * FROM mtcbind.provision('vendor_view', 'report')$$);
SELECT pg_temp.try($$SELECT * FROM mtcbind.provision('vendor_file', 'report', '   ')$$);
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pg_temp.try($$SELECT * FROM mtcbind.provision('vendor_file', 'report')$$);
ROLLBACK;

-- Rule: a member of mtcbind_admin (no superuser, no rights on the tables)
-- provisions; the source is read with the caller's own rights, so a table
-- the caller cannot read is refused, and a view's expressions run as the
-- caller (current_user below is the caller, not the extension's owner).
CREATE ROLE regress_loader LOGIN IN ROLE mtcbind_admin;
CREATE ROLE regress_naf_only LOGIN IN ROLE mtcbind_naf;
CREATE TABLE secret_file (terminal_id text, iccid text);
INSERT INTO secret_file VALUES ('meter-20', '89441000000000000117');
CREATE TABLE others_file (line int, terminal_id text, iccid text);
INSERT INTO others_file VALUES (1, 'meter-20', '89441000000000000117');
GRANT SELECT ON others_file TO regress_loader;
SET ROLE regress_loader;
SELECT pg_temp.try($$SELECT * FROM mtcbind.provision('secret_file')$$);
-- ... and a relation it may read but does not own: its owner's code (views,
-- policies) would run with the caller's rights
SELECT pg_temp.try($$SELECT * FROM mtcbind.provision('others_file')$$);
CREATE TEMP TABLE loader_file (line int, terminal_id text, iccid text);
INSERT INTO loader_file VALUES (1, 'meter-21', '89441000000000000125');
CREATE TEMP VIEW loader_view AS SELECT line, terminal_id, iccid, current_user::text AS note FROM loader_file;
SELECT count(*) AS refused FROM mtcbind.provision('loader_view');
RESET ROLE;
SELECT terminal_id, note, created_by = current_user AS by_session_user FROM mtcbind.binding WHERE terminal_id = 'meter-21';

-- Rule: nothing the source's code does to the session reaches the write,
-- which runs as the table's owner: a view that sets search_path to a schema
-- holding an operator of its owner's is read, and the operator is never
-- called by mtcbind's statements (it would record who called it).
CREATE SCHEMA regress_loader_s AUTHORIZATION regress_loader;
SET ROLE regress_loader;
CREATE TABLE regress_loader_s.calls (who text);
CREATE FUNCTION regress_loader_s.eq(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regress_loader_s.calls VALUES (current_user);
    RETURN pg_catalog.int8eq($1, $2);
END $$;
CREATE OPERATOR regress_loader_s.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = regress_loader_s.eq);
CREATE FUNCTION regress_loader_s.path() RETURNS text LANGUAGE sql
    AS $$ SELECT pg_catalog.set_config('search_path', 'regress_loader_s, pg_catalog', false) $$;
CREATE TABLE regress_loader_s.src (line int, terminal_id text, iccid text);
-- two lines for one card: the conflict lookup runs
INSERT INTO regress_loader_s.src VALUES (1, 'meter-30', '89441000000000000133'),
                                        (2, 'meter-31', '89441000000000000133');
CREATE VIEW regress_loader_s.v AS SELECT line, terminal_id, iccid, regress_loader_s.path() AS note
    FROM regress_loader_s.src;
SELECT line, sqlstate FROM mtcbind.provision('regress_loader_s.v', 'skip');
SHOW search_path;
RESET ROLE;
SELECT count(*) AS planted_operator_calls FROM regress_loader_s.calls;
SELECT rolsuper AS loader_is_superuser FROM pg_roles WHERE rolname = 'regress_loader';
-- ... and a superuser does not read an administrator's relation either:
-- its view would run its owner's functions as superuser
SELECT pg_temp.try($$SELECT * FROM mtcbind.provision('regress_loader_s.v', 'report')$$) AS superuser_reads_admins_view;

-- Rule: owning the source is not owning its column types.  The read casts
-- each column to text, and a cast from a type runs its owner's code: a
-- vendor's enum with a cast of its own, copied by CREATE TABLE AS into the
-- loader's own table, is refused for a superuser and an administrator alike,
-- and the cast never runs (it would record its caller and try to make its
-- owner a superuser).  A domain made in the database is refused too (its
-- cast is its base type's, which a domain's owner may have made); built-in
-- types and mtcbind's own are read.
CREATE ROLE regress_vendor LOGIN;
CREATE SCHEMA regress_vendor_s AUTHORIZATION regress_vendor;
SET ROLE regress_vendor;
CREATE TABLE regress_vendor_s.calls (who text);
GRANT INSERT, SELECT ON regress_vendor_s.calls TO PUBLIC;
CREATE TYPE regress_vendor_s.label AS ENUM ('89441000000000000190');
CREATE FUNCTION regress_vendor_s.label_text(regress_vendor_s.label) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regress_vendor_s.calls VALUES (current_user);
    IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        EXECUTE 'ALTER ROLE regress_vendor SUPERUSER';
    END IF;
    RETURN $1::name::text;
END $$;
CREATE CAST (regress_vendor_s.label AS text) WITH FUNCTION regress_vendor_s.label_text(regress_vendor_s.label);
CREATE TABLE regress_vendor_s.batch (terminal_id text, iccid regress_vendor_s.label);
INSERT INTO regress_vendor_s.batch VALUES ('meter-77', '89441000000000000190');
GRANT USAGE ON SCHEMA regress_vendor_s TO PUBLIC;
GRANT SELECT ON regress_vendor_s.batch TO PUBLIC;
CREATE DOMAIN regress_vendor_s.label_text AS text;
GRANT USAGE ON DOMAIN regress_vendor_s.label_text TO PUBLIC;
RESET ROLE;
CREATE TEMP TABLE vendor_copy AS SELECT * FROM regress_vendor_s.batch;
SELECT pg_temp.try($$SELECT * FROM mtcbind.provision('vendor_copy')$$) AS superuser_reads_vendor_type;
SET ROLE regress_loader;
CREATE TEMP TABLE vendor_copy_admin AS SELECT * FROM regress_vendor_s.batch;
SELECT pg_temp.try($$SELECT * FROM mtcbind.provision('vendor_copy_admin', 'report')$$) AS admin_reads_vendor_type;
CREATE TEMP TABLE vendor_domain (line int, terminal_id regress_vendor_s.label_text, iccid text);
INSERT INTO vendor_domain VALUES (1, 'meter-78', '89441000000000000208');
SELECT pg_temp.try($$SELECT * FROM mtcbind.provision('vendor_domain')$$) AS admin_reads_vendor_domain;
CREATE TEMP TABLE typed_file (line bigint, terminal_id varchar(40), iccid mtcbind.iccid, imei numeric, note name);
INSERT INTO typed_file VALUES (1, 'meter-79', '89441000000000000208', 352099001761481, 'typed');
SELECT line, sqlstate, problem FROM mtcbind.provision('typed_file', 'skip');
RESET ROLE;
SELECT count(*) AS vendor_cast_calls FROM regress_vendor_s.calls;
SELECT rolsuper AS vendor_is_superuser FROM pg_roles WHERE rolname = 'regress_vendor';
SELECT terminal_id, imei::text FROM mtcbind.binding WHERE terminal_id IN ('meter-77', 'meter-78', 'meter-79') ORDER BY 1;

-- Rule: a source that numbers its lines numbers all of them; a NULL line
-- would be given its position, which may be another line's number.
CREATE TEMP TABLE unnumbered (line int, terminal_id text, iccid text);
INSERT INTO unnumbered VALUES (NULL, 'meter-96', '89441000000000000216'), (1, 'meter-97', '89441000000000000224');
SELECT pg_temp.try($$SELECT * FROM mtcbind.provision('unnumbered', 'report')$$) AS null_line;
SELECT count(*) AS bound_from_unnumbered FROM mtcbind.binding WHERE terminal_id IN ('meter-96', 'meter-97');
-- ... and its numbers are integers: as text, '10' would be read before '9'
-- and decide which of two lines for one card is refused
CREATE TEMP TABLE text_lines (line text, terminal_id text, iccid text);
INSERT INTO text_lines VALUES ('9', 'meter-98', '89441000000000000216'), ('10', 'meter-99', '89441000000000000216');
SELECT pg_temp.try($$SELECT * FROM mtcbind.provision('text_lines', 'report')$$) AS text_line;

-- Rule: repeated line numbers (and a blocked card among them) are reported
-- line by line; every row is bound or reported, none is lost.
CREATE TEMP TABLE repeated (line int, terminal_id text, iccid text);
INSERT INTO repeated VALUES (5, 'meter-40', '89441000000000000042'),   -- the blocked card
                            (5, 'meter-41', '89441000000000000141'),
                            (6, 'meter-42', '89441000000000000158');
SELECT line, terminal_id, sqlstate FROM mtcbind.provision('repeated', 'skip') ORDER BY line, terminal_id;
SELECT terminal_id FROM mtcbind.binding WHERE terminal_id IN ('meter-40', 'meter-41', 'meter-42') ORDER BY 1;
SELECT pg_temp.try($$SELECT * FROM mtcbind.provision(999999::regclass)$$);
SET ROLE regress_naf_only;
SELECT pg_temp.try($$SELECT * FROM mtcbind.provision('secret_file')$$);
RESET ROLE;
SELECT has_function_privilege('public', 'mtcbind.provision(regclass, text, text, text)', 'EXECUTE') AS public_may;

-- Rule: the 'bound' events of every statement come out in binding_id order,
-- without a sort, also when the rows arrive in another order: each row's id
-- is drawn as it is inserted.
INSERT INTO mtcbind.binding (terminal_id, iccid)
SELECT t, c::mtcbind.iccid
  FROM (VALUES ('meter-50', '8944100000000000901'), ('meter-51', '8944100000000000919'),
               ('meter-52', '8944100000000000927'), ('meter-53', '8944100000000000935')) AS v(t, c)
 ORDER BY t DESC;
SELECT terminal_id, binding_id - min(binding_id) OVER () AS nth_id
  FROM mtcbind.binding WHERE terminal_id LIKE 'meter-5_' ORDER BY binding_id;
SELECT count(*) AS bound_events,
       count(*) FILTER (WHERE by_event <> by_binding) AS out_of_binding_order
  FROM (SELECT row_number() OVER (ORDER BY event_id) AS by_event,
               row_number() OVER (ORDER BY binding_id) AS by_binding
          FROM mtcbind.binding_event WHERE event = 'bound') AS x;

-- Rule: audit => 'per_load' records the load as one 'bound' event, with no
-- binding of its own: the source, the reason, how many bindings, and their
-- ids as runs [first, last].  A line that meets a conflict still draws an
-- id (the plain insert is undone, ON CONFLICT draws before it checks), so
-- the runs leave out exactly the ids no binding of the load holds.
CREATE TEMP TABLE load_file (terminal_id text, iccid text, imeisv text, note text);
INSERT INTO load_file VALUES
    ('meter-60', '89441000000000003004', '3512345600001001', 'lot 7'),
    ('meter-61', '89441000000000003012', NULL, NULL),
    ('meter-62', '89441000000000000018', NULL, NULL),   -- card bound to old-meter
    ('meter-63', '89441000000000003020', NULL, NULL),
    ('meter-64', '89441000000000003038', NULL, NULL);
SELECT max(event_id) AS events_before FROM mtcbind.binding_event \gset
SELECT line, sqlstate FROM mtcbind.provision('load_file', 'skip', 'vendor lot 7', audit => 'per_load');
SELECT event, binding_id IS NULL AS no_binding, iccid IS NULL AS no_card, reason,
       detail->>'source' LIKE 'pg_temp%.load_file' AS source_named, (detail->>'provisioned')::int AS provisioned,
       jsonb_array_length(detail->'binding_ids') AS runs
  FROM mtcbind.binding_event WHERE event_id > :events_before ORDER BY event_id;
-- the runs hold the load's bindings and nothing else
SELECT (SELECT array_agg(b.binding_id ORDER BY b.binding_id) FROM mtcbind.binding b
         WHERE b.terminal_id IN ('meter-60', 'meter-61', 'meter-63', 'meter-64'))
       = (SELECT array_agg(i ORDER BY i)
            FROM mtcbind.binding_event e,
                 jsonb_array_elements(e.detail->'binding_ids') AS r,
                 generate_series((r->>0)::bigint, (r->>1)::bigint) AS i
           WHERE e.event_id > :events_before) AS runs_are_the_loads_bindings;
-- a later change records what it replaced, so the loaded values stay in
-- the trail: unbind keeps the rest of the row too
SELECT mtcbind.unbind('89441000000000003004', 'meter scrapped');
SELECT event, iccid, terminal_id, detail FROM mtcbind.binding_event
 WHERE event_id > :events_before AND event = 'unbound';
-- a dry run records nothing; a bad value names the parameter
SELECT max(event_id) AS events_before FROM mtcbind.binding_event \gset
INSERT INTO load_file VALUES ('meter-65', '89441000000000003046', NULL, NULL);
SELECT line, sqlstate FROM mtcbind.provision('load_file', 'report', audit => 'per_load');
SELECT count(*) AS events_of_dry_run FROM mtcbind.binding_event WHERE event_id > :events_before;
SELECT pg_temp.try($$SELECT * FROM mtcbind.provision('load_file', 'skip', audit => 'per_event')$$);
SELECT pg_temp.try($$SELECT * FROM mtcbind.provision('load_file', 'skip', audit => NULL)$$);
-- the mode ends with the call: in the same transaction, after a load that
-- failed and after one that bound, other inserts have their own events
BEGIN;
SAVEPOINT s;
SELECT pg_temp.try($$SELECT * FROM mtcbind.provision('load_file', audit => 'per_load')$$) AS abort_load;
ROLLBACK TO SAVEPOINT s;
SELECT count(*) AS lines_refused FROM mtcbind.provision('load_file', 'skip', audit => 'per_load');
SELECT mtcbind.bind('meter-66', '89441000000000003053') > 0 AS bound_alone;
INSERT INTO mtcbind.binding (terminal_id, iccid) VALUES ('meter-67', '89441000000000003061');
COMMIT;
SELECT event, binding_id IS NOT NULL AS own_binding, terminal_id, detail->>'provisioned' AS provisioned
  FROM mtcbind.binding_event WHERE event_id > :events_before ORDER BY event_id;
-- the lines reach provision's INSERT through a function that serves no
-- one else, not even a superuser
SELECT pg_temp.try($$SELECT * FROM mtcbind._provision_candidates()$$) AS direct_call;
SELECT has_function_privilege('public', 'mtcbind._provision_candidates()', 'EXECUTE') AS public_may_feed;

-- Rule: every line is bound, already bound, refused, or an exact repeat of
-- an earlier line; none is lost when two lines of a file share some
-- identities but not all, and a binding from before the load is named
-- before another line of the load.
SELECT mtcbind.bind('meter-80', '89441000000000032003', imei => '352099001762109') > 0 AS holds_imei;
CREATE TEMP TABLE share_file (line int, terminal_id text, iccid text, imei text);
INSERT INTO share_file VALUES
    (2, 'meter-81', '89441000000000032102', NULL),
    (3, 'meter-81', '89441000000000032201', NULL),               -- its device on line 2
    (4, 'meter-82', '89441000000000032300', '352099001762109'),  -- IMEI of meter-80
    (5, 'meter-82', '89441000000000032300', '352099001762117'),  -- line 4's pair, another IMEI
    (6, 'meter-82', '89441000000000032300', '352099001762125'),  -- and a third
    (7, 'meter-82', '89441000000000032300', '352099001762117');  -- line 5 again, exactly
-- line 9 is kept out by line 8's device; line 10, bound after it, takes
-- its card too: the report names the device, the earlier line's
INSERT INTO share_file VALUES
    (8, 'meter-83', '89441000000000033209', NULL),
    (9, 'meter-83', '89441000000000033308', NULL),
    (10, 'meter-84', '89441000000000033308', NULL);
SELECT line, terminal_id, sqlstate, problem FROM mtcbind.provision('share_file', 'skip') ORDER BY line;
SELECT terminal_id, iccid, imei FROM mtcbind.binding WHERE terminal_id IN ('meter-81', 'meter-82', 'meter-83', 'meter-84') ORDER BY 1;

-- Rule: without a line column, lines are numbered in the table's physical
-- order, which an UPDATE changes (the new row version goes to the end),
-- read with one sequential scan.  A table with children has no one
-- physical order (ctids repeat among them): it must have a line column.
CREATE TABLE order_file (terminal_id text, iccid text);
INSERT INTO order_file VALUES ('meter-70', '89441000000000003087'), ('meter-71', 'not-a-card'),
                              ('meter-72', '89441000000000003095'), ('meter-73', 'also-not');
UPDATE order_file SET iccid = 'moved-bad' WHERE terminal_id = 'meter-70';
SELECT r.line, r.terminal_id,
       r.line = (SELECT n FROM (SELECT terminal_id, row_number() OVER (ORDER BY ctid) AS n FROM order_file) o
                  WHERE o.terminal_id = r.terminal_id) AS numbered_in_ctid_order
  FROM mtcbind.provision('public.order_file', 'report') AS r ORDER BY r.line;
-- a plan other than one sequential scan (here an index-only scan, the
-- session having turned sequential scans off) is sorted by ctid instead
CREATE INDEX order_file_all ON order_file (iccid, terminal_id);
VACUUM order_file;
SET enable_seqscan = off;
SELECT r.line, r.terminal_id FROM mtcbind.provision('public.order_file', 'report') AS r ORDER BY r.line;
RESET enable_seqscan;
DROP INDEX order_file_all;
CREATE TABLE order_child (LIKE order_file) INHERITS (order_file);
INSERT INTO order_child VALUES ('meter-74', 'child-bad');
SELECT pg_temp.try($$SELECT * FROM mtcbind.provision('public.order_file', 'report')$$) AS with_children;
ALTER TABLE order_file ADD COLUMN line int;
UPDATE order_file SET line = ascii(right(terminal_id, 1)) - ascii('0');
SELECT r.line, r.terminal_id
  FROM mtcbind.provision('public.order_file', 'report') AS r ORDER BY r.line;
-- once its last child is gone, the table is read as any other (its
-- catalog flag of having children stays set until a VACUUM)
DROP TABLE order_child;
ALTER TABLE order_file DROP COLUMN line;
SELECT relhassubclass AS flag_still_set FROM pg_class WHERE oid = 'order_file'::regclass;
SELECT r.line, r.terminal_id
  FROM mtcbind.provision('public.order_file', 'report') AS r ORDER BY r.line;
DROP TABLE order_file;

\c :regress_db
DROP DATABASE :"test_db";
DROP OWNED BY regress_vendor;
DROP ROLE regress_loader, regress_naf_only, regress_vendor;
