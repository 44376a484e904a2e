--
-- The binding service: mtcbind.request_key, its outcomes and reasons,
-- the settings, and what it writes (and does not write).
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS mtcbind;
-- Unqualified names of mtcbind's functions and types, as applications write them.
SET search_path = public, mtcbind;

\i sql/include/try.sql

-- A fixed Ks_int_NAF and B-TID for the tests (not secrets anywhere).
CREATE FUNCTION pg_temp.ks() RETURNS bytea LANGUAGE sql IMMUTABLE
    AS $$ SELECT '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'::bytea $$;
CREATE FUNCTION pg_temp.btid() RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT 'I1U8vpY3qJ0hiuRNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org' $$;

-- Calls request_key and reports the outcome; key_ok checks the issued key
-- against mtcbind.ks_local over the returned RANDx/RANDy, so a key that is
-- not the TS 33.110 derivation of this request fails here.
CREATE FUNCTION pg_temp.req(term text, card text, dev_imei text DEFAULT NULL,
                            dev_imeisv text DEFAULT NULL, card_imsi text DEFAULT NULL,
                            expiry timestamptz DEFAULT now() + interval '7 days')
RETURNS TABLE (outcome text, reason text, bid bigint, key_ok boolean, expires_in interval)
LANGUAGE sql AS $$
    SELECT r.outcome, r.reason, r.binding_id,
           CASE WHEN r.ks_local IS NOT NULL THEN
               length(r.ks_local) = 32 AND length(r.rand_x) = 16 AND length(r.rand_y) = 16
               AND r.rand_x <> r.rand_y
               AND r.ks_local = mtcbind.ks_local(pg_temp.ks(), pg_temp.btid(), card::mtcbind.iccid,
                                                 term, '', '', r.rand_x, r.rand_y)
           END,
           date_trunc('second', r.expires_at - now())
      FROM mtcbind.request_key(mtcbind.naf_id('naf.example.org', '\x0100000002'),
                               pg_temp.btid(), pg_temp.ks(), expiry, term,
                               card::mtcbind.iccid, dev_imei::mtcbind.imei,
                               dev_imeisv::mtcbind.imeisv, card_imsi::mtcbind.imsi) r
$$;

-- Rule: a device and a UICC that are both unbound are bound, and get a key
-- that expires after mtcbind.key_lifetime (1 day by default).
SELECT * FROM pg_temp.req('meter-0001', '89441000000000000018', '490154203237518', NULL, '001010000000001');
SELECT terminal_id, iccid, imei, imsi, key_count, last_key_at IS NOT NULL AS keyed
  FROM mtcbind.binding ORDER BY binding_id;

-- Rule: the same pair again is granted a key; RANDx/RANDy are fresh each time.
SELECT * FROM pg_temp.req('meter-0001', '89441000000000000018', '490154203237518');
SELECT count(DISTINCT r.rand_x) AS distinct_rand_x, count(DISTINCT r.rand_y) AS distinct_rand_y,
       count(DISTINCT r.ks_local) AS distinct_keys
  FROM generate_series(1, 20) g,
       LATERAL mtcbind.request_key(mtcbind.naf_id('naf.example.org', '\x0100000002'),
                                   pg_temp.btid(), pg_temp.ks(), now() + g * interval '1 day',
                                   'meter-0001', '89441000000000000018') r;
SELECT key_count FROM mtcbind.binding WHERE terminal_id = 'meter-0001';

