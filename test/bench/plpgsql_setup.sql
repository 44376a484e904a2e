-- plpgsql_setup.sql: the data for the PL/pgSQL alternative's benchmarks
-- (bench_request_*.sql calling alt.request_key; scripts/bench/check_alt.sh).  Run it
-- after mtcbind's pairs are loaded (binding_setup.sql: device 'dev-n' with
-- card bench_iccid(n), n = 1 .. 10 000) and mtcbind.maintain_event_log (so
-- that alt's event log gets a day partition's indexes), and before any
-- benchmark runs.  It (re)creates schema alt (plpgsql_contract.sql) and
-- copies every binding of a 'dev-' device, with whatever identities it
-- records, into alt.binding: both implementations serve the same pairs.
\ir plpgsql_contract.sql
SET client_min_messages = warning;
INSERT INTO alt.binding (terminal_id, iccid, imei, imeisv, imsi)
SELECT b.terminal_id, b.iccid, b.imei, b.imeisv, b.imsi
  FROM mtcbind.binding b
 WHERE b.terminal_id LIKE 'dev-%'
 ORDER BY b.binding_id;
ANALYZE alt.binding, alt.blocklist, alt.transfer_authorization, alt.policy, alt.binding_event;
RESET client_min_messages;
