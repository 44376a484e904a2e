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
-- owner of mtcbind.binding (EXECUTE is mtcbind_admin's alone).
------------------------------------------------------------------------------
CREATE FUNCTION mtcbind.provision(source regclass, on_error text DEFAULT 'abort',
                                  reason text DEFAULT NULL)
RETURNS TABLE (line bigint, terminal_id text, iccid text, sqlstate text, problem text)
AS 'MODULE_PATHNAME', 'mtcbind_provision'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION mtcbind.provision(regclass, text, text) IS
    'Binds the pairs of a table (terminal_id, iccid, optional imei, imeisv, imsi, ...); returns the lines it could not bind';

REVOKE ALL ON FUNCTION mtcbind.provision(regclass, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mtcbind.provision(regclass, text, text) TO mtcbind_admin;

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
    SELECT pg_catalog.sum(pg_catalog.pg_total_relation_size(p.relid))::bigint,
           (pg_catalog.count(*) FILTER (WHERE p.isleaf))::integer,
           pg_catalog.min(c.relname::text) FILTER (WHERE p.isleaf AND c.relname OPERATOR(pg_catalog.~) '^binding_event_p')
      INTO event_log_bytes, event_partitions, oldest_event_partition
      FROM pg_catalog.pg_partition_tree('mtcbind.binding_event'::pg_catalog.regclass) p
      JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) p.relid;
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