-- Rule: the UICC presented by another, unbound device is refused.
SELECT * FROM pg_temp.req('meter-0002', '89441000000000000018');
-- Rule: the device presented with another, unbound UICC is refused.
SELECT * FROM pg_temp.req('meter-0001', '89441000000000000026');
-- Rule: a UICC and a device each bound elsewhere are refused as such
-- (first a second pair is bound: meter-0002 with ...026).
SELECT * FROM pg_temp.req('meter-0002', '89441000000000000026');
SELECT * FROM pg_temp.req('meter-0001', '89441000000000000026');
SELECT * FROM pg_temp.req('meter-0002', '89441000000000000018');
-- Rule: the same physical device (IMEI) under another terminal_id, with an
-- unbound UICC, is a device bound elsewhere.
SELECT * FROM pg_temp.req('meter-0003', '89441000000000000034', '490154203237518');
-- Rule: an IMSI that belongs to another binding's card is a UICC bound elsewhere.
SELECT * FROM pg_temp.req('meter-0003', '89441000000000000034', NULL, NULL, '001010000000001');
-- Rule: a known terminal_id presented with another IMEI is an identity mismatch.
SELECT * FROM pg_temp.req('meter-0001', '89441000000000000018', '352099001761481');
-- Rule: the same physical device claiming another terminal_id with its own
-- UICC is an identity mismatch.
SELECT * FROM pg_temp.req('meter-0009', '89441000000000000018', '490154203237518');
-- Rule: an expired Ks_int_NAF is refused before anything else.
SELECT * FROM pg_temp.req('meter-0001', '89441000000000000018', NULL, NULL, NULL, now() - interval '1 second');

-- Every refusal is in the event log, with its reason and no key material.
SELECT event, reason, terminal_id, iccid, imei, imsi, detail
  FROM mtcbind.binding_event WHERE event = 'rejected' ORDER BY event_id;
-- A refused first use leaves no binding and no 'bound' event, though under
-- first_use = bind the insert is tried before anything is read: still the
-- two pairs bound above.
SELECT count(*) AS bindings,
       (SELECT count(*) FROM mtcbind.binding_event WHERE event = 'bound') AS bound_events
  FROM mtcbind.binding;

-- Rule: a first use records its binding, then its key issue, with exactly
-- the expiry its answer carries; the 'bound' event holds what the row
-- holds, as for a binding made any other way.  With log_key_issue off, only
-- the binding is recorded.
CREATE TEMP TABLE first_answer AS
  SELECT * FROM mtcbind.request_key(mtcbind.naf_id('naf.example.org', '\x0100000002'),
                                    pg_temp.btid(), pg_temp.ks(), now() + interval '7 days',
                                    'meter-0901', '8944100000000009019', '352099001761481',
                                    '3520990017614801', '001010000000901', 'app-1', 'usim-1');
SELECT e.event, e.binding_id = a.binding_id AS same_binding, e.key_expires_at = a.expires_at AS same_expiry,
       e.terminal_id, e.imei, e.imsi, e.reason, e.naf_id = mtcbind.naf_id('naf.example.org', '\x0100000002') AS naf, e.detail
  FROM mtcbind.binding_event e, first_answer a
 WHERE e.iccid = '8944100000000009019' ORDER BY e.event_id;
SET mtcbind.log_key_issue = off;
SELECT outcome FROM pg_temp.req('meter-0902', '8944100000000009027');
RESET mtcbind.log_key_issue;
SELECT event, terminal_id FROM mtcbind.binding_event WHERE iccid = '8944100000000009027' ORDER BY event_id;
DELETE FROM mtcbind.binding WHERE iccid IN ('8944100000000009019', '8944100000000009027');

-- Rule: a first use is recorded once, also when a DBA's statement trigger
-- reads the inserted rows before mtcbind's own trigger does (its name sorts
-- first), and when a row trigger makes another first use inside it.
CREATE TABLE public.inserts_seen (n bigint);
CREATE FUNCTION public.count_inserts() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN INSERT INTO public.inserts_seen SELECT count(*) FROM newrows; RETURN NULL; END$$;
CREATE TRIGGER a_count_inserts AFTER INSERT ON mtcbind.binding REFERENCING NEW TABLE AS newrows
  FOR EACH STATEMENT EXECUTE FUNCTION public.count_inserts();
CREATE FUNCTION public.bind_companion() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.terminal_id = 'meter-0903' THEN
        PERFORM * FROM pg_temp.req('meter-0904', '8944100000000009043');
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER a_bind_companion AFTER INSERT ON mtcbind.binding
  FOR EACH ROW EXECUTE FUNCTION public.bind_companion();
SELECT outcome FROM pg_temp.req('meter-0903', '8944100000000009035');
SELECT terminal_id, count(*) FILTER (WHERE event = 'bound') AS bound,
       count(*) FILTER (WHERE event = 'key_issued') AS key_issued
  FROM mtcbind.binding_event WHERE iccid IN ('8944100000000009035', '8944100000000009043')
 GROUP BY terminal_id ORDER BY terminal_id;
