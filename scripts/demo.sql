\set QUIET on
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION mtcbind;
\set QUIET off
\echo
\echo '== 1. Identifiers are validated types: spelling on labels is accepted, errors say why'
SELECT '49-015420-323751-8'::mtcbind.imei                 AS imei_from_label,
       '26053179311383'::mtcbind.imei                     AS imei_check_digit_added,
       '8944 1000 0000 0000 0018'::mtcbind.iccid          AS iccid,
       mtcbind.tac('490154203237518')                     AS tac,
       mtcbind.mcc('001010123456789')                     AS mcc;
\set ON_ERROR_STOP off
SELECT '490154203237517'::mtcbind.imei;
\set ON_ERROR_STOP on

\echo
\echo '== 2. GBA-U keys (TS 33.220 B.3): Ks = CK || IK of Milenage test set 1'
SELECT encode(k.ks_int_naf, 'hex') AS ks_int_naf
  FROM mtcbind.gba_naf_keys('\xb40ba9a3c58b2a05bbf0d987b21bf8cbf769bcd751044604127672711c6d3441',
                            '\x23553cbe9637a89d218ae64dae47bf35',
                            '001010123456789@ims.mnc001.mcc001.3gppnetwork.org',
                            mtcbind.naf_id('naf.example.org', '\x0100000002')) k \gset
\echo Ks_int_NAF for naf.example.org derived (32 octets)
-- What the NAF passes on every request: its NAF_Id, the device's B-TID, and
-- Ks_int_NAF with its expiry from the BSF.
\set naf_request 'mtcbind.naf_id(''naf.example.org'', ''\\x0100000002''), mtcbind.b_tid(''\\x23553cbe9637a89d218ae64dae47bf35'', ''bsf.mnc001.mcc001.pub.3gppnetwork.org''), decode(' :'ks_int_naf' ', ''hex''), now() + interval ''7 days'','

\echo
\echo '== 3. A NAF front end asks for Ks_local: first use binds the meter to its SIM'
SELECT outcome, reason, binding_id, length(ks_local) AS key_octets, date_trunc('second', expires_at - now()) AS lifetime
  FROM mtcbind.request_key(:naf_request
                           'meter-0001', '89441000000000000018', imei => '490154203237518');

\echo
\echo '== 4. The same pair again: granted, with a fresh key'
SELECT outcome, reason, binding_id, length(ks_local) AS key_octets
  FROM mtcbind.request_key(:naf_request
                           'meter-0001', '89441000000000000018', imei => '490154203237518');

\echo
\echo '== 5. The SIM is stolen and put into another device: refused, and recorded'
LISTEN mtcbind_rejected;
SELECT outcome, reason, binding_id, ks_local
  FROM mtcbind.request_key(:naf_request
                           'tracker-0666', '89441000000000000018', imei => '352099001761481');

\echo
\echo '== 6. The meter is damaged and replaced: an authorised transfer moves the binding'
SELECT mtcbind.authorize_transfer('89441000000000000018', 'meter-0002', reason => 'meter damaged, replaced') AS authorization_id;
SELECT outcome, reason, binding_id
  FROM mtcbind.request_key(:naf_request
                           'meter-0002', '89441000000000000018');

\echo
\echo '== 7. The card is stolen from the new meter: the operator blocks it, so no device gets a key with it'
SELECT mtcbind.block_uicc('89441000000000000018', 'stolen from meter-0002, police report 4711') AS block_id;
SELECT outcome, reason, binding_id, ks_local
  FROM mtcbind.request_key(:naf_request
                           'tracker-0777', '89441000000000000018');

\echo
\echo '== 8. What the operator sees (no search_path needed: the identifier types compare anywhere)'
SELECT binding_id, terminal_id, iccid, imei, blocked, key_count, transfer_pending
  FROM mtcbind.bindings WHERE iccid = '8944 1000 0000 0000 0018';
SELECT event_id, event, terminal_id, iccid, reason FROM mtcbind.binding_event ORDER BY event_id;
