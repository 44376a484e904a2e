--
-- Edge cases of every public function: NULL in each argument position,
-- empty strings, the largest allowed values, values one past them, a
-- 10-million-character input, non-ASCII text and injection-looking text.
-- Every case ends in a correct answer or a clean error with its SQLSTATE:
-- never a crash (the file runs to its last SELECT), never a partial write
-- (the rows of the five tables and the positions of their four sequences
-- are the same after each group of failing calls as before it), never an
-- error message that grows with its input or shows key material.
--
SET client_min_messages = warning;
-- A database of its own, so that no other test's rows change what this one sees.
SELECT current_database() AS regress_db \gset
CREATE DATABASE regress_mtcbind_edge_cases;
\c regress_mtcbind_edge_cases
SET client_min_messages = warning;
CREATE EXTENSION mtcbind;
SET bytea_output = hex;
-- The non-ASCII cases below are written for a UTF-8 database.
SELECT getdatabaseencoding() AS encoding;

--
-- Helpers
--

-- Control characters in a result, shown escaped so that the expected
-- output stays one line per row (and the right-to-left override used
-- below does not reorder it on screen).
CREATE FUNCTION pg_temp.visible(s text) RETURNS text LANGUAGE sql AS $$
    SELECT replace(replace(replace(replace(s, E'\r', '\r'), E'\n', '\n'), E'\t', '\t'),
                   E'\u202e', '<U+202E>')
$$;

CREATE FUNCTION pg_temp.try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    detail text;
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN pg_temp.visible(SQLSTATE || ': ' || SQLERRM
        || CASE WHEN detail <> '' THEN ' | ' || detail ELSE '' END);
END $$;

