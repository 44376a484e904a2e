--
-- Drivers that type their parameters: JDBC's setString (varchar),
-- psycopg 3's binary parameters (text), PREPARE ... (text), a text or
-- char(n) column of a staging table.  Every public function that takes an
-- identifier accepts it from text, checked by the type's input function.
--
SET client_min_messages = warning;
\set test_db regress_mtcbind_drivers
\i sql/include/own_database.sql

-- Rule: request_key with every identifier typed text (psycopg 3, PREPARE).
PREPARE request_text(bytea, text, bytea, timestamptz, text, text, text, text, text, text, text) AS
    SELECT outcome, reason, length(ks_local) AS key_octets
      FROM mtcbind.request_key($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11);
EXECUTE request_text(mtcbind.naf_id('naf.example.org', '\x0100000002'), 'b@bsf.example.org',
    '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', now() + interval '1 day',
    'meter-d1', '89441000000000000018', '490154203237518', NULL, '001010123456789', '', '');
-- ... typed varchar (JDBC setString), with an IMEISV this time.
PREPARE request_varchar(bytea, varchar, bytea, timestamptz, varchar, varchar, varchar, varchar, varchar) AS
    SELECT outcome, reason FROM mtcbind.request_key($1, $2, $3, $4, $5, $6, $7, $8, $9);
EXECUTE request_varchar(mtcbind.naf_id('naf.example.org', '\x0100000002'), 'b@bsf.example.org',
    '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', now() + interval '1 day',
    'meter-d1', '89441000000000000018', '490154203237518', '4901542032375101', '001010123456789');
-- ... and a bad identifier in a text parameter is still refused by its type.
SELECT pg_temp.try($$EXECUTE request_text(mtcbind.naf_id('naf.example.org', '\x0100000002'), 'b@bsf.example.org',
    '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', now() + interval '1 day',
    'meter-d1', '89441000000000000019', NULL, NULL, NULL, '', '')$$);

-- Rule: the administration functions take identifiers from text, varchar
-- and char(n) columns, as a staging table of a SIM vendor's file has them.
CREATE TEMP TABLE staging (terminal varchar(40), card char(20), device_imei text, card_imsi varchar(15));
INSERT INTO staging VALUES
    ('meter-d2', '89441000000000000026', '35-123456-000002-8', '001010000000002'),
    ('meter-d3', '8944100000000000034', '351234560000036', NULL);
SELECT s.terminal, mtcbind.bind(s.terminal, s.card, s.device_imei, imsi => s.card_imsi) > 0 AS bound
  FROM staging s ORDER BY s.terminal;
PREPARE admin_text(text, text, text) AS
    SELECT mtcbind.authorize_transfer($1, $2, reason => $3) > 0 AS authorized;
EXECUTE admin_text('89441000000000000026', 'meter-d9', 'swap');
PREPARE rebind_varchar(varchar, varchar, varchar) AS SELECT mtcbind.rebind($1, $2, $3) > 0 AS moved;
EXECUTE rebind_varchar('89441000000000000026', 'meter-d9', 'field swap');
PREPARE block_text(text, text) AS SELECT mtcbind.block_uicc($1, $2) > 0 AS blocked;
EXECUTE block_text('8944 1000 0000 0000 0018', 'stolen');
PREPARE unblock_text(text, text) AS SELECT mtcbind.unblock_uicc($1, $2) AS lifted;
EXECUTE unblock_text('89441000000000000018', 'found');
PREPARE block_device_text(text, text, text) AS SELECT mtcbind.block_device($1, $2, $3) > 0 AS blocked;
EXECUTE block_device_text('meter-d3', 'stolen', '351234560000036');
PREPARE unblock_device_text(text, text, text) AS SELECT mtcbind.unblock_device($1, $2, $3) AS lifted;
EXECUTE unblock_device_text('meter-d3', 'found', NULL);
PREPARE unbind_text(text, text) AS SELECT mtcbind.unbind($1, $2) AS unbound;
EXECUTE unbind_text('8944100000000000034', 'retired');

-- Rule: the key functions and the helpers take identifiers from text too.
PREPARE ks_local_text(bytea, text, text, text, text, text, bytea, bytea) AS
    SELECT length(mtcbind.ks_local($1, $2, $3, $4, $5, $6, $7, $8)) AS key_octets;
EXECUTE ks_local_text('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
    'b@bsf.example.org', '89441000000000000018', 'meter-d1', '', '',
    '\x000102030405060708090a0b0c0d0e0f', '\x101112131415161718191a1b1c1d1e1f');
-- (mtcbind.imei(x) with x text is PostgreSQL's function-style cast to imei;
-- the IMEI of an IMEISV given as text is mtcbind.imei(x::mtcbind.imeisv).)
PREPARE helpers_text(text, text, text) AS
    SELECT mtcbind.tac($1) AS tac, mtcbind.svn($2) AS svn,
           mtcbind.imei($2::mtcbind.imeisv) AS imei_of_imeisv, mtcbind.mcc($3) AS mcc;
EXECUTE helpers_text('490154203237518', '4901542032375101', '001010123456789');

-- Rule: text compares with the identifier types by their rules (spacing,
-- check digit added) without ambiguity, in either order.
SELECT count(*) AS by_text_param FROM mtcbind.binding WHERE iccid = '8944 1000 0000 0000 0026'::text;
SELECT count(*) AS char_first FROM staging s JOIN mtcbind.binding b ON s.card = b.iccid;

\c :regress_db
DROP DATABASE :"test_db";
