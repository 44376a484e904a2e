--
-- The CHECK rules of mtcbind.binding as C functions (1.1): each function
-- gives the verdict of the 1.0 expression it replaced on every input, NULLs
-- included, and the constraints keep their names and their errors.  The 1.0
-- expressions are written out below, as they stood in mtcbind--1.0.sql, and
-- evaluated beside the functions.  The event log keeps its 1.0 rule.
--
SET client_min_messages = warning;
\set test_db regress_mtcbind_constraints
\i sql/include/own_database.sql

-- Rule: terminal_id holds 1 to 255 octets (not characters), also when the
-- value arrives compressed from another table.
CREATE TEMP TABLE ids (label text, v text);
ALTER TABLE ids ALTER v SET STORAGE main;
INSERT INTO ids VALUES
    ('null', NULL), ('empty', ''), ('one', 'a'),
    ('255 octets', repeat('a', 255)), ('256 octets', repeat('a', 256)),
    ('254 octets in 127 characters', repeat('é', 127)),
    ('256 octets in 128 characters', repeat('é', 128)),
    ('6000 octets, stored compressed', repeat('meter', 1200));
SELECT label,
       pg_column_size(v) < octet_length(v) AS compressed,
       mtcbind._terminal_id_fits(v) AS fits,
       mtcbind._terminal_id_fits(v) IS NOT DISTINCT FROM
           (pg_catalog.octet_length(v) OPERATOR(pg_catalog.>=) 1
            AND pg_catalog.octet_length(v) OPERATOR(pg_catalog.<=) 255) AS as_in_1_0
  FROM ids ORDER BY label;

-- Rule: both application ids hold at most 255 octets; with a NULL the
-- verdict is the three-valued AND's.
SELECT a.label AS terminal_appli_id, b.label AS uicc_appli_id,
       mtcbind._appli_ids_fit(a.v, b.v) AS fits
  FROM ids a, ids b
 WHERE mtcbind._appli_ids_fit(a.v, b.v) IS DISTINCT FROM
       (pg_catalog.octet_length(a.v) OPERATOR(pg_catalog.<=) 255
        AND pg_catalog.octet_length(b.v) OPERATOR(pg_catalog.<=) 255);
SELECT count(*) AS pairs_compared,
       count(*) FILTER (WHERE mtcbind._appli_ids_fit(a.v, b.v)) AS fit,
       count(*) FILTER (WHERE NOT mtcbind._appli_ids_fit(a.v, b.v)) AS do_not_fit,
       count(*) FILTER (WHERE mtcbind._appli_ids_fit(a.v, b.v) IS NULL) AS unknown
  FROM ids a, ids b;

-- Rule: an IMEISV, where recorded, belongs to the recorded IMEI.
SELECT i.imei, s.imeisv,
       mtcbind._imeisv_matches_imei(i.imei::mtcbind.imei, s.imeisv::mtcbind.imeisv) AS matches,
       mtcbind._imeisv_matches_imei(i.imei::mtcbind.imei, s.imeisv::mtcbind.imeisv) IS NOT DISTINCT FROM
           (s.imeisv IS NULL
            OR (i.imei IS NOT NULL
                AND i.imei::mtcbind.imei OPERATOR(pg_catalog.=) mtcbind.imei(s.imeisv::mtcbind.imeisv))) AS as_in_1_0
  FROM (VALUES (NULL), ('490154203237518'), ('356938035643809')) AS i(imei),
       (VALUES (NULL), ('4901542032375101'), ('3569380356438091')) AS s(imeisv)
 ORDER BY i.imei NULLS FIRST, s.imeisv NULLS FIRST;

-- Rule: the constraints keep their 1.0 names and call the functions.  A
-- fresh install validates them (its tables are empty); an update from 1.0
-- leaves them NOT VALID on a table that held rows (t/150_upgrade.pl).  The
-- event log's rule is the 1.0 expression, so that the day partitions of a
-- 1.0 dump attach to a 1.1 install.
SELECT conrelid::regclass AS tbl, conname, convalidated, left(pg_get_constraintdef(oid), 70) AS def
  FROM pg_constraint
 WHERE contype = 'c' AND conrelid IN ('mtcbind.binding'::regclass, 'mtcbind.binding_event'::regclass)
 ORDER BY 1, 2;
-- whoever may write the tables may evaluate them
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_exec,
       p.provolatile AS volatility, p.prosecdef AS definer
  FROM pg_proc p
 WHERE p.oid IN ('mtcbind._terminal_id_fits(text)'::regprocedure,
                 'mtcbind._appli_ids_fit(text, text)'::regprocedure,
                 'mtcbind._imeisv_matches_imei(mtcbind.imei, mtcbind.imeisv)'::regprocedure)
 ORDER BY 1;

-- Rule: a row that breaks a rule is refused with 23514 naming the
-- constraint, and nothing is written.  (The detail, the failing row with
-- its time of insertion, is cut off here.)
CREATE FUNCTION pg_temp.refusal(stmt text) RETURNS text LANGUAGE sql AS $$
    SELECT split_part(pg_temp.try(stmt), ' | ', 1)
$$;
SELECT pg_temp.refusal($$INSERT INTO mtcbind.binding (terminal_id, iccid) VALUES ('', '89441000000000000018')$$);
SELECT pg_temp.refusal($$INSERT INTO mtcbind.binding (terminal_id, iccid) VALUES (repeat('é', 128), '89441000000000000018')$$);
SELECT pg_temp.refusal($$INSERT INTO mtcbind.binding (terminal_id, iccid, uicc_appli_id) VALUES ('m1', '89441000000000000018', repeat('u', 256))$$);
SELECT pg_temp.refusal($$INSERT INTO mtcbind.binding (terminal_id, iccid, imeisv) VALUES ('m1', '89441000000000000018', '4901542032375101')$$);
SELECT pg_temp.refusal($$INSERT INTO mtcbind.binding (terminal_id, iccid, imei, imeisv) VALUES ('m1', '89441000000000000018', '356938035643809', '4901542032375101')$$);
SELECT count(*) AS bindings FROM mtcbind.binding;
SELECT count(*) AS events FROM mtcbind.binding_event;
-- a row that keeps every rule is written, and its update too
INSERT INTO mtcbind.binding (terminal_id, iccid, imei, imeisv, terminal_appli_id)
VALUES (repeat('é', 127), '89441000000000000018', '490154203237518', '4901542032375101', repeat('t', 255));
SELECT pg_temp.refusal($$UPDATE mtcbind.binding SET imeisv = '3569380356438091'$$);
UPDATE mtcbind.binding SET imeisv = '4901542032375199', terminal_appli_id = '';
SELECT octet_length(terminal_id) AS terminal_octets, imei, imeisv FROM mtcbind.binding;

-- Rule: the DBA's step after an update (docs/upgrading.md) runs on any
-- database.
ALTER TABLE mtcbind.binding VALIDATE CONSTRAINT binding_terminal_id_check;
ALTER TABLE mtcbind.binding VALIDATE CONSTRAINT binding_appli_id_check;
ALTER TABLE mtcbind.binding VALIDATE CONSTRAINT binding_imeisv_check;

\c :regress_db
DROP DATABASE :"test_db";
