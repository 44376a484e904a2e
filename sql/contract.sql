--
-- The public API, as the catalog sees it: names, argument names and
-- types, defaults, results, volatility, strictness, parallel safety,
-- security.  A change here is a change of the contract.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS mtcbind;

SELECT p.proname,
       pg_get_function_arguments(p.oid) AS arguments,
       pg_get_function_result(p.oid) AS result,
       p.provolatile AS vol, p.proisstrict AS strict, p.proparallel AS par,
       p.prosecdef AS secdef
  FROM pg_proc p
 WHERE p.pronamespace = 'mtcbind'::regnamespace
   AND p.proname IN ('kdf', 'gba_naf_keys', 'naf_id', 'b_tid', 'ks_local', 'request_key',
                     'bind', 'unbind', 'authorize_transfer', 'rebind', 'imei', 'tac', 'svn', 'mcc',
                     'block_uicc', 'block_device', 'unblock_uicc', 'unblock_device',
                     'set_policy', 'settings', 'maintain_event_log', 'purge_events')
 ORDER BY p.proname, arguments;

-- The identifier types: 8 bytes, by value, with binary I/O and default
-- btree and hash operator classes.
SELECT t.typname, t.typlen, t.typbyval, t.typreceive <> 0 AS has_recv, t.typsend <> 0 AS has_send,
       (SELECT string_agg(am.amname, ',' ORDER BY am.amname)
          FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod
         WHERE oc.opcintype = t.oid AND oc.opcdefault) AS default_opclasses
  FROM pg_type t
 WHERE t.typnamespace = 'mtcbind'::regnamespace AND t.typname IN ('imei', 'imeisv', 'iccid', 'imsi')
 ORDER BY t.typname;

-- Tables, their UNIQUE constraints, and the roles.
SELECT conrelid::regclass AS tab, conname, pg_get_constraintdef(oid) AS def
  FROM pg_constraint
 WHERE conrelid IN ('mtcbind.binding'::regclass, 'mtcbind.binding_event'::regclass)
   AND contype IN ('p', 'u')
 ORDER BY 1, 2;
SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'mtcbind\_%' ORDER BY 1;
-- The settings exist once the library is loaded in the session (any call
-- of an mtcbind function or type loads it; see docs/dba-guide.md).
SELECT mtcbind.svn('3520990017614823') AS loads_the_library;
SELECT name, setting, context, vartype FROM pg_settings WHERE name LIKE 'mtcbind.%' ORDER BY name;
-- The extension's own settings: not relocatable; its objects live in schema
-- mtcbind, which it creates itself (the control file names pg_catalog, which
-- holds only the types' comparison operators and min/max).
SELECT extname, extrelocatable, extnamespace::regnamespace FROM pg_extension WHERE extname = 'mtcbind';
SELECT count(*) FILTER (WHERE o.oprnamespace = 'pg_catalog'::regnamespace) AS catalog_operators,
       count(*) FILTER (WHERE o.oprnamespace = 'mtcbind'::regnamespace) AS schema_operators
  FROM pg_operator o JOIN pg_type t ON t.oid = o.oprleft
 WHERE t.typnamespace = 'mtcbind'::regnamespace;
-- Every table and view of the extension (day partitions of the event log
-- come later, from maintain_event_log), and the event trigger guarding
-- DROP EXTENSION.
SELECT c.relname, c.relkind FROM pg_class c
 WHERE c.relnamespace = 'mtcbind'::regnamespace AND c.relkind IN ('r', 'p', 'v')
 ORDER BY c.relname;
SELECT evtname, evtevent, evttags, evtenabled FROM pg_event_trigger WHERE evtname LIKE 'mtcbind%' ORDER BY evtname;