SELECT n FROM public.inserts_seen ORDER BY n;
DROP TRIGGER a_count_inserts ON mtcbind.binding;
DROP TRIGGER a_bind_companion ON mtcbind.binding;
DROP FUNCTION public.count_inserts(), public.bind_companion();
DROP TABLE public.inserts_seen;
DELETE FROM mtcbind.binding WHERE iccid IN ('8944100000000009035', '8944100000000009043');

-- Rule: first uses in one transaction leave nothing behind per call (no
-- subtransaction each): as many transaction memory contexts after 200 as
-- after one.
CREATE FUNCTION pg_temp.iccid_of(n int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT b || ((10 - sum(CASE WHEN i % 2 = 1
                                THEN (2 * substr(b, length(b) - i + 1, 1)::int) % 10
                                     + (2 * substr(b, length(b) - i + 1, 1)::int) / 10
                                ELSE substr(b, length(b) - i + 1, 1)::int END) % 10) % 10)::text
      FROM (SELECT '89441000000001' || lpad(n::text, 4, '0') AS b) s, generate_series(1, 18) i
     GROUP BY b
$$;
BEGIN;
SELECT outcome FROM pg_temp.req('batch-0', pg_temp.iccid_of(0));
SELECT count(*) AS contexts_after_one FROM pg_backend_memory_contexts WHERE name = 'CurTransactionContext' \gset
SELECT count(*) FILTER (WHERE r.outcome = 'bound') AS bound
  FROM generate_series(1, 200) g, LATERAL pg_temp.req('batch-' || g, pg_temp.iccid_of(g)) r;
SELECT count(*) = :contexts_after_one AS same_contexts
  FROM pg_backend_memory_contexts WHERE name = 'CurTransactionContext';
ROLLBACK;

-- Rule: expires_at is the earlier of the clock + key_lifetime and the Ks_int_NAF expiry.
SELECT outcome, expires_in FROM pg_temp.req('meter-0001', '89441000000000000018', NULL, NULL, NULL, now() + interval '1 hour');
SET mtcbind.key_lifetime = '15 minutes';
SELECT outcome, expires_in FROM pg_temp.req('meter-0001', '89441000000000000018');
SELECT pg_temp.try($$SET mtcbind.key_lifetime = '-1 day'$$);
SELECT pg_temp.try($$SET mtcbind.key_lifetime = 'forever'$$);
SELECT pg_temp.try($$SET mtcbind.key_lifetime = '11 years'$$);
RESET mtcbind.key_lifetime;
SHOW mtcbind.key_lifetime;

-- Rule: a new IMEISV (software update) of the bound device is accepted,
-- recorded and logged as attribute_changed; so is a new IMSI (multi-IMSI card).
SELECT outcome, key_ok FROM pg_temp.req('meter-0001', '89441000000000000018', NULL, '4901542032375101');
SELECT outcome, key_ok FROM pg_temp.req('meter-0001', '89441000000000000018', NULL, '4901542032375102', '001010000000002');
SELECT imei, imeisv, imsi FROM mtcbind.binding WHERE terminal_id = 'meter-0001';
SELECT event, reason, detail->'old'->>'imeisv' AS old_imeisv, detail->'new'->>'imeisv' AS new_imeisv,
       detail->'old'->>'imsi' AS old_imsi, detail->'new'->>'imsi' AS new_imsi
  FROM mtcbind.binding_event WHERE event = 'attribute_changed' ORDER BY event_id;
-- Rule: a new IMSI that belongs to another binding's card is an identity
-- mismatch, and the refusal names that binding as the one in the way.
SELECT outcome FROM pg_temp.req('meter-0002', '89441000000000000026', NULL, NULL, '001010000000555');
SELECT r.outcome, r.reason,
       r.bid = (SELECT binding_id FROM mtcbind.binding WHERE terminal_id = 'meter-0002') AS names_the_holder
  FROM pg_temp.req('meter-0001', '89441000000000000018', NULL, NULL, '001010000000555') r;
-- Rule: an IMEISV of another device on a known terminal_id is an identity mismatch.
SELECT outcome, reason FROM pg_temp.req('meter-0001', '89441000000000000018', NULL, '3520990017614801');
-- Rule: an IMEISV and an IMEI that name different devices are malformed input.
SELECT pg_temp.try($$SELECT * FROM pg_temp.req('meter-0001', '89441000000000000018', '352099001761481', '4901542032375101')$$);

-- Rule: with mtcbind.first_use = reject, only pre-provisioned pairs get keys.
SET mtcbind.first_use = reject;
SELECT * FROM pg_temp.req('meter-0004', '89441000000000000042');
-- ... and a device bound elsewhere is still refused as such, not as not provisioned.
SELECT outcome, reason FROM pg_temp.req('meter-0001', '89441000000000000059');
SELECT mtcbind.bind('meter-0004', '89441000000000000042', note => 'factory list 2026-11') > 0 AS provisioned;
SELECT outcome, reason, key_ok FROM pg_temp.req('meter-0004', '89441000000000000042', '351234560000010');
SELECT pg_temp.try($$SET mtcbind.first_use = 'maybe'$$);
RESET mtcbind.first_use;

-- Rule: with mtcbind.log_key_issue off, a grant writes nothing at all: it
-- works in a read-only transaction, and leaves no event and no row change.
SET mtcbind.log_key_issue = off;
SELECT count(*) AS events_before FROM mtcbind.binding_event \gset
SELECT key_count AS keys_before, xmin::text AS xmin_before FROM mtcbind.binding WHERE terminal_id = 'meter-0004' \gset
BEGIN TRANSACTION READ ONLY;
SELECT outcome, key_ok FROM pg_temp.req('meter-0004', '89441000000000000042', '351234560000010');
COMMIT;
SELECT count(*) = :events_before AS no_event,
       (SELECT key_count = :keys_before AND xmin::text = :'xmin_before'
          FROM mtcbind.binding WHERE terminal_id = 'meter-0004') AS row_untouched
  FROM mtcbind.binding_event;
-- ... while a first use still needs to write, and says so on a read-only transaction.
BEGIN TRANSACTION READ ONLY;
SELECT pg_temp.try($$SELECT * FROM pg_temp.req('meter-0005', '89441000000000000059')$$);
ROLLBACK;
-- The fast path survives a REINDEX CONCURRENTLY of the ICCID index (which
-- gives the index a new OID) in a session that used it before.
REINDEX INDEX CONCURRENTLY mtcbind.binding_iccid_key;
SELECT outcome, key_ok FROM pg_temp.req('meter-0004', '89441000000000000042', '351234560000010');
RESET mtcbind.log_key_issue;
-- With logging on, every issued key is an event (never the key).
SELECT count(*) > 0 AS key_events,
       bool_and(key_expires_at > occurred_at) AS expiry_recorded
  FROM mtcbind.binding_event WHERE event = 'key_issued';

-- Rule: malformed input is an error with a clear SQLSTATE, and writes nothing.
SELECT count(*) AS events_before FROM mtcbind.binding_event \gset
SELECT count(*) AS bindings_before FROM mtcbind.binding \gset
SELECT pg_temp.try($$SELECT * FROM mtcbind.request_key('\x6e61662e6f72670100000002', 'b@bsf', '\x00', now() + interval '1 day', 'x-1', '89441000000000000059')$$);
SELECT pg_temp.try($$SELECT * FROM mtcbind.request_key('\x0100000002', 'b@bsf', pg_temp.ks(), now() + interval '1 day', 'x-1', '89441000000000000059')$$);
SELECT pg_temp.try($$SELECT * FROM mtcbind.request_key('\x6e61662e6f72670100000002', 'b@bsf', pg_temp.ks(), now() + interval '1 day', '', '89441000000000000059')$$);
SELECT pg_temp.try($$SELECT * FROM mtcbind.request_key('\x6e61662e6f72670100000002', 'b@bsf', pg_temp.ks(), now() + interval '1 day', repeat('x', 256), '89441000000000000059')$$);
SELECT pg_temp.try($$SELECT * FROM mtcbind.request_key('\x6e61662e6f72670100000002', '', pg_temp.ks(), now() + interval '1 day', 'x-1', '89441000000000000059')$$);
SELECT pg_temp.try($$SELECT * FROM mtcbind.request_key('\x6e61662e6f72670100000002', 'b@bsf', pg_temp.ks(), now() + interval '1 day', 'x-1', '89441000000000000059', terminal_appli_id => repeat('a', 256))$$);
SELECT pg_temp.try($$SELECT * FROM mtcbind.request_key(NULL, 'b@bsf', pg_temp.ks(), now() + interval '1 day', 'x-1', '89441000000000000059')$$);
SELECT pg_temp.try($$SELECT * FROM mtcbind.request_key('\x6e61662e6f72670100000002', 'b@bsf', pg_temp.ks(), NULL, 'x-1', '89441000000000000059')$$);
SELECT pg_temp.try($$SELECT * FROM mtcbind.request_key('\x6e61662e6f72670100000002', 'b@bsf', pg_temp.ks(), now() + interval '1 day', NULL, '89441000000000000059')$$);
SELECT pg_temp.try($$SELECT * FROM mtcbind.request_key('\x6e61662e6f72670100000002', 'b@bsf', pg_temp.ks(), now() + interval '1 day', 'x-1', NULL)$$);
SELECT pg_temp.try($$SELECT * FROM mtcbind.request_key('\x6e61662e6f72670100000002', 'b@bsf', pg_temp.ks(), now() + interval '1 day', 'x-1', '89441000000000000050')$$);
SELECT pg_temp.try($$SELECT * FROM mtcbind.request_key('\x6e61662e6f72670100000002', 'b@bsf', pg_temp.ks(), now() + interval '1 day', 'x-1', '89441000000000000059', uicc_appli_id => NULL)$$);
SELECT (SELECT count(*) FROM mtcbind.binding_event) = :events_before AS no_event,
       (SELECT count(*) FROM mtcbind.binding) = :bindings_before AS no_binding;

-- No key, RAND or B-TID ever reaches the event log.
SELECT count(*) AS leaks
  FROM mtcbind.binding_event e
 WHERE e::text LIKE '%' || encode(pg_temp.ks(), 'hex') || '%'
    OR e::text LIKE '%I1U8vpY3qJ0hiuRNrke%';

-- The view for people: one row per binding.
SELECT terminal_id, iccid, key_count > 0 AS keyed, age >= interval '0' AS has_age, transfer_pending
  FROM mtcbind.bindings ORDER BY binding_id;

-- request_key is SECURITY DEFINER with a pinned search_path, and not PUBLIC.
SELECT p.prosecdef, p.proconfig, has_function_privilege('public', p.oid, 'EXECUTE') AS public_exec
  FROM pg_proc p WHERE p.oid = 'mtcbind.request_key'::regproc;

-- Rule: expiry is judged by the wall clock at the moment of the request, not
-- by the start of the transaction: a Ks_int_NAF that expires while a
-- transaction runs is refused, and a key is never issued already expired.
BEGIN;
SELECT clock_timestamp() + interval '300 milliseconds' AS soon \gset
SELECT pg_sleep(0.5);
SELECT outcome, reason FROM pg_temp.req('meter-0001', '89441000000000000018', NULL, NULL, NULL, :'soon');
SELECT clock_timestamp() + interval '2 seconds' AS later \gset
SELECT r.outcome, r.expires_at > clock_timestamp() AS not_expired_yet,
       r.expires_at = :'later'::timestamptz AS ends_with_the_bootstrap
  FROM mtcbind.request_key(mtcbind.naf_id('naf.example.org', '\x0100000002'),
                           pg_temp.btid(), pg_temp.ks(), :'later', 'meter-0001', '89441000000000000018') r;
COMMIT;
-- ... and so is a transfer authorisation, within one transaction too.
SELECT mtcbind.bind('meter-0010', '89441000000000000067') > 0 AS bound;
BEGIN;
SELECT mtcbind.authorize_transfer('89441000000000000067', 'meter-0011', valid_for => '300 milliseconds') > 0 AS authorized;
SELECT pg_sleep(0.5);
SELECT outcome, reason FROM pg_temp.req('meter-0011', '89441000000000000067');
COMMIT;
SELECT mtcbind.unbind('89441000000000000067', 'end of the clock test');
