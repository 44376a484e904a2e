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
