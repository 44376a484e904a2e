--
-- The blocklist: a stolen, lost or retired card, or a stolen device, is
-- refused by every request and every administration function until an
-- administrator lifts the block; unbinding never frees a blocked card.
--
SET client_min_messages = warning;
\set test_db regress_mtcbind_blocks
\i sql/include/own_database.sql

-- Requests a key; returns outcome and reason.
CREATE FUNCTION pg_temp.req(term text, card text, dev_imei text DEFAULT NULL)
RETURNS text LANGUAGE sql AS $$
    SELECT r.outcome || coalesce(' ' || r.reason, '')
      FROM mtcbind.request_key(mtcbind.naf_id('naf.example.org', '\x0100000002'),
                               'b@bsf.example.org',
                               '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
                               now() + interval '1 day', term, card, dev_imei) r
$$;

-- Rule: the guard trigger asks whether a block was ever made once per
-- statement (a bulk load would otherwise ask for every row), so a block
-- written by an earlier statement of the same transaction is still seen.
-- (This database has never had a block until here.)
BEGIN;
INSERT INTO mtcbind.binding (terminal_id, iccid) VALUES ('guard-1', '8944100000000000893');
INSERT INTO mtcbind.blocklist (iccid, reason) VALUES ('8944100000000000901', 'regress: a block in the same transaction');
INSERT INTO mtcbind.binding (terminal_id, iccid) VALUES ('guard-2', '8944100000000000901');
SELECT terminal_id, blocked FROM mtcbind.binding WHERE terminal_id LIKE 'guard-_' ORDER BY 1;
ROLLBACK;
-- ... and within one statement, where a data-modifying WITH writes the block
-- in the same command as the bindings after it.
BEGIN;
WITH blk AS (INSERT INTO mtcbind.blocklist (iccid, reason)
             VALUES ('8944100000000000901', 'regress: a block in the same statement') RETURNING iccid)
INSERT INTO mtcbind.binding (terminal_id, iccid)
SELECT 'guard-1', '8944100000000000893'::mtcbind.iccid UNION ALL SELECT 'guard-2', iccid FROM blk
RETURNING terminal_id, blocked;
ROLLBACK;

-- The scenario the invention exists for: a meter's SIM is stolen.
SELECT pg_temp.req('meter-1', '89441000000000000018', '490154203237518');

-- Rule: unbinding a card frees it: with first_use = bind (the default) the
-- thief's device would then be bound.  That is why a stolen card is blocked,
-- not unbound.
SELECT mtcbind.block_uicc('89441000000000000018', 'stolen, police report 4711') AS card_block \gset
SELECT pg_temp.req('tracker-666', '89441000000000000018');
-- ... refused in its own device too, on the fast path as well
SELECT pg_temp.req('meter-1', '89441000000000000018', '490154203237518');
SET mtcbind.log_key_issue = off;
SELECT pg_temp.req('meter-1', '89441000000000000018', '490154203237518');
RESET mtcbind.log_key_issue;
SELECT terminal_id, blocked FROM mtcbind.bindings WHERE iccid = '89441000000000000018';
-- ... and after unbind, which frees the meter for a new card, the card
-- stays blocked.
SELECT mtcbind.unbind('89441000000000000018', 'meter gets a new card');
SELECT pg_temp.req('tracker-666', '89441000000000000018');
SELECT pg_temp.req('meter-1', '89441000000000000026', '490154203237518');
-- No administration function binds it either.
SELECT regexp_replace(pg_temp.try($$SELECT mtcbind.bind('tracker-666', '89441000000000000018')$$), 'block \d+', 'block N');
SELECT pg_temp.try($$SELECT mtcbind.rebind('89441000000000000026', 'tracker-666', 'x')$$) LIKE 'ok' AS rebind_to_free_device;
SELECT regexp_replace(pg_temp.try($$SELECT mtcbind.authorize_transfer('89441000000000000018')$$), 'block \d+', 'block N');

