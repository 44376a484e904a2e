/* mtcbind--1.0--1.1.sql: from 1.0 to 1.1 (docs/upgrading.md) */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION mtcbind UPDATE TO '1.1'" to load this file. \quit

-- Each change of 1.1 below says what it is for.  The built install script
-- mtcbind--1.1.sql is mtcbind--1.0.sql followed by this file, so a fresh
-- install and an upgraded database run the same statements.

------------------------------------------------------------------------------
-- Audit of new bindings per statement: one INSERT ... SELECT writes the
-- 'bound' events of every row a statement inserted (a COPY, a provision of
-- a vendor's file, a first use), instead of one INSERT per row.
------------------------------------------------------------------------------
CREATE FUNCTION mtcbind.binding_audit_inserted() RETURNS trigger
    AS 'MODULE_PATHNAME', 'mtcbind_binding_audit_inserted'
    LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION mtcbind.binding_audit_inserted() FROM PUBLIC;

DROP TRIGGER binding_audit_insert ON mtcbind.binding;
CREATE TRIGGER binding_audit_insert
    AFTER INSERT ON mtcbind.binding
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION mtcbind.binding_audit_inserted();

------------------------------------------------------------------------------
-- Bulk pre-provisioning (C, src/provision.c): the pairs of a SIM vendor's
-- file, loaded into any table the caller can read, bound in one INSERT with
-- every bad or conflicting line reported by number.  SECURITY INVOKER: the
-- source is read with the caller's rights; only the write runs as the
-- owner of mtcbind.binding (EXECUTE is mtcbind_admin's alone).  audit =>
-- 'per_load' records the load as one 'bound' event listing its binding ids
-- instead of one event per binding (src/binding_table.c).
------------------------------------------------------------------------------
CREATE FUNCTION mtcbind.provision(source regclass, on_error text DEFAULT 'abort',
                                  reason text DEFAULT NULL, audit text DEFAULT 'per_binding')
RETURNS TABLE (line bigint, terminal_id text, iccid text, sqlstate text, problem text)
AS 'MODULE_PATHNAME', 'mtcbind_provision'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION mtcbind.provision(regclass, text, text, text) IS
    'Binds the pairs of a table (terminal_id, iccid, optional imei, imeisv, imsi, ...); returns the lines it could not bind';

REVOKE ALL ON FUNCTION mtcbind.provision(regclass, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mtcbind.provision(regclass, text, text, text) TO mtcbind_admin;

-- The lines provision is binding, handed to its INSERT as one set (C); an
-- error when called from anywhere else.  No one but the owner may call it.
CREATE FUNCTION mtcbind._provision_candidates()
RETURNS TABLE (terminal_id text, iccid mtcbind.iccid, imei mtcbind.imei, imeisv mtcbind.imeisv,
               imsi mtcbind.imsi, terminal_appli_id text, uicc_appli_id text, note text)
AS 'MODULE_PATHNAME', 'mtcbind_provision_candidates'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION mtcbind._provision_candidates() FROM PUBLIC;

------------------------------------------------------------------------------
-- Monitoring (docs/monitoring.md).  request_counts() reads counters in
-- shared memory (C, src/stats.c; needs shared_preload_libraries =
-- 'mtcbind'); status() reads only catalog figures, the small tables and an
-- index of the last hour's refusals: nothing on a scrape grows with the
-- number of bindings or the size of the event log.
------------------------------------------------------------------------------
CREATE FUNCTION mtcbind.request_counts()
RETURNS TABLE (outcome text, reason text, requests bigint, since timestamptz)
AS 'MODULE_PATHNAME', 'mtcbind_request_counts'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION mtcbind.request_counts() IS
    'request_key answers by outcome and reason since the server started (needs shared_preload_libraries = mtcbind)';

-- Each day partition gets one more index: the refusals by time, so that
-- "refusals in the last hour" reads only those.  Refusals are a small part
-- of the events, and so is the index.
CREATE OR REPLACE FUNCTION mtcbind._prepare_event_partition(partition_name name)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $prepare$
BEGIN
    EXECUTE pg_catalog.format('CREATE UNIQUE INDEX %I ON mtcbind.%I (event_id)',
                              partition_name OPERATOR(pg_catalog.||) '_event_id_key', partition_name);
    EXECUTE pg_catalog.format('CREATE INDEX %I ON mtcbind.%I (iccid, occurred_at)',
                              partition_name OPERATOR(pg_catalog.||) '_iccid_idx', partition_name);
    EXECUTE pg_catalog.format('CREATE INDEX %I ON mtcbind.%I (terminal_id, occurred_at)',
                              partition_name OPERATOR(pg_catalog.||) '_terminal_id_idx', partition_name);
    EXECUTE pg_catalog.format('CREATE INDEX %I ON mtcbind.%I (imei) WHERE imei IS NOT NULL',
                              partition_name OPERATOR(pg_catalog.||) '_imei_idx', partition_name);
    EXECUTE pg_catalog.format('CREATE INDEX %I ON mtcbind.%I (previous_terminal_id) WHERE previous_terminal_id IS NOT NULL',
                              partition_name OPERATOR(pg_catalog.||) '_prev_terminal_idx', partition_name);
    EXECUTE pg_catalog.format('CREATE INDEX %I ON mtcbind.%I (previous_iccid) WHERE previous_iccid IS NOT NULL',
                              partition_name OPERATOR(pg_catalog.||) '_prev_iccid_idx', partition_name);
    PERFORM mtcbind._index_refusals(partition_name);
    EXECUTE pg_catalog.format('CREATE TRIGGER binding_event_no_truncate BEFORE TRUNCATE ON mtcbind.%I'
                              ' FOR EACH STATEMENT EXECUTE FUNCTION mtcbind.event_append_only()',
                              partition_name);
END
$prepare$;

CREATE FUNCTION mtcbind._index_refusals(partition_name name)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $index$
BEGIN
    EXECUTE pg_catalog.format('CREATE INDEX IF NOT EXISTS %I ON mtcbind.%I (occurred_at) WHERE event OPERATOR(pg_catalog.=) ''rejected''',
                              partition_name OPERATOR(pg_catalog.||) '_rejected_idx', partition_name);
END
$index$;
REVOKE ALL ON FUNCTION mtcbind._index_refusals(name) FROM PUBLIC;

-- The day partitions made before 1.1 that "the last hour" can still reach
-- (yesterday's and later) get the index now; older days are never asked.
DO $upgrade$
DECLARE
    part name;
BEGIN
    FOR part IN
        SELECT c.relname FROM pg_catalog.pg_inherits i
          JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
         WHERE i.inhparent OPERATOR(pg_catalog.=) 'mtcbind.binding_event'::pg_catalog.regclass
           AND c.relname OPERATOR(pg_catalog.~) '^binding_event_p[0-9]{8}$'
           AND pg_catalog.to_date(pg_catalog.substr(c.relname, 16), 'YYYYMMDD')
               OPERATOR(pg_catalog.>=) ((pg_catalog.now() AT TIME ZONE 'UTC')::date OPERATOR(pg_catalog.-) 1)
    LOOP
        PERFORM mtcbind._index_refusals(part);
    END LOOP;
END
$upgrade$;

-- True when request_counts() has its counters (mtcbind was preloaded).
CREATE FUNCTION mtcbind._counters_available() RETURNS boolean
    AS 'MODULE_PATHNAME', 'mtcbind_counters_available'
    LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

CREATE FUNCTION mtcbind.status(
    OUT bindings bigint,
    OUT blocklist_entries bigint,
    OUT pending_transfers bigint,
    OUT refusals_last_hour bigint,
    OUT event_log_bytes bigint,
    OUT event_partitions integer,
    OUT oldest_event_partition text,
    OUT counters_available boolean)
RETURNS record
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $status$
DECLARE
    since timestamptz := pg_catalog.now() OPERATOR(pg_catalog.-) '1 hour'::pg_catalog.interval;
    compact_refusals bigint;
BEGIN
    -- The planner's estimate, scaled to the table's current size: no scan,
    -- and right on a standby and after a crash (the statistics system's
    -- live-row count is neither).  A table never analyzed yet is counted
    -- while it is small (under 1 MB), else unknown (NULL).
    SELECT CASE WHEN c.reltuples OPERATOR(pg_catalog.>=) 0 AND c.relpages OPERATOR(pg_catalog.>) 0
                THEN (c.reltuples OPERATOR(pg_catalog./) c.relpages
                      OPERATOR(pg_catalog.*) (pg_catalog.pg_relation_size(c.oid)
                                              OPERATOR(pg_catalog./) pg_catalog.current_setting('block_size')::integer))::bigint
           END
      INTO bindings
      FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) 'mtcbind.binding'::pg_catalog.regclass;
    IF bindings IS NULL
       AND pg_catalog.pg_relation_size('mtcbind.binding'::pg_catalog.regclass) OPERATOR(pg_catalog.<=) 1048576 THEN
        SELECT pg_catalog.count(*) INTO bindings FROM mtcbind.binding;
    END IF;
    SELECT pg_catalog.count(*) INTO blocklist_entries FROM mtcbind.blocklist;
    SELECT pg_catalog.count(*) INTO pending_transfers FROM mtcbind.transfer_authorization t
     WHERE t.used_at IS NULL AND t.revoked_at IS NULL
       AND t.valid_until OPERATOR(pg_catalog.>) pg_catalog.now();
    -- The cutoff as a constant, so that the plan holds only the partitions
    -- of the last hour (a year of day partitions would otherwise be planned
    -- on every scrape), and there only the index of refusals.
    EXECUTE 'SELECT pg_catalog.count(*) FROM mtcbind.binding_event e'
            ' WHERE e.event OPERATOR(pg_catalog.=) ''rejected'' AND e.occurred_at OPERATOR(pg_catalog.>) $1'
      INTO refusals_last_hour USING since;
    EXECUTE 'SELECT pg_catalog.count(*) FROM mtcbind.refusal r WHERE r.refused_at OPERATOR(pg_catalog.>) $1'
      INTO compact_refusals USING since;
    refusals_last_hour := refusals_last_hour OPERATOR(pg_catalog.+) compact_refusals;
    SELECT pg_catalog.sum(pg_catalog.pg_total_relation_size(p.relid))::bigint,
           (pg_catalog.count(*) FILTER (WHERE p.isleaf))::integer,
           pg_catalog.min(c.relname::text) FILTER (WHERE p.isleaf AND c.relname OPERATOR(pg_catalog.~) '^binding_event_p')
      INTO event_log_bytes, event_partitions, oldest_event_partition
      FROM pg_catalog.pg_partition_tree('mtcbind.binding_event'::pg_catalog.regclass) p
      JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) p.relid;
    -- The compact key-issue and refusal logs are part of it.
    event_log_bytes := event_log_bytes
        OPERATOR(pg_catalog.+) pg_catalog.pg_total_relation_size('mtcbind.key_issuer'::pg_catalog.regclass)
        OPERATOR(pg_catalog.+) (SELECT pg_catalog.sum(pg_catalog.pg_total_relation_size(p.relid))::bigint
                                  FROM pg_catalog.pg_partition_tree('mtcbind.key_issue'::pg_catalog.regclass) p)
        OPERATOR(pg_catalog.+) pg_catalog.pg_total_relation_size('mtcbind.refusal_subject'::pg_catalog.regclass)
        OPERATOR(pg_catalog.+) (SELECT pg_catalog.sum(pg_catalog.pg_total_relation_size(p.relid))::bigint
                                  FROM pg_catalog.pg_partition_tree('mtcbind.refusal'::pg_catalog.regclass) p);
    counters_available := mtcbind._counters_available();
    RETURN;
END
$status$;

COMMENT ON FUNCTION mtcbind.status() IS
    'Dashboard figures read without scanning bindings or the event log: bindings (estimate), blocks, pending transfers, refusals in the last hour, event-log size';

REVOKE ALL ON FUNCTION mtcbind.request_counts() FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind.status() FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind._counters_available() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mtcbind._counters_available() TO mtcbind_admin, mtcbind_auditor;
GRANT EXECUTE ON FUNCTION mtcbind.request_counts() TO mtcbind_admin, mtcbind_auditor;
GRANT EXECUTE ON FUNCTION mtcbind.status() TO mtcbind_admin, mtcbind_auditor;

------------------------------------------------------------------------------
-- request_key: the search_path is pinned in C (src/request.c, src/policy.c)
-- around the SQL it runs, instead of in the definition.  Re-keying on the
-- fast path runs no SQL, and a SET clause saved and restored every setting
-- on every call: about a fifth of the function's own time.  Every other
-- SECURITY DEFINER function keeps its SET.
------------------------------------------------------------------------------
ALTER FUNCTION mtcbind.request_key(bytea, text, bytea, timestamptz, text, mtcbind.iccid,
                                   mtcbind.imei, mtcbind.imeisv, mtcbind.imsi, text, text)
    RESET search_path;

------------------------------------------------------------------------------
-- Key bookkeeping without index churn.  Every logged key issue updates its
-- binding's last_key_at and key_count, columns no index covers; with room
-- left on each page the update is a heap-only tuple (HOT) and writes no
-- index entry.  At fillfactor 100 (the default) a full page made every
-- such update insert into all five unique indexes.  Pages written from now
-- on keep 20% free; VACUUM FULL or CLUSTER applies it to existing pages.
--
-- mtcbind.binding_lock_order only takes a lock (no SQL, no privilege
-- needed): it runs as the caller, without a SET, which saved and restored
-- every setting on every statement that writes bindings.
------------------------------------------------------------------------------
ALTER TABLE mtcbind.binding SET (fillfactor = 80);
ALTER FUNCTION mtcbind.binding_lock_order() SECURITY INVOKER RESET search_path;

-- mtcbind.binding_guard runs for every row written; it runs SQL only when a
-- block was ever made, and then pins search_path in C (src/binding_table.c).
ALTER FUNCTION mtcbind.binding_guard() RESET search_path;

-- The CHECK rules of the binding table as one call of a C function each
-- (src/constraints.c), under their 1.0 names and with the same verdict on
-- every row.  PostgreSQL rebuilds a table's CHECK expressions from their
-- stored trees for every statement that writes the table; the operator
-- trees of these three were half of what a first use or a logged key spent
-- on constraints.  NOT VALID: rows already stored passed the 1.0 rules, and
-- re-checking them would hold the table's exclusive lock for a scan of
-- every binding; a DBA may VALIDATE later without blocking requests
-- (docs/upgrading.md).  An empty table (a fresh install) is validated at
-- once: there is nothing to read.
-- The event log keeps its 1.0 CHECK: its day partitions are ordinary tables
-- in a dump, restored by ATTACH PARTITION, which requires a constraint of
-- the same name to have the same definition; a 1.0 dump must restore into
-- a 1.1 install.
CREATE FUNCTION mtcbind._terminal_id_fits(text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'mtcbind_terminal_id_fits'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind._appli_ids_fit(text, text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'mtcbind_appli_ids_fit'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION mtcbind._imeisv_matches_imei(mtcbind.imei, mtcbind.imeisv) RETURNS boolean
    AS 'MODULE_PATHNAME', 'mtcbind_imeisv_matches_imei'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;

ALTER TABLE mtcbind.binding
    DROP CONSTRAINT binding_terminal_id_check,
    DROP CONSTRAINT binding_appli_id_check,
    DROP CONSTRAINT binding_imeisv_check,
    ADD CONSTRAINT binding_terminal_id_check
        CHECK (mtcbind._terminal_id_fits(terminal_id)) NOT VALID,
    ADD CONSTRAINT binding_appli_id_check
        CHECK (mtcbind._appli_ids_fit(terminal_appli_id, uicc_appli_id)) NOT VALID,
    ADD CONSTRAINT binding_imeisv_check
        CHECK (mtcbind._imeisv_matches_imei(imei, imeisv)) NOT VALID;
DO $validate_if_empty$
BEGIN
    IF NOT EXISTS (SELECT FROM mtcbind.binding) THEN
        ALTER TABLE mtcbind.binding VALIDATE CONSTRAINT binding_terminal_id_check;
        ALTER TABLE mtcbind.binding VALIDATE CONSTRAINT binding_appli_id_check;
        ALTER TABLE mtcbind.binding VALIDATE CONSTRAINT binding_imeisv_check;
    END IF;
END
$validate_if_empty$;

------------------------------------------------------------------------------
-- The compact key-issue log (docs/dba-guide.md, "Where key issues are
-- recorded").  With mtcbind.key_issue_log = compact, an issued key is a
-- 68-byte row of mtcbind.key_issue instead of a key_issued event of
-- binding_event (a 136-byte row with three index entries): the NAF and the
-- session user are a code from mtcbind.key_issuer, and the device is not
-- copied, as the binding's history in binding_event gives it.  The view
-- mtcbind.key_issues shows the key issues of both logs alike.
------------------------------------------------------------------------------
-- A code per NAF_Id and session user.  NAF_Ids are the NAF's to send, so
-- codes are bigint (never used up) and go with retention: last_used (a UTC
-- day) is moved on by the first key of each day, and purge_events removes
-- the codes no key issue it keeps can name.
CREATE SEQUENCE mtcbind.key_issuer_issuer_seq;
CREATE TABLE mtcbind.key_issuer (
    issuer    bigint NOT NULL DEFAULT pg_catalog.nextval('mtcbind.key_issuer_issuer_seq'::pg_catalog.regclass),
    naf_id    bytea NOT NULL,
    actor     text NOT NULL,
    last_used date NOT NULL DEFAULT pg_catalog.timezone('UTC', pg_catalog.clock_timestamp())::pg_catalog.date,
    CONSTRAINT key_issuer_pkey PRIMARY KEY (issuer),
    CONSTRAINT key_issuer_naf_actor_key UNIQUE (naf_id, actor)
);
ALTER SEQUENCE mtcbind.key_issuer_issuer_seq OWNED BY mtcbind.key_issuer.issuer;
COMMENT ON TABLE mtcbind.key_issuer IS
    'Who issued keys recorded in mtcbind.key_issue: a NAF_Id and a session user per code, and the last UTC day it was used; append-only but for that day';

-- 64 bytes a row: a 24-byte header and five 8-byte columns, no padding.
CREATE TABLE mtcbind.key_issue (
    binding_id  bigint NOT NULL,
    iccid       mtcbind.iccid NOT NULL,
    issued_at   timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    expires_at  timestamptz NOT NULL,
    issuer      bigint NOT NULL
) PARTITION BY RANGE (issued_at);
COMMENT ON TABLE mtcbind.key_issue IS
    'Append-only log of issued keys (never key material) when mtcbind.key_issue_log = compact; partitioned by day; read it through mtcbind.key_issues';
CREATE TABLE mtcbind.key_issue_default PARTITION OF mtcbind.key_issue DEFAULT;

SELECT pg_catalog.pg_extension_config_dump('mtcbind.key_issuer', '');
SELECT pg_catalog.pg_extension_config_dump('mtcbind.key_issuer_issuer_seq', '');
SELECT pg_catalog.pg_extension_config_dump('mtcbind.key_issue_default', '');

CREATE TRIGGER key_issuer_append_only
    BEFORE UPDATE OR DELETE ON mtcbind.key_issuer
    FOR EACH ROW EXECUTE FUNCTION mtcbind.event_append_only();
CREATE TRIGGER key_issuer_no_truncate BEFORE TRUNCATE ON mtcbind.key_issuer
    FOR EACH STATEMENT EXECUTE FUNCTION mtcbind.event_append_only();
CREATE TRIGGER key_issue_append_only
    BEFORE UPDATE OR DELETE ON mtcbind.key_issue
    FOR EACH ROW EXECUTE FUNCTION mtcbind.event_append_only();

-- A partition of key_issue: the keys of a card by time (the question an
-- auditor asks), a BRIN of the time for the rest, and the TRUNCATE guard.
CREATE FUNCTION mtcbind._prepare_key_issue_partition(partition_name name)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $prepare$
BEGIN
    EXECUTE pg_catalog.format('CREATE INDEX %I ON mtcbind.%I (iccid, issued_at)',
                              partition_name OPERATOR(pg_catalog.||) '_iccid_idx', partition_name);
    EXECUTE pg_catalog.format('CREATE INDEX %I ON mtcbind.%I USING brin (issued_at)',
                              partition_name OPERATOR(pg_catalog.||) '_issued_at_idx', partition_name);
    EXECUTE pg_catalog.format('CREATE TRIGGER key_issue_no_truncate BEFORE TRUNCATE ON mtcbind.%I'
                              ' FOR EACH STATEMENT EXECUTE FUNCTION mtcbind.event_append_only()',
                              partition_name);
END
$prepare$;
REVOKE ALL ON FUNCTION mtcbind._prepare_key_issue_partition(name) FROM PUBLIC;

SELECT mtcbind._prepare_key_issue_partition('key_issue_default');
-- The default partition is purged by a DELETE by time: a btree for it.
DROP INDEX mtcbind.key_issue_default_issued_at_idx;
CREATE INDEX key_issue_default_issued_at_idx ON mtcbind.key_issue_default (issued_at);

-- The device a binding had at a moment: the device its next move or
-- unbind after that moment took it from; with none, the binding's device
-- now; if the binding is gone and retention removed its unbind, its last
-- 'bound' or 'rebound' event up to that moment.  Looking forward first:
-- each day partition to search costs the probe, and the keys read are
-- mostly recent, while the binding's 'bound' event may be years back.
CREATE FUNCTION mtcbind._device_at(binding_id bigint, iccid mtcbind.iccid, at timestamptz)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $device_at$
    SELECT COALESCE(
        (SELECT CASE e.event WHEN 'unbound' THEN e.terminal_id
                ELSE COALESCE(e.previous_terminal_id, e.terminal_id) END
           FROM mtcbind.binding_event e
          WHERE (e.iccid OPERATOR(pg_catalog.=) $2 OR e.previous_iccid OPERATOR(pg_catalog.=) $2)
            AND e.binding_id OPERATOR(pg_catalog.=) $1
            AND e.occurred_at OPERATOR(pg_catalog.>) $3
            AND e.event OPERATOR(pg_catalog.=) ANY ('{rebound,unbound}'::text[])
          ORDER BY e.occurred_at LIMIT 1),
        (SELECT b.terminal_id FROM mtcbind.binding b WHERE b.binding_id OPERATOR(pg_catalog.=) $1),
        (SELECT e.terminal_id FROM mtcbind.binding_event e
          WHERE e.iccid OPERATOR(pg_catalog.=) $2 AND e.binding_id OPERATOR(pg_catalog.=) $1
            AND e.occurred_at OPERATOR(pg_catalog.<=) $3
            AND e.event OPERATOR(pg_catalog.=) ANY ('{bound,rebound}'::text[])
          ORDER BY e.occurred_at DESC LIMIT 1))
$device_at$;
REVOKE ALL ON FUNCTION mtcbind._device_at(bigint, mtcbind.iccid, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mtcbind._device_at(bigint, mtcbind.iccid, timestamptz) TO mtcbind_admin, mtcbind_auditor;

-- Every issued key, from whichever log holds it.  security_barrier off: a
-- reader's filter on iccid and time reaches the tables' indexes.
CREATE VIEW mtcbind.key_issues AS
SELECT e.occurred_at AS issued_at, e.binding_id, e.iccid, e.terminal_id,
       e.key_expires_at AS expires_at, e.naf_id, e.actor, 'binding_event'::text AS logged_in
  FROM mtcbind.binding_event e
 WHERE e.event OPERATOR(pg_catalog.=) 'key_issued'
UNION ALL
SELECT k.issued_at, k.binding_id, k.iccid,
       mtcbind._device_at(k.binding_id, k.iccid, k.issued_at),
       k.expires_at, i.naf_id, i.actor, 'key_issue'::text
  FROM mtcbind.key_issue k
  -- LEFT: a key whose code is gone is still shown (a transaction kept open
  -- for longer than retention can commit one after purge_events removed its code)
  LEFT JOIN mtcbind.key_issuer i ON i.issuer OPERATOR(pg_catalog.=) k.issuer;
COMMENT ON VIEW mtcbind.key_issues IS
    'Every issued key (never the key): time, binding, card, device then, expiry, NAF, session user, and which log holds it';

GRANT SELECT ON mtcbind.key_issue, mtcbind.key_issuer, mtcbind.key_issues
    TO mtcbind_admin, mtcbind_auditor;

------------------------------------------------------------------------------
-- The compact refusal log (docs/dba-guide.md, "Where refusals are
-- recorded").  With mtcbind.refusal_log = compact, a refusal is a 40-byte
-- row of mtcbind.refusal (its time and a code) instead of a rejected event
-- of binding_event (a 200-byte row with five index entries).  The code names
-- a row of mtcbind.refusal_subject: what was refused and why -- the card,
-- device, IMEI, IMSI and IMEISV presented, the reason, the bindings and
-- block in the way, the NAF and the session user -- made by the first such
-- refusal and named again by every repeat (a stolen card retried in a
-- thief's device, a misconfigured device retrying).  The view
-- mtcbind.refusals shows the refusals of both logs alike.
------------------------------------------------------------------------------
-- A hash of everything a code holds, by which a refusal finds its code in
-- one index probe (src/audit.c).  It runs no SQL: no search_path to pin.
CREATE FUNCTION mtcbind._refusal_fingerprint(mtcbind.iccid, text, text, mtcbind.imei, mtcbind.imsi,
                                             mtcbind.imeisv, bigint, bigint, bigint, bigint, bytea, text)
RETURNS bigint
    AS 'MODULE_PATHNAME', 'mtcbind_refusal_fingerprint'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
REVOKE ALL ON FUNCTION mtcbind._refusal_fingerprint(mtcbind.iccid, text, text, mtcbind.imei, mtcbind.imsi,
                                                    mtcbind.imeisv, bigint, bigint, bigint, bigint, bytea, text)
    FROM PUBLIC;

-- Codes are bigint (never used up) and go with retention as the issuer
-- codes do: last_used (a UTC day) is moved on by the first refusal of each
-- day that names the code, and purge_events removes the codes no refusal it
-- keeps can name.
CREATE SEQUENCE mtcbind.refusal_subject_subject_seq;
CREATE TABLE mtcbind.refusal_subject (
    subject           bigint NOT NULL DEFAULT pg_catalog.nextval('mtcbind.refusal_subject_subject_seq'::pg_catalog.regclass),
    fingerprint       bigint GENERATED ALWAYS AS (mtcbind._refusal_fingerprint(
                          iccid, terminal_id, reason, imei, imsi, imeisv, binding_id, device_binding_id,
                          uicc_binding_id, block_id, naf_id, actor)) STORED,
    iccid             mtcbind.iccid NOT NULL,
    imei              mtcbind.imei,
    imsi              mtcbind.imsi,
    imeisv            mtcbind.imeisv,
    binding_id        bigint,
    device_binding_id bigint,
    uicc_binding_id   bigint,
    block_id          bigint,
    last_used         date NOT NULL DEFAULT pg_catalog.timezone('UTC', pg_catalog.clock_timestamp())::pg_catalog.date,
    terminal_id       text NOT NULL,
    reason            text NOT NULL,
    naf_id            bytea,
    actor             text NOT NULL,
    CONSTRAINT refusal_subject_pkey PRIMARY KEY (subject)
);
ALTER SEQUENCE mtcbind.refusal_subject_subject_seq OWNED BY mtcbind.refusal_subject.subject;
COMMENT ON TABLE mtcbind.refusal_subject IS
    'What was refused and why, for mtcbind.refusal: presented identities, reason, bindings and block in the way, NAF and session user, and the last UTC day a refusal named it; append-only but for that day';
-- The refusals of a card (and a refusal's code: card and fingerprint), a
-- device, an IMEI.  No unique key over what a code holds: over its twelve
-- columns it would cost more than a refusal logged as an event when few
-- refusals repeat, and a unique fingerprint would turn a collision into a
-- failed refusal.  Sessions making the same new code while the others'
-- transactions are open make one each (docs/dba-guide.md); the refusals
-- read the same either way.
CREATE INDEX refusal_subject_iccid_idx ON mtcbind.refusal_subject (iccid, fingerprint);
CREATE INDEX refusal_subject_terminal_idx ON mtcbind.refusal_subject (terminal_id);
CREATE INDEX refusal_subject_imei_idx ON mtcbind.refusal_subject (imei) WHERE imei IS NOT NULL;

-- 40 bytes a row: a 24-byte header and two 8-byte columns.
CREATE TABLE mtcbind.refusal (
    refused_at  timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    subject     bigint NOT NULL
) PARTITION BY RANGE (refused_at);
COMMENT ON TABLE mtcbind.refusal IS
    'Append-only log of refusals when mtcbind.refusal_log = compact: a time and a code of mtcbind.refusal_subject; partitioned by day; read it through mtcbind.refusals';
CREATE TABLE mtcbind.refusal_default PARTITION OF mtcbind.refusal DEFAULT;

SELECT pg_catalog.pg_extension_config_dump('mtcbind.refusal_subject', '');
SELECT pg_catalog.pg_extension_config_dump('mtcbind.refusal_subject_subject_seq', '');
SELECT pg_catalog.pg_extension_config_dump('mtcbind.refusal_default', '');

CREATE TRIGGER refusal_subject_append_only
    BEFORE UPDATE OR DELETE ON mtcbind.refusal_subject
    FOR EACH ROW EXECUTE FUNCTION mtcbind.event_append_only();
CREATE TRIGGER refusal_subject_no_truncate BEFORE TRUNCATE ON mtcbind.refusal_subject
    FOR EACH STATEMENT EXECUTE FUNCTION mtcbind.event_append_only();
CREATE TRIGGER refusal_append_only
    BEFORE UPDATE OR DELETE ON mtcbind.refusal
    FOR EACH ROW EXECUTE FUNCTION mtcbind.event_append_only();

-- A partition of refusal: a subject's refusals by time, a BRIN of the time
-- for "the last hour", and the TRUNCATE guard.
CREATE FUNCTION mtcbind._prepare_refusal_partition(partition_name name)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $prepare$
BEGIN
    EXECUTE pg_catalog.format('CREATE INDEX %I ON mtcbind.%I (subject, refused_at)',
                              partition_name OPERATOR(pg_catalog.||) '_subject_idx', partition_name);
    EXECUTE pg_catalog.format('CREATE INDEX %I ON mtcbind.%I USING brin (refused_at)',
                              partition_name OPERATOR(pg_catalog.||) '_refused_at_idx', partition_name);
    EXECUTE pg_catalog.format('CREATE TRIGGER refusal_no_truncate BEFORE TRUNCATE ON mtcbind.%I'
                              ' FOR EACH STATEMENT EXECUTE FUNCTION mtcbind.event_append_only()',
                              partition_name);
END
$prepare$;
REVOKE ALL ON FUNCTION mtcbind._prepare_refusal_partition(name) FROM PUBLIC;

SELECT mtcbind._prepare_refusal_partition('refusal_default');
-- The default partition is purged by a DELETE by time: a btree for it.
DROP INDEX mtcbind.refusal_default_refused_at_idx;
CREATE INDEX refusal_default_refused_at_idx ON mtcbind.refusal_default (refused_at);

-- Every refusal, from whichever log holds it.  security_barrier off: a
-- reader's filter on the card, the device or the time reaches the tables'
-- indexes.
CREATE VIEW mtcbind.refusals AS
SELECT e.occurred_at AS refused_at, e.iccid, e.terminal_id, e.imei, e.imsi,
       (e.detail OPERATOR(pg_catalog.->>) 'imeisv')::mtcbind.imeisv AS imeisv,
       e.reason, e.binding_id,
       (e.detail OPERATOR(pg_catalog.->>) 'device_binding_id')::bigint AS device_binding_id,
       (e.detail OPERATOR(pg_catalog.->>) 'uicc_binding_id')::bigint AS uicc_binding_id,
       (e.detail OPERATOR(pg_catalog.->>) 'block_id')::bigint AS block_id,
       e.naf_id, e.actor, e.event_id, NULL::bigint AS subject, 'binding_event'::text AS logged_in
  FROM mtcbind.binding_event e
 WHERE e.event OPERATOR(pg_catalog.=) 'rejected'
UNION ALL
SELECT r.refused_at, s.iccid, s.terminal_id, s.imei, s.imsi, s.imeisv,
       s.reason, s.binding_id, s.device_binding_id, s.uicc_binding_id, s.block_id,
       s.naf_id, s.actor, NULL::bigint, r.subject, 'refusal'::text
  FROM mtcbind.refusal r
  -- LEFT: a refusal whose code is gone is still shown (a transaction kept
  -- open for longer than retention can commit one after purge_events
  -- removed its code)
  LEFT JOIN mtcbind.refusal_subject s ON s.subject OPERATOR(pg_catalog.=) r.subject;
COMMENT ON VIEW mtcbind.refusals IS
    'Every refusal of request_key: time, card, device, IMEI, IMSI, IMEISV presented, reason, bindings and block in the way, NAF, session user, and which log holds it';

GRANT SELECT ON mtcbind.refusal, mtcbind.refusal_subject, mtcbind.refusals
    TO mtcbind_admin, mtcbind_auditor;

-- Makes one day's partition of a log (binding_event, key_issue or refusal) if it is
-- missing and the default partition holds none of that day's rows; true if
-- it made one.  Made apart and attached: ATTACH PARTITION takes only SHARE
-- UPDATE EXCLUSIVE on the log, so inserts go on meanwhile.  It checks the
-- default partition, which it locks exclusively.
CREATE FUNCTION mtcbind._add_day_partition(log name, day date)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET DateStyle = 'ISO, YMD'
SET TimeZone = 'UTC'
-- the partitions go to the database's default tablespace and the heap,
-- whatever the caller's session says
SET default_tablespace = ''
SET default_table_access_method = 'heap'
AS $add$
DECLARE
    part      text := log OPERATOR(pg_catalog.||) '_p' OPERATOR(pg_catalog.||) pg_catalog.to_char(day, 'YYYYMMDD');
    time_col  text := CASE log WHEN 'binding_event' THEN 'occurred_at' WHEN 'key_issue' THEN 'issued_at'
                               WHEN 'refusal' THEN 'refused_at' END;
    day_start timestamptz := day::timestamp AT TIME ZONE 'UTC';
    day_end   timestamptz := (day OPERATOR(pg_catalog.+) 1)::timestamp AT TIME ZONE 'UTC';
    taken     boolean;
BEGIN
    IF time_col IS NULL THEN
        RAISE EXCEPTION 'log must be binding_event, key_issue or refusal' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT FROM pg_catalog.pg_class c
                WHERE c.relname OPERATOR(pg_catalog.=) part
                  AND c.relnamespace OPERATOR(pg_catalog.=) 'mtcbind'::pg_catalog.regnamespace) THEN
        RETURN false;
    END IF;
    EXECUTE pg_catalog.format('SELECT EXISTS (SELECT FROM mtcbind.%I WHERE %I OPERATOR(pg_catalog.>=) $1 AND %I OPERATOR(pg_catalog.<) $2)',
                              log OPERATOR(pg_catalog.||) '_default', time_col, time_col)
        INTO taken USING day_start, day_end;
    IF taken THEN
        RAISE NOTICE 'rows of % are in %_default already; that day gets no partition of %', day, log, log;
        RETURN false;
    END IF;
    EXECUTE pg_catalog.format('CREATE TABLE mtcbind.%I (LIKE mtcbind.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                              part, log);
    IF log OPERATOR(pg_catalog.=) 'binding_event' THEN
        PERFORM mtcbind._prepare_event_partition(part);
    ELSIF log OPERATOR(pg_catalog.=) 'key_issue' THEN
        PERFORM mtcbind._prepare_key_issue_partition(part);
    ELSE
        PERFORM mtcbind._prepare_refusal_partition(part);
    END IF;
    PERFORM mtcbind._lock_event_table(pg_catalog.format('mtcbind.%I', log OPERATOR(pg_catalog.||) '_default')::pg_catalog.regclass);
    EXECUTE pg_catalog.format('ALTER TABLE mtcbind.%I ATTACH PARTITION mtcbind.%I FOR VALUES FROM (%L) TO (%L)',
                              log, part, day_start, day_end);
    RETURN true;
END
$add$;
REVOKE ALL ON FUNCTION mtcbind._add_day_partition(name, date) FROM PUBLIC;

-- Every log gets its day partitions; returns on how many days it made
-- one (of any log).
CREATE OR REPLACE FUNCTION mtcbind.maintain_event_log(days_ahead integer DEFAULT 7)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET DateStyle = 'ISO, YMD'
SET TimeZone = 'UTC'
SET default_tablespace = ''
SET default_table_access_method = 'heap'
AS $maintain$
DECLARE
    today date := (pg_catalog.clock_timestamp() AT TIME ZONE 'UTC')::date;
    day   date;
    made  integer := 0;
    event_part boolean;
    key_part   boolean;
    refusal_part boolean;
BEGIN
    IF days_ahead IS NULL THEN
        RAISE EXCEPTION 'days_ahead must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF days_ahead OPERATOR(pg_catalog.<) 0 OR days_ahead OPERATOR(pg_catalog.>) 366 THEN
        RAISE EXCEPTION 'days_ahead must be between 0 and 366'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR i IN 0..days_ahead LOOP
        day := today OPERATOR(pg_catalog.+) i;
        event_part := mtcbind._add_day_partition('binding_event', day);
        key_part := mtcbind._add_day_partition('key_issue', day);
        refusal_part := mtcbind._add_day_partition('refusal', day);
        IF event_part OR key_part OR refusal_part THEN
            made := made OPERATOR(pg_catalog.+) 1;
        END IF;
    END LOOP;
    RETURN made;
END
$maintain$;

COMMENT ON FUNCTION mtcbind.maintain_event_log(integer) IS
    'Creates the missing daily partitions of mtcbind.binding_event, mtcbind.key_issue and mtcbind.refusal from today to days_ahead; run daily';

-- Retention of every log: key issues are events of kind key_issued, and
-- refusals of kind rejected, wherever they are recorded.
CREATE OR REPLACE FUNCTION mtcbind.purge_events(older_than interval, reason text, kinds text[] DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET DateStyle = 'ISO, YMD'
SET TimeZone = 'UTC'
-- the drop guard lets the retention path drop day partitions that hold events
SET mtcbind.allow_drop_with_data = on
AS $purge$
DECLARE
    cutoff    timestamptz;
    log       name;
    part      record;
    rows      bigint;
    removed   bigint := 0;
    dropped   text[] := '{}';
    to_drop   text[];
    part_name text;
    unknown   text;
    codes     bigint := 0;
    subjects  bigint := 0;
BEGIN
    IF older_than IS NULL THEN
        RAISE EXCEPTION 'older_than must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF older_than OPERATOR(pg_catalog.<) interval '0'
       OR older_than OPERATOR(pg_catalog.>) interval '1000 years' THEN
        RAISE EXCEPTION 'older_than must be an interval from zero to 1000 years'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM mtcbind._check_reason(reason);
    IF kinds IS NOT NULL THEN
        SELECT k INTO unknown FROM pg_catalog.unnest(kinds) k
         WHERE k IS NULL OR NOT k OPERATOR(pg_catalog.=) ANY (ARRAY[
               'bound', 'unbound', 'rebound', 'attribute_changed', 'updated', 'truncated',
               'key_issued', 'rejected', 'transfer_authorized', 'transfer_revoked',
               'blocked', 'unblocked', 'policy_changed', 'events_purged']::text[])
         LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'kinds contains %, which is not an event kind',
                coalesce(pg_catalog.quote_literal(pg_catalog.left(unknown, 40)), 'NULL')
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;
    cutoff := pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) older_than;
    -- The device of a compact key issue is read from the binding's moves
    -- (docs/dba-guide.md): they go only with the key issues they tell.
    IF kinds OPERATOR(pg_catalog.&&) '{bound,rebound,unbound}'::text[]
       AND NOT 'key_issued' OPERATOR(pg_catalog.=) ANY (kinds)
       AND EXISTS (SELECT FROM mtcbind.key_issue k WHERE k.issued_at OPERATOR(pg_catalog.<) cutoff) THEN
        RAISE EXCEPTION 'kinds would remove the bound, rebound or unbound events that tell the devices of compact key issues older than the cutoff'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'mtcbind.key_issues reads the device of a key of mtcbind.key_issue from those events.',
                  HINT = 'Add key_issued to kinds, or purge by time alone (kinds NULL).';
    END IF;

    IF kinds IS NULL THEN
        FOREACH log IN ARRAY '{binding_event,key_issue,refusal}'::name[] LOOP
            -- The default partition's old rows first: a DELETE, no table lock.
            removed := removed OPERATOR(pg_catalog.+) mtcbind._delete_events(
                pg_catalog.format('mtcbind.%I', log OPERATOR(pg_catalog.||) '_default')::pg_catalog.regclass, cutoff, NULL);
            -- Partitions of past days get no new rows: count them before
            -- locking.  (The bounds print in ISO and UTC: the function's own
            -- settings.)
            to_drop := '{}';
            FOR part IN
                SELECT c.relname,
                       pg_catalog.substring(pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                                            'TO \(''([^'']+)''\)')::timestamptz AS day_end
                  FROM pg_catalog.pg_inherits i
                  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
                 WHERE i.inhparent OPERATOR(pg_catalog.=) pg_catalog.format('mtcbind.%I', log)::pg_catalog.regclass
                   AND c.relname OPERATOR(pg_catalog.<>) (log OPERATOR(pg_catalog.||) '_default')
                 ORDER BY 2
            LOOP
                CONTINUE WHEN part.day_end IS NULL OR part.day_end OPERATOR(pg_catalog.>) cutoff;
                EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM mtcbind.%I', part.relname) INTO rows;
                removed := removed OPERATOR(pg_catalog.+) rows;
                to_drop := to_drop OPERATOR(pg_catalog.||) part.relname::text;
            END LOOP;
            -- Dropping a partition locks the whole log: only when it is
            -- free, and then only for the drops.
            IF pg_catalog.cardinality(to_drop) OPERATOR(pg_catalog.>) 0 THEN
                PERFORM mtcbind._lock_event_table(pg_catalog.format('mtcbind.%I', log)::pg_catalog.regclass);
                FOREACH part_name IN ARRAY to_drop LOOP
                    EXECUTE pg_catalog.format('DROP TABLE mtcbind.%I', part_name);
                END LOOP;
                dropped := dropped OPERATOR(pg_catalog.||) to_drop;
            END IF;
        END LOOP;
    ELSE
        removed := mtcbind._delete_events('mtcbind.binding_event', cutoff, kinds);
        IF 'key_issued' OPERATOR(pg_catalog.=) ANY (kinds) THEN
            removed := removed OPERATOR(pg_catalog.+) mtcbind._delete_events('mtcbind.key_issue', cutoff, NULL);
        END IF;
        IF 'rejected' OPERATOR(pg_catalog.=) ANY (kinds) THEN
            removed := removed OPERATOR(pg_catalog.+) mtcbind._delete_events('mtcbind.refusal', cutoff, NULL);
        END IF;
    END IF;
    -- Issuer codes last used two or more days before the cutoff's day: every
    -- key issue that names them is older than the cutoff, and gone.  (A
    -- request that finds its code stale moves last_used on first, under the
    -- row's lock, or makes a new code if this removed it.)
    IF kinds IS NULL OR 'key_issued' OPERATOR(pg_catalog.=) ANY (kinds) THEN
        codes := mtcbind._delete_events('mtcbind.key_issuer',
                                        (pg_catalog.timezone('UTC', cutoff)::pg_catalog.date
                                         OPERATOR(pg_catalog.-) 1)::pg_catalog.timestamp
                                        AT TIME ZONE 'UTC', NULL);
    END IF;
    -- Refusal codes likewise.
    IF kinds IS NULL OR 'rejected' OPERATOR(pg_catalog.=) ANY (kinds) THEN
        subjects := mtcbind._delete_events('mtcbind.refusal_subject',
                                           (pg_catalog.timezone('UTC', cutoff)::pg_catalog.date
                                            OPERATOR(pg_catalog.-) 1)::pg_catalog.timestamp
                                           AT TIME ZONE 'UTC', NULL);
    END IF;

    INSERT INTO mtcbind.binding_event (event, reason, detail)
    VALUES ('events_purged', reason,
            pg_catalog.jsonb_build_object('cutoff', cutoff, 'kinds', kinds,
                                          'partitions_dropped', dropped, 'events_removed', removed,
                                          'issuer_codes_removed', codes,
                                          'refusal_codes_removed', subjects));
    RETURN removed;
END
$purge$;

-- No partition of key_issue or refusal is made here: a table made by this
-- script would be a member of the extension, and pg_dump would leave out its
-- rows.  Key issues and refusals go to the default partitions until the next
-- maintain_event_log (run daily) makes the days' partitions
-- (docs/upgrading.md).

------------------------------------------------------------------------------
-- The drop guard runs as the role of the statement it guards, so that it
-- can answer a DROP TABLE or DETACH by a role that does not own the table
-- as PostgreSQL would (42501), before it looks at what the table holds;
-- it reads mtcbind's tables as their owner in C (src/guard.c).  As a
-- SECURITY DEFINER function it could only see the extension's owner.
------------------------------------------------------------------------------
ALTER FUNCTION mtcbind.drop_guard() SECURITY INVOKER;

------------------------------------------------------------------------------
-- The PL/pgSQL functions that roles other than a superuser run: status()
-- (mtcbind_auditor, a monitoring scrape), maintain_event_log
-- (mtcbind_admin), the reason guard (anyone's CREATE or ALTER FUNCTION),
-- and purge_events with them.  PostgreSQL keeps their statements' plans for
-- the server connection, as it keeps the C functions' (which
-- src/planner.c plans with fixed settings), and makes them again with the
-- settings of the session calling then: a caller that set jit_above_cost
-- to 0, or turned index scans off, even with SET LOCAL, left status() at
-- 200 ms a call for every later caller on that connection (under a pooler,
-- every scrape), measured.  They run with PostgreSQL's defaults for what
-- decides a plan, without JIT and without parallel plans (PL/pgSQL asks for
-- them; a session's zero parallel costs would stay in the plans).  What also
-- decides how a statement runs (work_mem) stays the server's.  The list is
-- a constant: fixed_planner_settings of src/planner.c, enable_seqscan on,
-- without work_mem and hash_mem_multiplier; keep the two in step.
------------------------------------------------------------------------------
DO $planner_settings$
DECLARE
    fn text;
BEGIN
    FOREACH fn IN ARRAY ARRAY['mtcbind.status()',
                              'mtcbind.maintain_event_log(integer)',
                              'mtcbind.purge_events(interval, text, text[])',
                              'mtcbind.reason_guard()']
    LOOP
        EXECUTE 'ALTER FUNCTION ' || fn
             || ' SET jit = off'
             || ' SET enable_seqscan = on SET enable_indexscan = on SET enable_indexonlyscan = on'
             || ' SET enable_bitmapscan = on SET enable_tidscan = on SET enable_sort = on'
             || ' SET enable_incremental_sort = on SET enable_hashagg = on SET enable_material = on'
             || ' SET enable_memoize = on SET enable_nestloop = on SET enable_mergejoin = on'
             || ' SET enable_hashjoin = on SET enable_async_append = on'
             || ' SET enable_partition_pruning = on SET enable_partitionwise_join = off'
             || ' SET enable_partitionwise_aggregate = off'
             || ' SET seq_page_cost = 1 SET random_page_cost = 4 SET cpu_tuple_cost = 0.01'
             || ' SET cpu_index_tuple_cost = 0.005 SET cpu_operator_cost = 0.0025'
             || ' SET effective_cache_size = ''4GB'' SET constraint_exclusion = partition'
             || ' SET cursor_tuple_fraction = 0.1 SET from_collapse_limit = 8'
             || ' SET join_collapse_limit = 8 SET geqo_threshold = 12'
             || ' SET max_parallel_workers_per_gather = 0';
    END LOOP;
END
$planner_settings$;