-- The value of a one-column, one-row query ("(null)" for NULL), or its
-- SQLSTATE, message and detail.
CREATE FUNCTION pg_temp.val(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    result text;
    detail text;
BEGIN
    EXECUTE stmt INTO result;
    RETURN pg_temp.visible(coalesce(result, '(null)'));
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN pg_temp.visible(SQLSTATE || ': ' || SQLERRM
        || CASE WHEN detail <> '' THEN ' | ' || detail ELSE '' END);
END $$;

-- Everything an error tells the client: SQLSTATE, message, detail, hint
-- ('ok' when there is no error).
CREATE FUNCTION pg_temp.error_text(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    msg text;
    detail text;
    hint text;
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                            hint = PG_EXCEPTION_HINT;
    RETURN concat_ws(' | ', SQLSTATE, msg, nullif(detail, ''), nullif(hint, ''));
END $$;

-- The error of a statement, in parts (all NULL when there is none).
CREATE FUNCTION pg_temp.err(stmt text, OUT state text, OUT message text, OUT detail text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL;
END $$;

-- Calls fn once per argument, with that argument NULL (typed as declared)
-- and the others as given; shape wraps the call into a query of one value.
-- Arguments past the declared ones are elements of a VARIADIC array.
CREATE FUNCTION pg_temp.each_null(fn regprocedure, args text[], shape text DEFAULT 'SELECT %s')
RETURNS TABLE (argument text, result text) LANGUAGE plpgsql AS $$
DECLARE
    p pg_proc;
    a text[];
    typ oid;
BEGIN
    SELECT * INTO p FROM pg_proc WHERE oid = fn;
    FOR i IN 1 .. cardinality(args) LOOP
        IF p.provariadic <> 0 AND i >= p.pronargs THEN
            typ := p.provariadic;
            argument := p.proargnames[p.pronargs] || '[' || (i - p.pronargs + 1) || ']';
        ELSE
            typ := p.proargtypes[i - 1];
            argument := p.proargnames[i];
        END IF;
        a := args;
        a[i] := 'NULL::' || format_type(typ, NULL);
        result := pg_temp.val(format(shape, format('%I.%I(%s)', p.pronamespace::regnamespace,
                                                   p.proname, array_to_string(a, ', '))));
        RETURN NEXT;
    END LOOP;
END $$;

-- What "written" means here: the rows of the five tables, and how far
-- their sequences have gone (a failed call must not even draw an id).
CREATE FUNCTION pg_temp.state() RETURNS TABLE (item text, n bigint) LANGUAGE sql AS $$
    SELECT 'binding', count(*) FROM mtcbind.binding
    UNION ALL SELECT 'binding_event', count(*) FROM mtcbind.binding_event
    UNION ALL SELECT 'blocklist', count(*) FROM mtcbind.blocklist
    UNION ALL SELECT 'transfer_authorization', count(*) FROM mtcbind.transfer_authorization
    UNION ALL SELECT 'policy', count(*) FROM mtcbind.policy
    UNION ALL SELECT 'binding_id_seq', CASE WHEN is_called THEN last_value ELSE 0 END
                FROM mtcbind.binding_binding_id_seq
    UNION ALL SELECT 'event_id_seq', CASE WHEN is_called THEN last_value ELSE 0 END
                FROM mtcbind.binding_event_event_id_seq
    UNION ALL SELECT 'block_id_seq', CASE WHEN is_called THEN last_value ELSE 0 END
                FROM mtcbind.blocklist_block_id_seq
    UNION ALL SELECT 'authorization_id_seq', CASE WHEN is_called THEN last_value ELSE 0 END
                FROM mtcbind.transfer_authorization_id_seq
$$;
CREATE TEMP TABLE snapshot (item text PRIMARY KEY, n bigint NOT NULL);
-- Remembers the state.
CREATE FUNCTION pg_temp.snap() RETURNS void LANGUAGE sql AS $$
    DELETE FROM pg_temp.snapshot;
    INSERT INTO pg_temp.snapshot SELECT * FROM pg_temp.state();
$$;
-- What changed since snap(): 'unchanged', or each item and its change.
CREATE FUNCTION pg_temp.changes() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(s.item || ' ' || CASE WHEN n.n > s.n THEN '+' ELSE '' END || (n.n - s.n),
                               ', ' ORDER BY s.item COLLATE "C"), 'unchanged')
      FROM pg_temp.snapshot s JOIN pg_temp.state() n USING (item)
     WHERE n.n <> s.n
$$;

-- The kinds of the events written since snap(), in order.
CREATE FUNCTION pg_temp.new_events() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(event, ', ' ORDER BY event_id), 'none')
      FROM mtcbind.binding_event
     WHERE event_id > (SELECT n FROM pg_temp.snapshot WHERE item = 'event_id_seq')
$$;

-- HMAC-SHA-256 from PostgreSQL's sha256(), for a key of at most 64 octets,
-- and S = FC || P0 || L0 || ... built in SQL: an independent check of the
-- KDF at its largest parameters.
CREATE FUNCTION pg_temp.pad(k bytea, pad integer) RETURNS bytea LANGUAGE sql AS $$
    SELECT string_agg(set_byte('\x00'::bytea, 0,
                               (CASE WHEN i < length(k) THEN get_byte(k, i) ELSE 0 END) # pad),
                      ''::bytea ORDER BY i)
      FROM generate_series(0, 63) i
$$;
CREATE FUNCTION pg_temp.hmac(k bytea, m bytea) RETURNS bytea LANGUAGE sql AS $$
    SELECT sha256(pg_temp.pad(k, 92) || sha256(pg_temp.pad(k, 54) || m))
$$;
CREATE FUNCTION pg_temp.s(fc integer, VARIADIC p bytea[]) RETURNS bytea LANGUAGE sql AS $$
    SELECT set_byte('\x00'::bytea, 0, fc)
        || coalesce(string_agg(x || set_byte(set_byte('\x0000'::bytea, 0, length(x) >> 8),
                                             1, length(x) & 255), ''::bytea ORDER BY n), ''::bytea)
      FROM unnest(p) WITH ORDINALITY AS u(x, n)
$$;
-- The check itself, on RFC 5448 Appendix C case 1 (the vector of docs/kdf.md).
SELECT pg_temp.hmac('\x5349fbe098649f948f5d2e973a81c00f9744871ad32bf9bbd1dd5ce54e3e2e5a',
                    pg_temp.s(32, convert_to('WLAN', 'UTF8'), '\xbb52e91c747a'))
       = '\x0093962d0dd84aa5684b045c9edffa04ccfc230ca74fcc96c0a5d61164f5a76c' AS hmac_checked;

-- A request with every argument but the pair at a working default; returns
-- outcome, reason and binding id.
CREATE FUNCTION pg_temp.rk(term text, card text, imei text DEFAULT NULL,
                           imeisv text DEFAULT NULL, imsi text DEFAULT NULL,
                           tappli text DEFAULT '', uappli text DEFAULT '',
                           naf bytea DEFAULT '\x6e61662e6578616d706c652e6f72670100000002',
                           btid text DEFAULT 'b@bsf.example.org',
                           key bytea DEFAULT '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
                           expiry timestamptz DEFAULT now() + interval '1 day')
RETURNS text LANGUAGE sql AS $$
    SELECT r.outcome || coalesce(' ' || r.reason, '') || coalesce(' #' || r.binding_id, '')
      FROM mtcbind.request_key(naf, btid, key, expiry, term, card, imei, imeisv, imsi, tappli, uappli) r
$$;

-- The texts used throughout.
CREATE TEMP TABLE txt (name text PRIMARY KEY, t text NOT NULL);
INSERT INTO txt VALUES
    ('injection',   $q$'); DROP TABLE mtcbind.binding; --$q$),
    ('quotes',      $q$O'Brien "quoted" `back`$q$),
    ('dollars',     $q$$$ $x$ $$$q$),
    ('backslashes', E'C:\\path\\to\\x \\x00 \\\\'),
    ('format',      '%s %n %x %p %999999999d %%'),
    ('newlines',    E'line1\nline2\r\nline3\r'),
    ('multibyte',   'Zählerstand-Überwachung-日本語-€'),
    ('emoji',       '📟🔑👩‍💻🇩🇪'),
    ('combining',   E'cafe\u0301 n\u0303 a\u0308\u0304'),
    ('high_bit',    convert_from('\xa0a9c0e9f7ff'::bytea, 'LATIN1')),
    ('rtl',         E'meter-\u202egnp.exe'),
    ('json',        $q${"reason": "x", "event_id": 1}\u0000$q$);
SELECT name, length(t) AS characters, octet_length(t) AS octets FROM txt ORDER BY name COLLATE "C";

--
-- 1. The identifier types' input functions, through casts; and tac, svn,
--    mcc, imei(imeisv)
--

SELECT pg_temp.snap();

-- Rule: NULL casts to NULL; every other bad input is 22P02 naming the
-- type, showing at most 40 characters of the input, saying what is wrong.
SELECT t.typ, c.label, pg_temp.val(format('SELECT (%s)::%s', c.expr, t.typ)) AS result
  FROM (VALUES ('mtcbind.imei'), ('mtcbind.imeisv'), ('mtcbind.iccid'), ('mtcbind.imsi')) t(typ),
       (VALUES (1, 'null', 'NULL::text'),
               (2, 'empty', $$''$$),
               (3, 'blanks', $$E' \t\n\r' || chr(11) || E'\f'$$),
               (4, 'only hyphens', $$'---'$$),
               (5, 'injection', $$(SELECT t FROM txt WHERE name = 'injection')$$),
               (6, 'format', $$(SELECT t FROM txt WHERE name = 'format')$$),
               (7, 'backslashes', $$(SELECT t FROM txt WHERE name = 'backslashes')$$),
               (8, 'emoji', $$(SELECT t FROM txt WHERE name = 'emoji')$$)) c(n, label, expr)
 ORDER BY c.n, t.typ COLLATE "C";

-- Rule: non-ASCII digits are not digits; a multibyte character is named
-- whole, control characters escaped, positions count characters.
SELECT c.label, pg_temp.val(format('SELECT (%s)::mtcbind.imei', c.expr)) AS result
  FROM (VALUES (1, 'fullwidth digits', $$'４９０１５４２０３２３７５１８'$$),
               (2, 'arabic-indic digits', $$'٤٩٠١٥٤٢٠٣٢٣٧٥١٨'$$),
               (3, 'combining accent after a digit', E'''4\u0301490154203237518'''),
               (4, 'emoji after 13 digits', $$'4901542032375📟18'$$),
               (5, 'high-bit Latin-1 text', $$(SELECT t FROM txt WHERE name = 'high_bit')$$),
               (6, 'newline between digits', $$E'4901542032375\n18'$$),
               (7, 'carriage return between digits', $$E'49015420323751\r8'$$),
               (8, 'tab between digits', $$E'490154\t203237518'$$),
               (9, 'blanks around, spaces inside', $$E'\n\r\t 49 015420 323751 8 \t\r\n'$$),
               (10, 'NUL-free string of high-bit octets', $$convert_from('\x8081feff'::bytea, 'LATIN1')$$),
               (11, 'right-to-left override', E'''\u202e490154203237518''')) c(n, label, expr)
 ORDER BY c.n;
-- The detail escapes characters that would not show: the C1 controls
-- U+0080 and U+0081 and the right-to-left override U+202E appear as \uNNNN.
-- The message repeats the input as it is, as PostgreSQL's own types do.

-- Rule: the largest and smallest valid values of each type, and one digit
-- past them.
SELECT c.label, pg_temp.val(c.stmt) AS result
  FROM (VALUES (1, 'imei 15 digits, all 9s but the check digit', $$SELECT '999999999999994'::mtcbind.imei$$),
               (2, 'imei 14 digits (check digit added)', $$SELECT '00000000000000'::mtcbind.imei$$),
               (3, 'imei 16 digits', $$SELECT '9999999999999940'::mtcbind.imei$$),
               (4, 'imeisv 16 nines', $$SELECT '9999999999999999'::mtcbind.imeisv$$),
               (5, 'imeisv 17 digits', $$SELECT '99999999999999990'::mtcbind.imeisv$$),
               (6, 'iccid 20 digits', $$SELECT '89999999999999999991'::mtcbind.iccid$$),
               (7, 'iccid 18 digits', $$SELECT '890000000000000004'::mtcbind.iccid$$),
               (8, 'iccid 21 digits', $$SELECT '899999999999999999910'::mtcbind.iccid$$),
               (9, 'imsi 15 nines', $$SELECT '999999999999999'::mtcbind.imsi$$),
               (10, 'imsi 6 zeros', $$SELECT '000000'::mtcbind.imsi$$),
               (11, 'imsi 16 digits', $$SELECT '9999999999999999'::mtcbind.imsi$$),
               (12, 'imsi 5 digits', $$SELECT '00000'::mtcbind.imsi$$)) c(n, label, stmt)
 ORDER BY c.n;

-- Rule: an input of ten million characters is refused with a short
-- message (40 characters of the input shown), its length in the detail.
SELECT t.typ, c.label, e.state, length(e.message) < 200 AS short_message,
       e.message, e.detail
  FROM (VALUES ('mtcbind.imei'), ('mtcbind.imeisv'), ('mtcbind.iccid'), ('mtcbind.imsi')) t(typ),
       (VALUES (1, '10M digits', $$repeat('8', 10000000)$$),
               (2, '10M digits, a letter at the end', $$repeat('8', 9999999) || 'x'$$),
               (3, '10M emoji', $$repeat('📟', 10000000)$$),
               (4, '10M blanks', $$repeat(' ', 10000000)$$)) c(n, label, expr),
       LATERAL pg_temp.err(format('SELECT (%s)::%s', c.expr, t.typ)) e
 ORDER BY c.n, t.typ COLLATE "C";

-- Rule: text, varchar and char(n) reach the types alike (implicit casts),
-- with the same checks.
SELECT pg_temp.val($$SELECT ('89441000000000001008'::varchar)::mtcbind.iccid$$) AS from_varchar,
       pg_temp.val($$SELECT ('89441000000000001008   '::char(25))::mtcbind.iccid$$) AS from_char,
       pg_temp.val($$SELECT (''::char(3))::mtcbind.iccid$$) AS from_blank_char;

-- Rule: the helpers are STRICT (NULL gives NULL) and answer at the limits.
SELECT pg_temp.val($$SELECT mtcbind.tac(NULL)$$) AS tac_null,
       pg_temp.val($$SELECT mtcbind.svn(NULL)$$) AS svn_null,
       pg_temp.val($$SELECT mtcbind.mcc(NULL)$$) AS mcc_null,
       pg_temp.val($$SELECT mtcbind.imei(NULL::mtcbind.imeisv)$$) AS imei_null;
SELECT mtcbind.tac('999999999999994') AS tac_max, mtcbind.tac('00000000000000') AS tac_min,
       mtcbind.svn('9999999999999999') AS svn_max, mtcbind.svn('0000000000000000') AS svn_min,
       mtcbind.mcc('999999999999999') AS mcc_max, mtcbind.mcc('000000') AS mcc_min,
       mtcbind.imei('9999999999999999'::mtcbind.imeisv) AS imei_of_max_imeisv;
-- ... and reject what their types reject, through the same input function.
SELECT pg_temp.val($$SELECT mtcbind.tac('')$$) AS tac_empty,
       pg_temp.val($$SELECT mtcbind.svn((SELECT t FROM txt WHERE name = 'injection'))$$) AS svn_injection,
       pg_temp.val($$SELECT mtcbind.mcc(repeat('0', 16))$$) AS mcc_16_digits;
SELECT state, length(message) < 200 AS tac_10m_short_message FROM pg_temp.err($$SELECT mtcbind.tac(repeat('9', 10000000))$$);

SELECT pg_temp.changes() AS identifier_cases_wrote;

--
-- 2. The key functions: kdf, gba_naf_keys, naf_id, b_tid, ks_local.
--    Pure: they read and write no table.
--

-- Rule: a NULL anywhere gives NULL (STRICT) -- except a NULL element of
-- the VARIADIC array, which is 22004 naming it.
SELECT 'kdf' AS fn, argument, result
  FROM pg_temp.each_null('mtcbind.kdf(bytea, integer, bytea[])',
         ARRAY[$$'\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'::bytea$$,
               '1', $$'\x01'::bytea$$, $$'\x02'::bytea$$], 'SELECT %s');
SELECT pg_temp.val($$SELECT mtcbind.kdf('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 1, VARIADIC NULL::bytea[])$$) AS kdf_variadic_null,
       pg_temp.val($$SELECT mtcbind.kdf('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 1, VARIADIC '{NULL}'::bytea[])$$) AS kdf_null_element,
       pg_temp.val($$SELECT mtcbind.kdf('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 1, VARIADIC '[0:1]={NULL,"\\x01"}'::bytea[])$$) AS kdf_null_element_lbound_0;
SELECT 'gba_naf_keys' AS fn, argument, result
  FROM pg_temp.each_null('mtcbind.gba_naf_keys(bytea, bytea, text, bytea)',
         ARRAY[$$'\xb40ba9a3c58b2a05bbf0d987b21bf8cbf769bcd751044604127672711c6d3441'::bytea$$,
               $$'\x23553cbe9637a89d218ae64dae47bf35'::bytea$$,
               $$'001010123456789@ims.mnc001.mcc001.3gppnetwork.org'$$,
               $$'\x6e61662e6578616d706c652e6f72670100000002'::bytea$$],
         'SELECT ks_int_naf FROM %s');
SELECT 'naf_id' AS fn, argument, result
  FROM pg_temp.each_null('mtcbind.naf_id(text, bytea)',
         ARRAY[$$'naf.example.org'$$, $$'\x0100000002'::bytea$$]);
SELECT 'b_tid' AS fn, argument, result
  FROM pg_temp.each_null('mtcbind.b_tid(bytea, text)',
         ARRAY[$$'\x23553cbe9637a89d218ae64dae47bf35'::bytea$$, $$'bsf.example.org'$$]);
SELECT 'ks_local' AS fn, argument, result
  FROM pg_temp.each_null('mtcbind.ks_local(bytea, text, mtcbind.iccid, text, text, text, bytea, bytea)',
         ARRAY[$$'\x3e9f04a7de64efd1db6843a0a5f1c5677b7f7cc3fb7a37b7c53dcb4b2806b19c'::bytea$$,
               $$'I1U8vpY3qJ0hiuZNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org'$$,
               $$'89441100633100000014'$$, $$'356938035643809'$$, $$'metering-app'$$,
               $$'A0000000871002'$$, $$'\x00112233445566778899aabbccddeeff'::bytea$$,
               $$'\xffeeddccbbaa99887766554433221100'::bytea$$]);

-- Rule: empty texts are allowed where the KDF allows an empty parameter
-- (IMPI, B-TID, Terminal_ID, application ids: L = 00 00); fqdn and
-- bsf_domain must not be empty; empty octet strings have the wrong length.
SELECT c.label, pg_temp.val(c.stmt) AS result
  FROM (VALUES
    (1, 'kdf: empty key', $$SELECT mtcbind.kdf('', 1, '\x01')$$),
    (2, 'kdf: empty parameter', $$SELECT mtcbind.kdf('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 1, ''::bytea) = pg_temp.hmac('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', '\x010000')$$),
    (3, 'kdf: no parameter', $$SELECT mtcbind.kdf('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 1, VARIADIC '{}'::bytea[]) = pg_temp.hmac('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', '\x01')$$),
    (4, 'gba_naf_keys: empty impi', $$SELECT length(ks_int_naf) FROM mtcbind.gba_naf_keys('\xb40ba9a3c58b2a05bbf0d987b21bf8cbf769bcd751044604127672711c6d3441', '\x23553cbe9637a89d218ae64dae47bf35', '', '\x6e61662e6578616d706c652e6f72670100000002')$$),
    (5, 'gba_naf_keys: empty rand', $$SELECT ks_int_naf FROM mtcbind.gba_naf_keys('\xb40ba9a3c58b2a05bbf0d987b21bf8cbf769bcd751044604127672711c6d3441', '', 'impi', '\x6e61662e6578616d706c652e6f72670100000002')$$),
    (6, 'gba_naf_keys: empty naf_id', $$SELECT ks_int_naf FROM mtcbind.gba_naf_keys('\xb40ba9a3c58b2a05bbf0d987b21bf8cbf769bcd751044604127672711c6d3441', '\x23553cbe9637a89d218ae64dae47bf35', 'impi', '')$$),
    (7, 'gba_naf_keys: empty ks', $$SELECT ks_int_naf FROM mtcbind.gba_naf_keys('', '\x23553cbe9637a89d218ae64dae47bf35', 'impi', '\x6e61662e6578616d706c652e6f72670100000002')$$),
    (8, 'naf_id: empty fqdn', $$SELECT mtcbind.naf_id('', '\x0100000002')$$),
    (9, 'naf_id: empty ua_protocol', $$SELECT mtcbind.naf_id('naf.example.org', '')$$),
    (10, 'b_tid: empty bsf_domain', $$SELECT mtcbind.b_tid('\x23553cbe9637a89d218ae64dae47bf35', '')$$),
    (11, 'b_tid: empty rand', $$SELECT mtcbind.b_tid('', 'bsf.example.org')$$),
    (12, 'ks_local: all texts empty', $$SELECT mtcbind.ks_local('\x3e9f04a7de64efd1db6843a0a5f1c5677b7f7cc3fb7a37b7c53dcb4b2806b19c', '', '89441100633100000014', '', '', '', '\x00112233445566778899aabbccddeeff', '\xffeeddccbbaa99887766554433221100') = pg_temp.hmac('\x3e9f04a7de64efd1db6843a0a5f1c5677b7f7cc3fb7a37b7c53dcb4b2806b19c', pg_temp.s(1, '', convert_to('89441100633100000014', 'UTF8'), '', '', '', '\x00112233445566778899aabbccddeeff', '\xffeeddccbbaa99887766554433221100'))$$),
    (13, 'ks_local: empty iccid', $$SELECT mtcbind.ks_local('\x3e9f04a7de64efd1db6843a0a5f1c5677b7f7cc3fb7a37b7c53dcb4b2806b19c', 'b', '', 't', '', '', '\x00112233445566778899aabbccddeeff', '\xffeeddccbbaa99887766554433221100')$$),
    (14, 'ks_local: empty rand_x', $$SELECT mtcbind.ks_local('\x3e9f04a7de64efd1db6843a0a5f1c5677b7f7cc3fb7a37b7c53dcb4b2806b19c', 'b', '89441100633100000014', 't', '', '', '', '\xffeeddccbbaa99887766554433221100')$$),
    (15, 'ks_local: empty key', $$SELECT mtcbind.ks_local('', 'b', '89441100633100000014', 't', '', '', '\x00112233445566778899aabbccddeeff', '\xffeeddccbbaa99887766554433221100')$$)
  ) c(n, label, stmt)
 ORDER BY c.n;

-- Rule: a KDF parameter has a two-octet length: 65535 octets is the
-- largest, and it derives the key an independent HMAC computes; 65536 is
-- 22023 naming the parameter by its SQL subscript.  The fc octet is 0..255.
SELECT c.label, pg_temp.val(c.stmt) AS result
  FROM (VALUES
    (1, 'kdf: P0 of 65535 octets, fc 255', $$SELECT mtcbind.kdf('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 255, decode(repeat('ab', 65535), 'hex')) = pg_temp.hmac('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', pg_temp.s(255, decode(repeat('ab', 65535), 'hex')))$$),
    (2, 'kdf: P0 of 65535 octets, fc 0, P1 empty', $$SELECT mtcbind.kdf('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 0, decode(repeat('00', 65535), 'hex'), '') = pg_temp.hmac('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', pg_temp.s(0, decode(repeat('00', 65535), 'hex'), ''))$$),
    (3, 'kdf: P1 of 65536 octets', $$SELECT mtcbind.kdf('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 1, '\x01', decode(repeat('ab', 65536), 'hex'))$$),
    (4, 'kdf: P0 of 10 million octets', $$SELECT mtcbind.kdf('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 1, convert_to(repeat('x', 10000000), 'UTF8'))$$),
    (5, 'kdf: 100 parameters of 65535 octets', $$SELECT length(mtcbind.kdf('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 1, VARIADIC array_fill(decode(repeat('ab', 65535), 'hex'), ARRAY[100])))$$),
    (6, 'kdf: fc -1', $$SELECT mtcbind.kdf('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', -1, '\x01')$$),
    (7, 'kdf: fc 256', $$SELECT mtcbind.kdf('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 256, '\x01')$$),
    (8, 'kdf: fc 2147483647', $$SELECT mtcbind.kdf('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 2147483647, '\x01')$$),
    (9, 'kdf: two-dimensional params', $$SELECT mtcbind.kdf('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 1, VARIADIC '{{"\\x01"},{"\\x02"}}'::bytea[])$$),
    (10, 'kdf: params[-5:-4], the second too long', $$SELECT mtcbind.kdf('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 1, VARIADIC array_fill('\x01'::bytea, ARRAY[1], ARRAY[-5]) || decode(repeat('ab', 65536), 'hex'))$$),
    (11, 'gba_naf_keys: impi of 65535 octets', $$SELECT length(ks_int_naf) FROM mtcbind.gba_naf_keys('\xb40ba9a3c58b2a05bbf0d987b21bf8cbf769bcd751044604127672711c6d3441', '\x23553cbe9637a89d218ae64dae47bf35', repeat('i', 65535), '\x6e61662e6578616d706c652e6f72670100000002')$$),
    (12, 'gba_naf_keys: impi of 65536 octets', $$SELECT ks_int_naf FROM mtcbind.gba_naf_keys('\xb40ba9a3c58b2a05bbf0d987b21bf8cbf769bcd751044604127672711c6d3441', '\x23553cbe9637a89d218ae64dae47bf35', repeat('i', 65536), '\x6e61662e6578616d706c652e6f72670100000002')$$),
    (13, 'gba_naf_keys: impi of 21846 three-octet characters (65538 octets)', $$SELECT ks_int_naf FROM mtcbind.gba_naf_keys('\xb40ba9a3c58b2a05bbf0d987b21bf8cbf769bcd751044604127672711c6d3441', '\x23553cbe9637a89d218ae64dae47bf35', repeat('€', 21846), '\x6e61662e6578616d706c652e6f72670100000002')$$),
    (14, 'gba_naf_keys: naf_id of 65535 octets', $$SELECT length(ks_ext_naf) FROM mtcbind.gba_naf_keys('\xb40ba9a3c58b2a05bbf0d987b21bf8cbf769bcd751044604127672711c6d3441', '\x23553cbe9637a89d218ae64dae47bf35', 'impi', decode(repeat('ff', 65535), 'hex'))$$),
    (15, 'gba_naf_keys: naf_id of 65536 octets', $$SELECT ks_ext_naf FROM mtcbind.gba_naf_keys('\xb40ba9a3c58b2a05bbf0d987b21bf8cbf769bcd751044604127672711c6d3441', '\x23553cbe9637a89d218ae64dae47bf35', 'impi', decode(repeat('ff', 65536), 'hex'))$$),
    (16, 'gba_naf_keys: naf_id of 5 octets', $$SELECT ks_ext_naf FROM mtcbind.gba_naf_keys('\xb40ba9a3c58b2a05bbf0d987b21bf8cbf769bcd751044604127672711c6d3441', '\x23553cbe9637a89d218ae64dae47bf35', 'impi', '\x0100000002')$$),
    (17, 'gba_naf_keys: rand of 17 octets', $$SELECT ks_ext_naf FROM mtcbind.gba_naf_keys('\xb40ba9a3c58b2a05bbf0d987b21bf8cbf769bcd751044604127672711c6d3441', '\x23553cbe9637a89d218ae64dae47bf3500', 'impi', '\x6e61662e6578616d706c652e6f72670100000002')$$),
    (18, 'naf_id: fqdn of 65530 octets', $$SELECT length(mtcbind.naf_id(repeat('n', 65530), '\x0100000002'))$$),
    (19, 'naf_id: fqdn of 65531 octets', $$SELECT mtcbind.naf_id(repeat('n', 65531), '\x0100000002')$$),
    (20, 'naf_id: fqdn of 21844 three-octet characters (65532 octets)', $$SELECT mtcbind.naf_id(repeat('€', 21844), '\x0100000002')$$),
    (21, 'naf_id: fqdn of 65536 octets', $$SELECT mtcbind.naf_id(repeat('n', 65536), '\x0100000002')$$),
    (22, 'naf_id: fqdn of 10 million characters', $$SELECT mtcbind.naf_id(repeat('n', 10000000), '\x0100000002')$$),
    (23, 'naf_id: ua_protocol of 4 octets', $$SELECT mtcbind.naf_id('naf.example.org', '\x01000000')$$),
    (24, 'naf_id: ua_protocol of 6 octets', $$SELECT mtcbind.naf_id('naf.example.org', '\x010000000200')$$),
    (25, 'b_tid: bsf_domain of 65510 octets', $$SELECT length(mtcbind.b_tid('\x23553cbe9637a89d218ae64dae47bf35', repeat('b', 65510)))$$),
    (26, 'b_tid: bsf_domain of 65511 octets', $$SELECT mtcbind.b_tid('\x23553cbe9637a89d218ae64dae47bf35', repeat('b', 65511))$$),
    (27, 'b_tid: bsf_domain of 10 million characters', $$SELECT mtcbind.b_tid('\x23553cbe9637a89d218ae64dae47bf35', repeat('b', 10000000))$$),
    (28, 'b_tid: rand of 15 octets', $$SELECT mtcbind.b_tid('\x23553cbe9637a89d218ae64dae47bf', 'bsf.example.org')$$),
    (29, 'ks_local: terminal_id of 65535 octets', $$SELECT mtcbind.ks_local('\x3e9f04a7de64efd1db6843a0a5f1c5677b7f7cc3fb7a37b7c53dcb4b2806b19c', 'b', '89441100633100000014', repeat('t', 65535), 'a', 'u', '\x00112233445566778899aabbccddeeff', '\xffeeddccbbaa99887766554433221100') = pg_temp.hmac('\x3e9f04a7de64efd1db6843a0a5f1c5677b7f7cc3fb7a37b7c53dcb4b2806b19c', pg_temp.s(1, 'b', convert_to('89441100633100000014', 'UTF8'), convert_to(repeat('t', 65535), 'UTF8'), 'a', 'u', '\x00112233445566778899aabbccddeeff', '\xffeeddccbbaa99887766554433221100'))$$),
    (30, 'ks_local: b_tid of 65536 octets', $$SELECT mtcbind.ks_local('\x3e9f04a7de64efd1db6843a0a5f1c5677b7f7cc3fb7a37b7c53dcb4b2806b19c', repeat('b', 65536), '89441100633100000014', 't', '', '', '\x00112233445566778899aabbccddeeff', '\xffeeddccbbaa99887766554433221100')$$),
    (31, 'ks_local: terminal_id of 65536 octets', $$SELECT mtcbind.ks_local('\x3e9f04a7de64efd1db6843a0a5f1c5677b7f7cc3fb7a37b7c53dcb4b2806b19c', 'b', '89441100633100000014', repeat('t', 65536), '', '', '\x00112233445566778899aabbccddeeff', '\xffeeddccbbaa99887766554433221100')$$),
    (32, 'ks_local: terminal_appli_id of 65536 octets', $$SELECT mtcbind.ks_local('\x3e9f04a7de64efd1db6843a0a5f1c5677b7f7cc3fb7a37b7c53dcb4b2806b19c', 'b', '89441100633100000014', 't', repeat('a', 65536), '', '\x00112233445566778899aabbccddeeff', '\xffeeddccbbaa99887766554433221100')$$),
    (33, 'ks_local: uicc_appli_id of 10 million octets', $$SELECT mtcbind.ks_local('\x3e9f04a7de64efd1db6843a0a5f1c5677b7f7cc3fb7a37b7c53dcb4b2806b19c', 'b', '89441100633100000014', 't', '', repeat('u', 10000000), '\x00112233445566778899aabbccddeeff', '\xffeeddccbbaa99887766554433221100')$$),
    (34, 'ks_local: iccid of 10 million digits', $$SELECT mtcbind.ks_local('\x3e9f04a7de64efd1db6843a0a5f1c5677b7f7cc3fb7a37b7c53dcb4b2806b19c', 'b', repeat('8', 10000000), 't', '', '', '\x00112233445566778899aabbccddeeff', '\xffeeddccbbaa99887766554433221100')$$),
    (35, 'ks_local: rand_y of 17 octets', $$SELECT mtcbind.ks_local('\x3e9f04a7de64efd1db6843a0a5f1c5677b7f7cc3fb7a37b7c53dcb4b2806b19c', 'b', '89441100633100000014', 't', '', '', '\x00112233445566778899aabbccddeeff', '\xffeeddccbbaa9988776655443322110000')$$)
  ) c(n, label, stmt)
 ORDER BY c.n;
-- Rule: naf_id's fqdn states its own limit (65530: the NAF_Id, fqdn and
-- 5-octet protocol id, must fit in one KDF parameter) at every length, as
-- bsf_domain states its own (65510).

-- Rule: non-ASCII and injection-looking text is derivation input like any
-- other, taken as its UTF-8 octets (here checked against the HMAC over S).
SELECT x.name,
       mtcbind.ks_local('\x3e9f04a7de64efd1db6843a0a5f1c5677b7f7cc3fb7a37b7c53dcb4b2806b19c',
                        x.t, '89441100633100000014', x.t, x.t, x.t,
                        '\x00112233445566778899aabbccddeeff', '\xffeeddccbbaa99887766554433221100')
       = pg_temp.hmac('\x3e9f04a7de64efd1db6843a0a5f1c5677b7f7cc3fb7a37b7c53dcb4b2806b19c',
                      pg_temp.s(1, convert_to(x.t, 'UTF8'), convert_to('89441100633100000014', 'UTF8'),
                                convert_to(x.t, 'UTF8'), convert_to(x.t, 'UTF8'), convert_to(x.t, 'UTF8'),
                                '\x00112233445566778899aabbccddeeff', '\xffeeddccbbaa99887766554433221100'))
       AS ks_local_matches,
       mtcbind.naf_id(x.t, '\x0100000002') = convert_to(x.t, 'UTF8') || '\x0100000002'::bytea AS naf_id_matches,
       mtcbind.b_tid('\x23553cbe9637a89d218ae64dae47bf35', x.t) = 'I1U8vpY3qJ0hiuZNrke/NQ==@' || x.t AS b_tid_matches,
       (SELECT ks_int_naf FROM mtcbind.gba_naf_keys('\xb40ba9a3c58b2a05bbf0d987b21bf8cbf769bcd751044604127672711c6d3441',
                                                    '\x23553cbe9637a89d218ae64dae47bf35', x.t,
                                                    '\x6e61662e6578616d706c652e6f72670100000002'))
       = mtcbind.kdf('\xb40ba9a3c58b2a05bbf0d987b21bf8cbf769bcd751044604127672711c6d3441', 1,
                     convert_to('gba-u', 'UTF8'), '\x23553cbe9637a89d218ae64dae47bf35',
                     convert_to(x.t, 'UTF8'), '\x6e61662e6578616d706c652e6f72670100000002') AS gba_u_matches
  FROM txt x ORDER BY x.name COLLATE "C";

SELECT pg_temp.changes() AS key_function_cases_wrote;

--
-- 3. request_key
--

-- A bound pair for the cases below, and the day partitions of the log.
SELECT mtcbind.maintain_event_log(0) BETWEEN 0 AND 1 AS partition_for_today;
SELECT pg_temp.rk('meter-e1', '89441000000000001008', '351234560000101') AS first_use;
SELECT pg_temp.snap();

-- Rule: NULL where a value is needed is 22004 naming the argument; NULL
-- imei, imeisv and imsi mean "not reported" and the pair is granted.
SELECT argument, result
  FROM pg_temp.each_null('mtcbind.request_key(bytea, text, bytea, timestamptz, text, mtcbind.iccid, mtcbind.imei, mtcbind.imeisv, mtcbind.imsi, text, text)',
         ARRAY[$$'\x6e61662e6578616d706c652e6f72670100000002'::bytea$$, $$'b@bsf.example.org'$$,
               $$'\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'::bytea$$,
               $$now() + interval '1 day'$$, $$'meter-e1'$$, $$'89441000000000001008'$$,
               $$'351234560000101'$$, $$'3512345600001001'$$, $$'001010000000001'$$, $$''$$, $$''$$],
         $$SELECT outcome || coalesce(' ' || reason, '') FROM %s$$);
SELECT pg_temp.changes() AS null_cases_wrote, pg_temp.new_events() AS events;
SELECT pg_temp.snap();

-- Rule: malformed input raises an error and writes nothing: every argument
-- is checked before a table is touched.
SELECT c.label, pg_temp.val(c.stmt) AS result
  FROM (VALUES
    (1, 'naf_id empty', $$SELECT pg_temp.rk('meter-e1', '89441000000000001008', naf => '')$$),
    (2, 'naf_id of 5 octets', $$SELECT pg_temp.rk('meter-e1', '89441000000000001008', naf => '\x0100000002')$$),
    (3, 'naf_id of 261 octets', $$SELECT pg_temp.rk('meter-e1', '89441000000000001008', naf => decode(repeat('6e', 256) || '0100000002', 'hex'))$$),
    (4, 'naf_id of 10 million octets', $$SELECT pg_temp.rk('meter-e1', '89441000000000001008', naf => convert_to(repeat('n', 10000000), 'UTF8'))$$),
    (5, 'b_tid empty', $$SELECT pg_temp.rk('meter-e1', '89441000000000001008', btid => '')$$),
    (6, 'b_tid of 1025 octets', $$SELECT pg_temp.rk('meter-e1', '89441000000000001008', btid => repeat('b', 1025))$$),
    (7, 'b_tid of 342 three-octet characters (1026 octets)', $$SELECT pg_temp.rk('meter-e1', '89441000000000001008', btid => repeat('€', 342))$$),
    (8, 'b_tid of 10 million characters', $$SELECT pg_temp.rk('meter-e1', '89441000000000001008', btid => repeat('b', 10000000))$$),
    (9, 'ks_int_naf empty', $$SELECT pg_temp.rk('meter-e1', '89441000000000001008', key => '')$$),
    (10, 'ks_int_naf of 33 octets', $$SELECT pg_temp.rk('meter-e1', '89441000000000001008', key => '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20')$$),
    (11, 'terminal_id empty', $$SELECT pg_temp.rk('', '89441000000000001008')$$),
    (12, 'terminal_id of 256 octets', $$SELECT pg_temp.rk(repeat('t', 256), '89441000000000001008')$$),
    (13, 'terminal_id of 64 emoji (256 octets)', $$SELECT pg_temp.rk(repeat('📟', 64), '89441000000000001008')$$),
    (14, 'terminal_id of 10 million characters', $$SELECT pg_temp.rk(repeat('t', 10000000), '89441000000000001008')$$),
    (15, 'iccid empty', $$SELECT pg_temp.rk('meter-e1', '')$$),
    (16, 'iccid injection', $$SELECT pg_temp.rk('meter-e1', (SELECT t FROM txt WHERE name = 'injection'))$$),
    (17, 'iccid of 10 million digits', $$SELECT left(pg_temp.rk('meter-e1', repeat('8', 10000000)), 0)$$),
    (18, 'imei empty', $$SELECT pg_temp.rk('meter-e1', '89441000000000001008', imei => '')$$),
    (19, 'imeisv of another device', $$SELECT pg_temp.rk('meter-e1', '89441000000000001008', imei => '351234560000101', imeisv => '3512345600001101')$$),
    (20, 'imsi with a newline', $$SELECT pg_temp.rk('meter-e1', '89441000000000001008', imsi => E'00101\n0000000001')$$),
    (21, 'terminal_appli_id of 256 octets', $$SELECT pg_temp.rk('meter-e1', '89441000000000001008', tappli => repeat('a', 256))$$),
    (22, 'uicc_appli_id of 86 three-octet characters (258 octets)', $$SELECT pg_temp.rk('meter-e1', '89441000000000001008', uappli => repeat('€', 86))$$),
    (23, 'uicc_appli_id of 10 million characters', $$SELECT pg_temp.rk('meter-e1', '89441000000000001008', uappli => repeat('u', 10000000))$$),
    (24, 'all wrong: identifiers are checked first, by their casts', $$SELECT pg_temp.rk('', '', naf => '', btid => '', key => '')$$),
    (25, 'all wrong but the identifiers: naf_id is checked first', $$SELECT pg_temp.rk('', '89441000000000001008', naf => '', btid => '', key => '', tappli => repeat('a', 256))$$)
  ) c(n, label, stmt)
 ORDER BY c.n;
SELECT state, length(message) < 200 AS iccid_10m_short_message FROM pg_temp.err($$SELECT pg_temp.rk('meter-e1', repeat('8', 10000000))$$);
SELECT pg_temp.changes() AS bad_requests_wrote;

-- Rule: the largest allowed values work, counted in octets: naf_id 260,
-- b_tid 1024, terminal_id and application ids 255, as ASCII and as
-- multibyte text; the key is the one the KDF derives from them.
CREATE TEMP TABLE big AS SELECT
    decode(repeat('6e', 255) || '0100000002', 'hex') AS naf,
    repeat('€', 341) || 'b' AS btid,                       -- 1024 octets
    repeat('📟', 63) || 'abc' AS term,                     -- 255 octets
    repeat('ä', 127) || 'a' AS tappli,                     -- 255 octets
    repeat('u', 255) AS uappli;
SELECT octet_length(naf) AS naf_octets, octet_length(btid) AS btid_octets,
       octet_length(term) AS term_octets, octet_length(tappli) AS tappli_octets,
       octet_length(uappli) AS uappli_octets FROM big;
CREATE TEMP TABLE big_answer AS
SELECT r.* FROM big,
       mtcbind.request_key(big.naf, big.btid,
                           '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
                           now() + interval '1 day', big.term, '89441000000000001016',
                           '351234560000119', '3512345600001199', '999999999999999',
                           big.tappli, big.uappli) r;
SELECT outcome, reason, length(ks_local) AS key_octets,
       ks_local = mtcbind.ks_local('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
                                   big.btid, '89441000000000001016', big.term, big.tappli,
                                   big.uappli, rand_x, rand_y) AS key_matches,
       expires_at > now() AS valid
  FROM big_answer, big;
SELECT b.terminal_id = big.term AS term_stored, b.terminal_appli_id = big.tappli AS tappli_stored,
       b.uicc_appli_id = big.uappli AS uappli_stored, b.imeisv, b.imsi
  FROM mtcbind.binding b, big WHERE b.iccid = '89441000000000001016';
SELECT e.naf_id = big.naf AS naf_id_recorded
  FROM mtcbind.binding_event e, big WHERE e.iccid = '89441000000000001016' AND e.event = 'bound';
-- ... and re-keying with them takes the same path (granted).
SELECT pg_temp.rk(term, '89441000000000001016', '351234560000119', '3512345600001199',
                  '999999999999999', tappli, uappli, naf, btid) AS rekey FROM big;

-- Rule: injection-looking, non-ASCII and control-character texts are data:
-- each binds as a device of its own and is stored octet for octet; the
-- tables are all still there.
SELECT x.name, pg_temp.rk(x.t, c.iccid, tappli => x.t, uappli => x.t, btid => x.t) AS answer
  FROM txt x
  JOIN (VALUES ('injection', '89441000000000001024'), ('quotes', '89441000000000001032'),
               ('dollars', '89441000000000001040'), ('backslashes', '89441000000000001057'),
               ('format', '89441000000000001065'), ('newlines', '89441000000000001073'),
               ('multibyte', '89441000000000001081'), ('emoji', '89441000000000001099'),
               ('combining', '89441000000000001107'), ('high_bit', '89441000000000001115'),
               ('rtl', '89441000000000001123'), ('json', '89441000000000001131')) c(name, iccid)
    USING (name)
 ORDER BY x.name COLLATE "C";
SELECT x.name, b.terminal_id = x.t AND b.terminal_appli_id = x.t AND b.uicc_appli_id = x.t AS stored_exactly
  FROM txt x LEFT JOIN mtcbind.binding b ON b.terminal_id = x.t ORDER BY x.name COLLATE "C";
SELECT count(*) AS tables_left FROM pg_tables
 WHERE schemaname = 'mtcbind' AND tablename IN ('binding', 'binding_event', 'blocklist', 'transfer_authorization', 'policy');
-- The injection string with another card: that device is bound elsewhere.
SELECT pg_temp.rk(t, '89441000000000001149') AS injection_device_other_card FROM txt WHERE name = 'injection';

-- Rule: a terminal_id is 1..255 octets of any text, compared as octets:
-- "café" with a combining accent and with a precomposed é are two devices,
-- as are "meter-e1" and "meter-e1 ", and a single space is a device too.
-- (QUESTIONABLE, but as documented: no normalisation, no trimming.)
SELECT pg_temp.rk(E'caf\u00e9', '89441000000000001156') AS precomposed,
       pg_temp.rk(E'cafe\u0301', '89441000000000001164') AS combining,
       pg_temp.rk('meter-e1 ', '89441000000000001172') AS trailing_space,
       pg_temp.rk(' ', '89441000000000001255') AS one_space;

-- Rule: the bootstrap's expiry at the extremes: -infinity is expired (a
-- refusal, recorded), infinity is capped by the key lifetime.
SELECT pg_temp.snap();
SELECT pg_temp.rk('meter-e1', '89441000000000001008', expiry => '-infinity') AS minus_infinity;
SELECT outcome, expires_at < 'infinity' AS capped, expires_at <= clock_timestamp() + interval '1 day' AS within_a_day
  FROM mtcbind.request_key('\x6e61662e6578616d706c652e6f72670100000002', 'b@bsf.example.org',
                           '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
                           'infinity', 'meter-e1', '89441000000000001008');
SELECT pg_temp.changes() AS expiry_cases_wrote, pg_temp.new_events() AS events;

-- Rule: a NAF_Id's FQDN is UTF-8 text (TS 33.220 B.2.1); one that is not
-- (NUL, 0xff) is refused (22023) and writes nothing, so the query
-- docs/dba-guide.md gives for "refusals in the last hour, by reason and by
-- NAF", which decodes it, works for every reader whatever a NAF client sends.
SELECT pg_temp.try($$SELECT pg_temp.rk('meter-e1', '89441000000000001008', naf => '\x00ff6e61660100000002')$$) AS odd_naf_id;
SELECT pg_temp.try($$SELECT pg_temp.rk('meter-e1', '89441000000000001180', naf => '\x00ff6e61660100000002')$$) AS refused_with_odd_naf_id;
SELECT count(*) AS events_with_odd_naf_id FROM mtcbind.binding_event WHERE naf_id = '\x00ff6e61660100000002';
SELECT pg_temp.try($q$SELECT reason, convert_from(substring(naf_id FROM 1 FOR length(naf_id) - 5), 'UTF8') AS naf, count(*)
  FROM mtcbind.binding_event
 WHERE event = 'rejected' AND occurred_at > now() - interval '1 hour'
 GROUP BY 1, 2$q$) AS dba_guide_refusals_by_naf;

--
-- 4. bind, unbind, authorize_transfer, rebind
--

SELECT pg_temp.snap();
-- Rule: NULL terminal_id or iccid is 22004; NULL imei, imeisv, imsi and
-- note are "not given" (here: the pair is bound already, its id returned).
SELECT 'bind' AS fn, argument, result
  FROM pg_temp.each_null('mtcbind.bind(text, mtcbind.iccid, mtcbind.imei, mtcbind.imeisv, mtcbind.imsi, text)',
         ARRAY[$$'meter-e1'$$, $$'89441000000000001008'$$, $$'351234560000101'$$,
               $$'3512345600001001'$$, $$'001010000000001'$$, $$'note'$$]);
-- Rule: NULL iccid is 22004; a NULL reason is 22023 (the reason must be
-- given), and so is a NULL valid_for; a NULL new_terminal_id is "any
-- unbound device" and a NULL reason of a transfer is allowed.
SELECT 'unbind' AS fn, argument, result
  FROM pg_temp.each_null('mtcbind.unbind(mtcbind.iccid, text)',
         ARRAY[$$'89441000000000001008'$$, $$'r'$$]);
SELECT 'authorize_transfer' AS fn, argument, regexp_replace(result, '^\d+$', 'an id') AS result
  FROM pg_temp.each_null('mtcbind.authorize_transfer(mtcbind.iccid, text, interval, text)',
         ARRAY[$$'89441000000000001008'$$, $$'meter-new'$$, $$'1 hour'$$, $$'r'$$]);
SELECT 'rebind' AS fn, argument, result
  FROM pg_temp.each_null('mtcbind.rebind(mtcbind.iccid, text, text)',
         ARRAY[$$'89441000000000001008'$$, $$'meter-new'$$, $$'r'$$]);
-- (bind recorded the note; two transfers were authorised, the second
-- revoking the first)
SELECT pg_temp.changes() AS null_admin_cases_wrote, pg_temp.new_events() AS events;
SELECT pg_temp.snap();

-- Rule: texts out of bounds are 22023 (terminal_id 1..255 octets; reason
-- 1..1000 octets, not blank; note 0..1000 octets), bad identifiers 22P02;
-- nothing is written.
SELECT c.label, pg_temp.val(c.stmt) AS result
  FROM (VALUES
    (1, 'bind: terminal_id empty', $$SELECT mtcbind.bind('', '89441000000000001198')$$),
    (2, 'bind: terminal_id of 256 octets', $$SELECT mtcbind.bind(repeat('t', 256), '89441000000000001198')$$),
    (3, 'bind: terminal_id of 10 million characters', $$SELECT mtcbind.bind(repeat('t', 10000000), '89441000000000001198')$$),
    (4, 'bind: iccid empty', $$SELECT mtcbind.bind('meter-b', '')$$),
    (5, 'bind: imei of the wrong check digit', $$SELECT mtcbind.bind('meter-b', '89441000000000001198', '351234560000100')$$),
    (6, 'bind: imeisv of another device', $$SELECT mtcbind.bind('meter-b', '89441000000000001198', '351234560000127', '3512345600001001')$$),
    (7, 'bind: imsi of 10 million digits', $$SELECT left(mtcbind.bind('meter-b', '89441000000000001198', imsi => repeat('0', 10000000))::text, 0)$$),
    (8, 'bind: note of 1001 octets', $$SELECT mtcbind.bind('meter-b', '89441000000000001198', note => repeat('n', 1001))$$),
    (9, 'bind: note of 334 three-octet characters (1002 octets)', $$SELECT mtcbind.bind('meter-b', '89441000000000001198', note => repeat('€', 334))$$),
    (10, 'bind: note of 10 million characters', $$SELECT mtcbind.bind('meter-b', '89441000000000001198', note => repeat('n', 10000000))$$),
    (11, 'unbind: reason empty', $$SELECT mtcbind.unbind('89441000000000001008', '')$$),
    (12, 'unbind: reason of blanks', $$SELECT mtcbind.unbind('89441000000000001008', E' \t\r\n ')$$),
    (13, 'unbind: reason of 1001 octets', $$SELECT mtcbind.unbind('89441000000000001008', repeat('r', 1001))$$),
    (14, 'unbind: reason of 10 million characters', $$SELECT mtcbind.unbind('89441000000000001008', repeat('r', 10000000))$$),
    (15, 'unbind: iccid with a letter', $$SELECT mtcbind.unbind('8944100000000000100O', 'r')$$),
    (16, 'authorize_transfer: new_terminal_id empty', $$SELECT mtcbind.authorize_transfer('89441000000000001008', '')$$),
    (17, 'authorize_transfer: new_terminal_id of 256 octets', $$SELECT mtcbind.authorize_transfer('89441000000000001008', repeat('t', 256))$$),
    (18, 'authorize_transfer: valid_for zero', $$SELECT mtcbind.authorize_transfer('89441000000000001008', valid_for => '0')$$),
    (19, 'authorize_transfer: valid_for negative', $$SELECT mtcbind.authorize_transfer('89441000000000001008', valid_for => '-1 microsecond')$$),
    (20, 'authorize_transfer: valid_for 1 month minus 30 days', $$SELECT mtcbind.authorize_transfer('89441000000000001008', valid_for => '1 month -30 days')$$),
    (21, 'authorize_transfer: valid_for beyond the timestamp range', $$SELECT mtcbind.authorize_transfer('89441000000000001008', valid_for => '178000000 years')$$),
    (22, 'authorize_transfer: reason blank', $$SELECT mtcbind.authorize_transfer('89441000000000001008', reason => ' ')$$),
    (23, 'authorize_transfer: reason of 1001 octets', $$SELECT mtcbind.authorize_transfer('89441000000000001008', reason => repeat('r', 1001))$$),
    (24, 'rebind: new_terminal_id empty', $$SELECT mtcbind.rebind('89441000000000001008', '', 'r')$$),
    (25, 'rebind: new_terminal_id of 10 million characters', $$SELECT mtcbind.rebind('89441000000000001008', repeat('t', 10000000), 'r')$$),
    (26, 'rebind: reason of tabs', $$SELECT mtcbind.rebind('89441000000000001008', 'meter-b', E'\t\t')$$),
    (27, 'rebind: reason of 1001 octets', $$SELECT mtcbind.rebind('89441000000000001008', 'meter-b', repeat('r', 1001))$$),
    (28, 'rebind: iccid of 21 digits', $$SELECT mtcbind.rebind('894410000000000010080', 'meter-b', 'r')$$)
  ) c(n, label, stmt)
 ORDER BY c.n;
SELECT pg_temp.changes() AS bad_admin_calls_wrote;
-- Rule: valid_for is at most 3650 days: a longer one, even one that would
-- take valid_until past the end of the timestamp range, is 22023.

-- Rule: the largest allowed texts work, counted in octets (a 255-octet
-- terminal_id, 1000-octet reasons and notes, also as multibyte text); a
-- valid_for of 3650 days is the longest window.
SELECT mtcbind.bind(repeat('d', 255), '89441000000000001198', '351234560000127', '3512345600001271',
                    '001010000000127', repeat('€', 333) || 'n') > 0 AS bound_at_limits;
SELECT octet_length(terminal_id) AS term_octets, octet_length(note) AS note_octets, imeisv, imsi
  FROM mtcbind.binding WHERE iccid = '89441000000000001198';
SELECT mtcbind.authorize_transfer('89441000000000001198', repeat('e', 255), '3650 days',
                                  repeat('r', 1000)) > 0 AS authorized_at_limits;
SELECT octet_length(new_terminal_id) AS new_term_octets, octet_length(reason) AS reason_octets,
       valid_until > now() + interval '3649 days' AS far_future
  FROM mtcbind.transfer_authorization WHERE iccid = '89441000000000001198' AND revoked_at IS NULL;
SELECT mtcbind.rebind('89441000000000001198', repeat('f', 255), repeat('€', 333) || 'r') > 0 AS rebound_at_limits;
SELECT octet_length(terminal_id) AS term_octets, imei, imeisv FROM mtcbind.binding WHERE iccid = '89441000000000001198';
SELECT octet_length(reason) AS reason_octets FROM mtcbind.binding_event
 WHERE event = 'rebound' ORDER BY event_id DESC LIMIT 1;
SELECT mtcbind.authorize_transfer('89441000000000001198', reason => repeat('r', 1000)) > 0 AS authorized_again;
SELECT mtcbind.unbind('89441000000000001198', repeat('r', 1000)) AS unbound_at_limits;
-- (the revocation of the open transfer quotes the 1000-octet reason)
SELECT octet_length(reason) AS revoke_reason_octets, left(reason, 20) AS revoke_reason_start
  FROM mtcbind.binding_event WHERE event = 'transfer_revoked' ORDER BY event_id DESC LIMIT 1;

-- Rule: injection-looking and control-character texts as terminal_id,
-- reason and note are stored as given; messages that name a terminal_id
-- show it literally (never as a format).  (The devices named by the texts
-- themselves are bound since section 3, so new ones get a prefix.)
SELECT mtcbind.bind('new:' || t, '89441000000000001198', note => t) > 0 AS bound FROM txt WHERE name = 'format';
SELECT note = (SELECT t FROM txt WHERE name = 'format') AS note_stored FROM mtcbind.binding WHERE iccid = '89441000000000001198';
SELECT regexp_replace(pg_temp.try(format('SELECT mtcbind.bind(%L, %L)', 'new:' || t, '89441000000000001206')), 'Binding \d+', 'Binding N')
       AS format_device_other_card FROM txt WHERE name = 'format';
SELECT x.name,
       pg_temp.try(format('SELECT mtcbind.authorize_transfer(%L, %L, reason => %L)', '89441000000000001198', 'new:' || x.t, x.t)) AS authorized
  FROM txt x WHERE x.name IN ('quotes', 'backslashes', 'json', 'newlines', 'dollars') ORDER BY x.name COLLATE "C";
SELECT x.name, count(e.*) AS events_recording_it_exactly
  FROM txt x LEFT JOIN mtcbind.binding_event e
    ON e.event = 'transfer_authorized' AND e.detail->>'new_terminal_id' = 'new:' || x.t AND e.reason = x.t
 WHERE x.name IN ('quotes', 'backslashes', 'json', 'newlines', 'dollars')
 GROUP BY x.name ORDER BY x.name COLLATE "C";
SELECT regexp_replace(pg_temp.try(format('SELECT mtcbind.authorize_transfer(%L, %L)', '89441000000000001198', t)), 'Binding \d+', 'Binding N')
       AS to_a_device_bound_elsewhere FROM txt WHERE name = 'newlines';
SELECT pg_temp.try(format('SELECT mtcbind.rebind(%L, %L, %L)', '89441000000000001198', 'new:' || x.t, y.t)) AS rebound
  FROM txt x, txt y WHERE x.name = 'rtl' AND y.name = 'injection';
SELECT terminal_id = 'new:' || (SELECT t FROM txt WHERE name = 'rtl') AS moved_to_rtl_name
  FROM mtcbind.binding WHERE iccid = '89441000000000001198';
SELECT pg_temp.try(format('SELECT mtcbind.unbind(%L, %L)', '89441000000000001198', t)) AS unbound
  FROM txt WHERE name = 'dollars';
SELECT reason = (SELECT t FROM txt WHERE name = 'dollars') AS unbind_reason_recorded
  FROM mtcbind.binding_event WHERE event = 'unbound' ORDER BY event_id DESC LIMIT 1;

-- Rule: a reason of characters that only look blank is blank: ASCII white
-- space (vertical tab and form feed too) and, in a UTF-8 database, the
-- characters an error detail escapes as invisible (Unicode spaces and
-- separators, zero-width and format characters) are refused like spaces.
SELECT c.label, pg_temp.try(format('SELECT mtcbind.block_uicc(%L, %L)', c.iccid, c.reason)) AS result
  FROM (VALUES (1, 'vertical tab', '89441000000000001206', chr(11)),
               (2, 'form feed', '89441000000000001214', E'\f'),
               (3, 'no-break space', '89441000000000001222', E'\u00a0'),
               (4, 'zero-width space', '89441000000000001230', E'\u200b'),
               (5, 'line separator', '89441000000000001263', E'\u2028'),
               (6, 'ogham space mark', '89441000000000001271', E'\u1680')) c(n, label, iccid, reason)
 ORDER BY c.n;
SELECT iccid, encode(convert_to(reason, 'UTF8'), 'hex') AS reason_octets FROM mtcbind.blocklist
 WHERE iccid IN ('89441000000000001206', '89441000000000001214', '89441000000000001222', '89441000000000001230')
 ORDER BY iccid;

--
-- 5. block_uicc, block_device, unblock_uicc, unblock_device
--

SELECT pg_temp.snap();
-- Rule: NULL iccid is 22004, a NULL reason 22023; a device is named by
-- terminal_id or IMEI, and both NULL is 22004.
SELECT 'block_uicc' AS fn, argument, result
  FROM pg_temp.each_null('mtcbind.block_uicc(mtcbind.iccid, text)', ARRAY[$$'89441000000000001248'$$, $$'r'$$]);
SELECT 'unblock_uicc' AS fn, argument, result
  FROM pg_temp.each_null('mtcbind.unblock_uicc(mtcbind.iccid, text)', ARRAY[$$'89441000000000001248'$$, $$'r'$$]);
SELECT 'block_device' AS fn, argument, regexp_replace(result, '^\d+$', 'an id') AS result
  FROM pg_temp.each_null('mtcbind.block_device(text, text, mtcbind.imei)',
         ARRAY[$$'meter-x'$$, $$'r'$$, $$NULL$$]);
SELECT 'unblock_device' AS fn, argument, result
  FROM pg_temp.each_null('mtcbind.unblock_device(text, text, mtcbind.imei)',
         ARRAY[$$'meter-x'$$, $$'r'$$, $$NULL$$]);
-- (a NULL imei is "not given": meter-x was blocked, and unblocked)
SELECT pg_temp.changes() AS null_block_cases_wrote, pg_temp.new_events() AS events;
SELECT pg_temp.snap();
SELECT c.label, pg_temp.val(c.stmt) AS result
  FROM (VALUES
    (1, 'block_device: terminal_id empty', $$SELECT mtcbind.block_device('', 'r')$$),
    (2, 'block_device: terminal_id of 256 octets', $$SELECT mtcbind.block_device(repeat('t', 256), 'r')$$),
    (3, 'block_device: terminal_id of 10 million characters', $$SELECT mtcbind.block_device(repeat('t', 10000000), 'r')$$),
    (4, 'block_device: imei empty', $$SELECT mtcbind.block_device(NULL, 'r', '')$$),
    (5, 'block_device: reason empty', $$SELECT mtcbind.block_device('meter-x', '')$$),
    (6, 'block_device: reason of 1001 octets', $$SELECT mtcbind.block_device('meter-x', repeat('r', 1001))$$),
    (7, 'block_uicc: iccid of 10 million digits', $$SELECT left(mtcbind.block_uicc(repeat('8', 10000000), 'r')::text, 0)$$),
    (8, 'block_uicc: iccid emoji', $$SELECT mtcbind.block_uicc('📟', 'r')$$),
    (9, 'block_uicc: reason of blanks', $$SELECT mtcbind.block_uicc('89441000000000001248', E'\r\n')$$),
    (10, 'block_uicc: reason of 10 million characters', $$SELECT mtcbind.block_uicc('89441000000000001248', repeat('r', 10000000))$$),
    (11, 'unblock_uicc: reason empty', $$SELECT mtcbind.unblock_uicc('89441000000000001248', '')$$),
    (12, 'unblock_uicc: iccid of 17 digits', $$SELECT mtcbind.unblock_uicc('89441000000000001', 'r')$$),
    (13, 'unblock_device: terminal_id of 256 octets', $$SELECT mtcbind.unblock_device(repeat('t', 256), 'r')$$),
    (14, 'unblock_device: both NULL, reason NULL', $$SELECT mtcbind.unblock_device(NULL, NULL)$$),
    (15, 'unblock_device: reason of 1001 octets', $$SELECT mtcbind.unblock_device('meter-x', repeat('r', 1001))$$)
  ) c(n, label, stmt)
 ORDER BY c.n;
SELECT pg_temp.changes() AS bad_block_calls_wrote;

-- Rule: blocks at the limits and with odd texts are stored as given and
-- lifted again.
SELECT mtcbind.block_device(repeat('z', 255), repeat('€', 333) || 'r', '999999999999994') > 0 AS device_blocked;
SELECT octet_length(terminal_id) AS term_octets, imei, octet_length(reason) AS reason_octets
  FROM mtcbind.blocklist WHERE terminal_id = repeat('z', 255);
SELECT x.name, pg_temp.try(format('SELECT mtcbind.block_device(%L, %L)', x.t, x.t)) AS blocked
  FROM txt x WHERE x.name IN ('combining', 'high_bit', 'format') ORDER BY x.name COLLATE "C";
SELECT x.name, k.reason = x.t AS reason_stored, b.blocked AS its_binding_flagged
  FROM txt x JOIN mtcbind.blocklist k ON k.terminal_id = x.t
  JOIN mtcbind.binding b ON b.terminal_id = x.t
 WHERE x.name IN ('combining', 'high_bit', 'format') ORDER BY x.name COLLATE "C";
-- The device named by the injection string is bound: blocking it blocks its pair.
SELECT mtcbind.block_device(t, t) > 0 AS injection_device_blocked FROM txt WHERE name = 'injection';
SELECT pg_temp.rk(t, '89441000000000001024') AS injection_device_refused FROM txt WHERE name = 'injection';
SELECT mtcbind.unblock_device(t, t) AS lifted FROM txt WHERE name = 'injection';
SELECT mtcbind.unblock_device(repeat('z', 255), repeat('r', 1000), '999999999999994') AS lifted_at_limits;
SELECT mtcbind.unblock_device(NULL, 'not blocked', '999999999999994') AS nothing_to_lift;
SELECT mtcbind.block_uicc('89441000000000001248', repeat('€', 333) || 'r') > 0 AS card_blocked_at_limits;
SELECT octet_length(reason) AS reason_octets FROM mtcbind.blocklist WHERE iccid = '89441000000000001248';
SELECT mtcbind.unblock_uicc('89441000000000001248', repeat('r', 1000)) AS card_unblocked_at_limits;
SELECT mtcbind.unblock_uicc('89441000000000001248', repeat('r', 1000)) AS nothing_left_to_lift;

--
-- 6. set_policy and settings
--

SELECT pg_temp.snap();
SELECT 'set_policy' AS fn, argument, result
  FROM pg_temp.each_null('mtcbind.set_policy(text, text, text)',
         ARRAY[$$'first_use'$$, $$'reject'$$, $$'r'$$], 'SELECT %s::text');
SELECT pg_temp.changes() AS null_policy_cases_wrote;   -- value NULL: removes a policy that is not there
SELECT pg_temp.snap();
-- Rule: unknown names and bad values are 22023; an unknown name is shown
-- cut short; values are matched exactly.
SELECT c.label, pg_temp.val(c.stmt) AS result
  FROM (VALUES
    (1, 'name empty', $$SELECT mtcbind.set_policy('', 'x', 'r')$$),
    (2, 'name injection', $$SELECT mtcbind.set_policy((SELECT t FROM txt WHERE name = 'injection'), 'x', 'r')$$),
    (3, 'name format specifiers', $$SELECT mtcbind.set_policy((SELECT t FROM txt WHERE name = 'format'), 'x', 'r')$$),
    (4, 'name emoji', $$SELECT mtcbind.set_policy((SELECT t FROM txt WHERE name = 'emoji'), 'x', 'r')$$),
    (5, 'name with a newline', $$SELECT mtcbind.set_policy(E'first_use\n', 'reject', 'r')$$),
    (6, 'name of 10 million characters', $$SELECT mtcbind.set_policy(repeat('€', 10000000), 'x', 'r')$$),
    (7, 'first_use empty', $$SELECT mtcbind.set_policy('first_use', '', 'r')$$),
    (8, 'first_use in capitals', $$SELECT mtcbind.set_policy('first_use', 'REJECT', 'r')$$),
    (9, 'first_use with a blank', $$SELECT mtcbind.set_policy('first_use', 'reject ', 'r')$$),
    (10, 'first_use of 10 million characters', $$SELECT mtcbind.set_policy('first_use', repeat('r', 10000000), 'r')$$),
    (11, 'max_key_lifetime empty', $$SELECT mtcbind.set_policy('max_key_lifetime', '', 'r')$$),
    (12, 'max_key_lifetime zero', $$SELECT mtcbind.set_policy('max_key_lifetime', '0', 'r')$$),
    (13, 'max_key_lifetime negative', $$SELECT mtcbind.set_policy('max_key_lifetime', '-1 day', 'r')$$),
    (14, 'max_key_lifetime 10 years and a second', $$SELECT mtcbind.set_policy('max_key_lifetime', '3650 days 1 second', 'r')$$),
    (15, 'max_key_lifetime 178 million years', $$SELECT mtcbind.set_policy('max_key_lifetime', '178000000 years', 'r')$$),
    (16, 'max_key_lifetime injection', $$SELECT mtcbind.set_policy('max_key_lifetime', (SELECT t FROM txt WHERE name = 'injection'), 'r')$$),
    (17, 'max_key_lifetime format specifiers', $$SELECT mtcbind.set_policy('max_key_lifetime', (SELECT t FROM txt WHERE name = 'format'), 'r')$$),
    (18, 'max_key_lifetime of 10 million characters', $$SELECT mtcbind.set_policy('max_key_lifetime', repeat('1', 10000000), 'r')$$),
    (19, 'max_key_lifetime 1 day padded to 200 characters', $$SELECT mtcbind.set_policy('max_key_lifetime', rpad('1 day', 200), 'r')$$),
    (20, 'reason empty', $$SELECT mtcbind.set_policy('first_use', 'reject', '')$$),
    (21, 'reason of 1001 octets', $$SELECT mtcbind.set_policy('first_use', 'reject', repeat('r', 1001))$$)
  ) c(n, label, stmt)
 ORDER BY c.n;
SELECT pg_temp.changes() AS bad_policy_calls_wrote;
-- (Note: an unknown policy name is cut to 40 octets, not 40 characters as
-- the identifier types cut their input: 13 three-octet characters here.)

-- Rule: the largest lifetimes a policy may set are taken (10 years, in any
-- spelling), and settings() reports them as stored.
SELECT pg_temp.try($$SELECT mtcbind.set_policy('max_key_lifetime', '3650 days', repeat('€', 333) || 'r')$$) AS days_3650,
       pg_temp.try($$SELECT mtcbind.set_policy('max_key_lifetime', '120 months 50 days', 'r')$$) AS months_and_days,
       pg_temp.try($$SELECT mtcbind.set_policy('max_key_lifetime', 'PT87600H', 'r')$$) AS iso_hours,
       pg_temp.try($$SELECT mtcbind.set_policy('max_key_lifetime', '1 microsecond', 'r')$$) AS shortest;
SELECT * FROM mtcbind.settings() ORDER BY name;
SELECT mtcbind.set_policy('max_key_lifetime', NULL, t) FROM txt WHERE name = 'newlines';
SELECT pg_temp.visible(reason) AS reason FROM mtcbind.binding_event
 WHERE event = 'policy_changed' ORDER BY event_id DESC LIMIT 1;
SELECT * FROM mtcbind.settings() ORDER BY name;
SELECT pg_temp.changes() AS policy_calls_wrote, pg_temp.new_events() AS events;

-- Rule: a max_key_lifetime written into mtcbind.policy by hand that does
-- not parse (here an injection string repeated to 102000 characters) makes
-- request_key fail rather than guess, with a message that does not echo
-- it, and with 55000 (the database's state, not the caller's input);
-- settings() shows it, to diagnose it.  Removing it (by set_policy) heals.
INSERT INTO mtcbind.policy (name, value, reason)
SELECT 'max_key_lifetime', repeat(t, 3000), 'by hand' FROM txt WHERE name = 'injection';
SELECT state, message, detail, length(message) < 200 AS short_message
  FROM pg_temp.err($$SELECT pg_temp.rk('meter-e1', '89441000000000001008')$$);
SELECT in_effect FROM mtcbind.settings() WHERE name = 'key_lifetime';
SELECT mtcbind.set_policy('max_key_lifetime', NULL, 'remove the hand-written value');
SELECT pg_temp.rk('meter-e1', '89441000000000001008') AS healed;

--
-- 7. maintain_event_log and purge_events
--

SELECT pg_temp.snap();
SELECT argument, result FROM pg_temp.each_null('mtcbind.maintain_event_log(integer)', ARRAY['0']);
SELECT c.label, pg_temp.val(c.stmt) AS result
  FROM (VALUES
    (1, 'days_ahead -1', $$SELECT mtcbind.maintain_event_log(-1)$$),
    (2, 'days_ahead 367', $$SELECT mtcbind.maintain_event_log(367)$$),
    (3, 'days_ahead 2147483647', $$SELECT mtcbind.maintain_event_log(2147483647)$$),
    (4, 'days_ahead -2147483648', $$SELECT mtcbind.maintain_event_log(-2147483648)$$),
    (5, 'days_ahead 2147483648 (not an integer)', $$SELECT mtcbind.maintain_event_log(2147483648)$$)
  ) c(n, label, stmt)
 ORDER BY c.n;
-- Rule: the largest horizon, 366 days, makes a partition a day (in a
-- transaction rolled back: the test keeps its log small).
BEGIN;
SELECT mtcbind.maintain_event_log(366) BETWEEN 365 AND 367 AS made_a_year_of_partitions;
ROLLBACK;

SELECT 'purge_events' AS fn, argument, result
  FROM pg_temp.each_null('mtcbind.purge_events(interval, text, text[])',
         ARRAY[$$'100 years'$$, $$'r'$$, $$'{rejected}'$$]);
-- (kinds NULL is "all kinds": a purge that removed nothing, recorded)
SELECT pg_temp.changes() AS null_maintenance_cases_wrote, pg_temp.new_events() AS events;
SELECT pg_temp.snap();
SELECT c.label, pg_temp.val(c.stmt) AS result
  FROM (VALUES
    (1, 'older_than negative', $$SELECT mtcbind.purge_events('-1 microsecond', 'r')$$),
    (2, 'older_than 1 month minus 31 days', $$SELECT mtcbind.purge_events('1 month -31 days', 'r')$$),
    (3, 'reason empty', $$SELECT mtcbind.purge_events('100 years', '')$$),
    (4, 'reason of spaces', $$SELECT mtcbind.purge_events('100 years', '   ')$$),
    (5, 'kinds with a NULL', $$SELECT mtcbind.purge_events('100 years', 'r', '{rejected,NULL}')$$),
    (6, 'kinds with an empty string', $$SELECT mtcbind.purge_events('100 years', 'r', '{""}')$$),
    (7, 'kinds in capitals', $$SELECT mtcbind.purge_events('100 years', 'r', '{REJECTED}')$$),
    (8, 'kinds injection', $$SELECT mtcbind.purge_events('100 years', 'r', ARRAY[(SELECT t FROM txt WHERE name = 'injection')])$$),
    (9, 'kinds format specifiers', $$SELECT mtcbind.purge_events('100 years', 'r', ARRAY[(SELECT t FROM txt WHERE name = 'format')])$$),
    (10, 'kinds with a newline', $$SELECT mtcbind.purge_events('100 years', 'r', ARRAY[E'rejected\n'])$$),
    (11, 'kinds of 10 million characters', $$SELECT mtcbind.purge_events('100 years', 'r', ARRAY[repeat('€', 10000000)])$$),
    (12, 'older_than 7000 years (before 4713 BC)', $$SELECT mtcbind.purge_events('7000 years', 'r')$$),
    (13, 'older_than beyond the interval range', $$SELECT mtcbind.purge_events('178000000 years', 'r')$$)
  ) c(n, label, stmt)
 ORDER BY c.n;
SELECT pg_temp.changes() AS bad_purges_wrote;
-- Rule: older_than is at most 1000 years; more (which would put the cutoff
-- before 4713 BC) is 22023.


-- Rule: a purge that removes nothing still records itself; an empty or
-- two-dimensional list of kinds is a list of kinds.
SELECT mtcbind.purge_events('100 years', 'nothing that old', '{}') AS removed_none,
       mtcbind.purge_events('100 years', 'nothing that old', '{{rejected},{key_issued}}') AS removed_none_2d,
       mtcbind.purge_events('1000 years', 'the oldest cutoff there is') AS removed_none_1000_years;
-- Rule: purge_events checks its reason by the rule of every other function
-- (src/args.c): not blank, at most 1000 octets.
SELECT pg_temp.try($$SELECT mtcbind.purge_events('100 years', E'\t\r\n')$$) AS tab_reason,
       pg_temp.try($$SELECT mtcbind.purge_events('100 years', repeat('r', 1001))$$) AS reason_1001_octets,
       pg_temp.try($$SELECT mtcbind.purge_events('100 years', repeat('r', 10000000))$$) AS reason_10m;
SELECT octet_length(reason) AS reason_octets FROM mtcbind.binding_event
 WHERE event = 'events_purged' ORDER BY event_id DESC LIMIT 3;
SELECT pg_temp.changes() AS purges_wrote, pg_temp.new_events() AS events;

--
-- 8. Secrets: no key in any error text, no B-TID or key in any event
--

-- A 31-octet and a 33-octet key of recognisable octets, also given as
-- RANDs: every error names the argument and the length only, in no
-- encoding (hex either case, a 4-octet prefix, base64, escape) shows them.
CREATE TEMP TABLE secret AS SELECT
    decode(repeat('5ec7e7', 10) || '5e', 'hex') AS k31,
    decode(repeat('c0ffee', 11), 'hex') AS k33;
CREATE FUNCTION pg_temp.shows(e text, k bytea) RETURNS boolean LANGUAGE sql AS $$
    SELECT position(encode(k, 'hex') IN lower(e)) > 0
        OR position(upper(encode(k, 'hex')) IN e) > 0
        OR position(left(encode(k, 'hex'), 8) IN lower(e)) > 0
        OR position(encode(k, 'base64') IN e) > 0
        OR position(encode(k, 'escape') IN e) > 0
$$;
SELECT pg_temp.snap();
SELECT c.label, e AS error, pg_temp.shows(e, c.k) AS shows_key
  FROM secret s,
       LATERAL (VALUES
    (1, 'request_key, 31-octet key', s.k31, format($$SELECT * FROM mtcbind.request_key('\x6e61662e6578616d706c652e6f72670100000002', 'b@bsf.example.org', %L, now() + interval '1 day', 'meter-e1', '89441000000000001008')$$, s.k31)),
    (2, 'request_key, 33-octet key', s.k33, format($$SELECT * FROM mtcbind.request_key('\x6e61662e6578616d706c652e6f72670100000002', 'b@bsf.example.org', %L, now() + interval '1 day', 'meter-e1', '89441000000000001008')$$, s.k33)),
    (3, 'kdf, 31-octet key', s.k31, format($$SELECT mtcbind.kdf(%L, 1, '\x01')$$, s.k31)),
    (4, 'gba_naf_keys, 33-octet ks', s.k33, format($$SELECT * FROM mtcbind.gba_naf_keys(%L, '\x23553cbe9637a89d218ae64dae47bf35', 'impi', '\x6e61662e6578616d706c652e6f72670100000002')$$, s.k33)),
    (5, 'gba_naf_keys, 33-octet rand', s.k33, format($$SELECT * FROM mtcbind.gba_naf_keys('\xb40ba9a3c58b2a05bbf0d987b21bf8cbf769bcd751044604127672711c6d3441', %L, 'impi', '\x6e61662e6578616d706c652e6f72670100000002')$$, s.k33)),
    (6, 'ks_local, 31-octet key', s.k31, format($$SELECT mtcbind.ks_local(%L, 'b', '89441100633100000014', 't', '', '', '\x00112233445566778899aabbccddeeff', '\xffeeddccbbaa99887766554433221100')$$, s.k31)),
    (7, 'ks_local, 31-octet rand_x', s.k31, format($$SELECT mtcbind.ks_local('\x3e9f04a7de64efd1db6843a0a5f1c5677b7f7cc3fb7a37b7c53dcb4b2806b19c', 'b', '89441100633100000014', 't', '', '', %L, '\xffeeddccbbaa99887766554433221100')$$, s.k31)),
    (8, 'b_tid, 33-octet rand', s.k33, format($$SELECT mtcbind.b_tid(%L, 'bsf.example.org')$$, s.k33)),
    (9, 'request_key, a key of 10 million octets (the 31 repeated)', s.k31, format($$SELECT * FROM mtcbind.request_key('\x6e61662e6578616d706c652e6f72670100000002', 'b@bsf.example.org', decode(repeat(%L, 322581), 'hex'), now() + interval '1 day', 'meter-e1', '89441000000000001008')$$, encode(s.k31, 'hex')))
  ) c(n, label, k, stmt),
       LATERAL pg_temp.error_text(c.stmt) e
 ORDER BY c.n;
SELECT pg_temp.changes() AS secret_cases_wrote;

-- Rule: a refused request records the pair, the NAF_Id and the reason, but
-- neither the B-TID nor the key; nor does a granted one.
SELECT pg_temp.rk('meter-thief', '89441000000000001008', btid => 'SECRET-BTID-d00dfeed@bsf.example.org',
                  key => decode(repeat('d00dfeed', 8), 'hex')) AS refused,
       pg_temp.rk('meter-e1', '89441000000000001008', btid => 'SECRET-BTID-d00dfeed@bsf.example.org',
                  key => decode(repeat('d00dfeed', 8), 'hex')) AS granted;
SELECT count(*) FILTER (WHERE e::text LIKE '%SECRET-BTID%') AS events_with_btid,
       count(*) FILTER (WHERE e::text ILIKE '%d00dfeed%') AS events_with_key_hex,
       count(*) FILTER (WHERE e.naf_id::text ILIKE '%d00dfeed%') AS naf_ids_with_key_hex
  FROM mtcbind.binding_event e;

--
-- End: the server is still answering, and the tables are as they should be.
--
-- Rule (1.1): a NAF_Id must end in a Ua security protocol identifier whose
-- organisation octet is assigned (TS 33.220 Annex H): a text FQDN bound as
-- bytea, as a driver does with an untyped string, is refused instead of
-- giving a key the device cannot derive; every assigned organisation works.
SELECT pg_temp.try($$SELECT * FROM mtcbind.request_key('naf.example.org', 'b@bsf.example.org',
    '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', now() + interval '1 day',
    'meter-naf', '89441000000000000117')$$) AS text_fqdn;
SELECT o AS organisation, r.outcome
  FROM unnest(ARRAY['\x0100000002', '\x0200000000', '\x0300000001', '\x0400000000', '\xff00000000']::bytea[]) o,
       LATERAL mtcbind.request_key(mtcbind.naf_id('naf.example.org', o), 'b@bsf.example.org',
           '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', now() + interval '1 day',
           'meter-naf', '89441000000000000117') r;
SELECT pg_temp.try($$SELECT * FROM mtcbind.request_key(mtcbind.naf_id('naf.example.org', '\x0000000000'),
    'b@bsf.example.org', '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
    now() + interval '1 day', 'meter-naf', '89441000000000000117')$$) AS organisation_0;

SELECT item, n FROM pg_temp.state() ORDER BY item COLLATE "C";
SELECT 'edge cases done' AS done;

\c :regress_db
DROP DATABASE regress_mtcbind_edge_cases;