-- Rule: blocking is recorded, and blocking again changes nothing (a notice).
SELECT mtcbind.block_uicc('89441000000000000018', 'reported again') = :card_block AS same_block;
SELECT reason FROM mtcbind.blocklist WHERE block_id = :card_block;

-- Rule: a device is blocked by terminal_id and by the IMEI its binding
-- records, so it cannot come back under another name.
SELECT pg_temp.req('meter-7', '89441000000000000034', '351234560000028');
SELECT mtcbind.block_device('meter-7', 'stolen with its card') > 0 AS device_blocked;
SELECT terminal_id, imei FROM mtcbind.blocklist WHERE terminal_id = 'meter-7';
SELECT pg_temp.req('meter-7', '89441000000000000034', '351234560000028');
SELECT pg_temp.req('meter-7-renamed', '89441000000000000042', '351234560000028');
SELECT pg_temp.req('meter-7', '89441000000000000042');
-- Rule: a device blocked by the IMEI its binding records is refused even
-- when the request leaves the IMEI out, on the fast path too.
SELECT pg_temp.req('meter-8', '89441000000000000067', '353456789012348');
SELECT mtcbind.block_device(NULL, 'IMEI reported stolen', imei => '353456789012348') > 0 AS imei_blocked;
SELECT pg_temp.req('meter-8', '89441000000000000067');
SET mtcbind.log_key_issue = off;
SELECT pg_temp.req('meter-8', '89441000000000000067');
RESET mtcbind.log_key_issue;
-- Rule: the blocked flag is derived from the blocklist: a hand-written value
-- is replaced by the true one, so the fast path cannot be talked into a key.
UPDATE mtcbind.binding SET blocked = false WHERE terminal_id = 'meter-8';
SELECT blocked FROM mtcbind.binding WHERE terminal_id = 'meter-8';
SET mtcbind.log_key_issue = off;
SELECT pg_temp.req('meter-8', '89441000000000000067');
RESET mtcbind.log_key_issue;
UPDATE mtcbind.binding SET blocked = true WHERE terminal_id = 'tracker-666';
SELECT blocked FROM mtcbind.binding WHERE terminal_id = 'tracker-666';
-- An IMEI alone can be blocked too (an EIR-style deny list entry).
SELECT mtcbind.block_device(NULL, 'IMEI on the operator deny list', imei => '352099001761481') > 0 AS imei_blocked;
SELECT pg_temp.req('tracker-9', '89441000000000000059', '352099001761481');
SELECT pg_temp.try($$SELECT mtcbind.block_device(NULL, 'x')$$);

-- Rule: lifting a block lets the card or device bind again.
SELECT mtcbind.unblock_uicc('89441000000000000018', 'card recovered by the police');
SELECT mtcbind.unblock_uicc('89441000000000000018', 'again');
SELECT pg_temp.req('meter-9', '89441000000000000018');
SELECT mtcbind.unblock_device('meter-7', 'device recovered');
SELECT count(*) AS rows_left_for_meter_7 FROM mtcbind.blocklist WHERE terminal_id = 'meter-7' OR imei = '351234560000028';
SELECT pg_temp.req('meter-7', '89441000000000000034', '351234560000028');
SELECT terminal_id, blocked FROM mtcbind.binding WHERE terminal_id = 'meter-7';

-- Rule: every block and unblock is an event, with its reason; refusals name
-- the block.
SELECT event, coalesce(iccid::text, terminal_id, imei::text) AS what, reason
  FROM mtcbind.binding_event WHERE event IN ('blocked', 'unblocked') ORDER BY event_id;
SELECT reason, count(*) FROM mtcbind.binding_event
 WHERE event = 'rejected' AND detail ? 'block_id' GROUP BY reason ORDER BY reason;

-- Rule: the blocklist keeps the flags right whoever writes it (a DBA's DML).
INSERT INTO mtcbind.blocklist (iccid, reason) VALUES ('89441000000000000018', 'direct DML');
SELECT blocked FROM mtcbind.binding WHERE iccid = '89441000000000000018';
DELETE FROM mtcbind.blocklist WHERE iccid = '89441000000000000018';
SELECT blocked FROM mtcbind.binding WHERE iccid = '89441000000000000018';
-- ... and a block must say what and why.
SELECT split_part(pg_temp.try($$INSERT INTO mtcbind.blocklist (reason) VALUES ('nothing named')$$), ' | ', 1);
SELECT pg_temp.try($$SELECT mtcbind.block_uicc('89441000000000000018', ' ')$$);
SELECT pg_temp.try($$SELECT mtcbind.block_uicc(NULL, 'x')$$);

-- Rule: an IMEI on a deny list stays blocked when the device that was
-- blocked with it is unblocked: the second block gives the IMEI a row of
-- its own.
SELECT mtcbind.unblock_device(NULL, 'clear the earlier entry', imei => '352099001761481');
SELECT mtcbind.bind('meter-77', '89441000000000000075', imei => '35-209900-176148-1') > 0 AS bound;
SELECT mtcbind.block_device('meter-77', 'stolen') > 0 AS device_blocked;
SELECT mtcbind.block_device(NULL, 'EIR deny list', imei => '352099001761481') > 0 AS imei_blocked;
SELECT terminal_id, imei, reason FROM mtcbind.blocklist
 WHERE terminal_id = 'meter-77' OR imei = '352099001761481' ORDER BY block_id;
SELECT mtcbind.unblock_device('meter-77', 'recovered');
SELECT mtcbind.unbind('89441000000000000075', 'device recovered, card kept');
SELECT pg_temp.req('other-device', '89441000000000000083', '352099001761481');

-- ... also when two devices were blocked with the same IMEI, and lifting
-- an IMEI alone never lifts a device's terminal_id block.
SELECT mtcbind.block_device('dev-t1', 'stolen', imei => '35-209900-176148-1') > 0 AS t1_blocked;
SELECT mtcbind.block_device('dev-t2', 'stolen', imei => '35-209900-176148-1') > 0 AS t2_blocked;
SELECT mtcbind.unblock_device('dev-t1', 'found');
SELECT terminal_id, imei FROM mtcbind.blocklist
 WHERE terminal_id LIKE 'dev-t_' OR imei = '352099001761481' ORDER BY block_id;
SELECT mtcbind.unblock_device(NULL, 'off the deny list', imei => '352099001761481');
SELECT terminal_id, imei FROM mtcbind.blocklist
 WHERE terminal_id LIKE 'dev-t_' OR imei = '352099001761481' ORDER BY block_id;
SELECT mtcbind.unblock_device('dev-t2', 'found');

-- Rule: block and unblock come first in their transaction (they lock the
-- blocklist against new bindings; after other changes that lock could
-- deadlock with key requests) or after another of them.
BEGIN;
SELECT mtcbind.bind('meter-78', '89441000000000000091') > 0 AS bound;
SELECT pg_temp.try($$SELECT mtcbind.block_uicc('89441000000000000091', 'lost')$$);
ROLLBACK;
BEGIN;
SELECT mtcbind.block_uicc('89441000000000000091', 'lost') > 0 AS first;
SELECT mtcbind.block_device('meter-78', 'lost with it') > 0 AS second;
SELECT mtcbind.unblock_device('meter-78', 'found') AS third;
SELECT mtcbind.bind('meter-79', '89441000000000000109') > 0 AS then_other_changes;
COMMIT;
SELECT count(*) AS blocks_of_batch FROM mtcbind.blocklist WHERE iccid = '89441000000000000091';

-- Rule: mtcbind_admin may block and unblock.
SELECT has_function_privilege('mtcbind_admin', 'mtcbind.block_uicc(mtcbind.iccid, text)', 'EXECUTE') AS admin_blocks,
       has_function_privilege('mtcbind_naf', 'mtcbind.block_uicc(mtcbind.iccid, text)', 'EXECUTE') AS naf_blocks;

\c :regress_db
DROP DATABASE :"test_db";
