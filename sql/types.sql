--
-- types: the identifier types imei, imeisv, iccid, imsi (TS 23.003, ITU-T E.118).
--
-- Expected check digits and encodings in this file were worked out by hand
-- and with an independent script, not by running this extension.
--
CREATE EXTENSION IF NOT EXISTS mtcbind;

-- The comparison operators live in pg_catalog, so they are found whatever
-- the search_path ...
SET search_path = public;
SELECT '49-015420-323751-8'::mtcbind.imei = '490154203237518' AS unqualified_equal;
SELECT '49-015420-323751-8'::mtcbind.imei <> '35-209900-176148-1' AS unqualified_not_equal;
-- ... and the schema-qualified spelling of older callers still works.
SELECT '49-015420-323751-8'::mtcbind.imei OPERATOR(mtcbind.=) '490154203237518' AS qualified_equal;
SELECT oprnamespace::regnamespace AS operator_schema, count(*)
  FROM pg_operator
 WHERE oprleft IN ('mtcbind.imei'::regtype, 'mtcbind.imeisv'::regtype,
                   'mtcbind.iccid'::regtype, 'mtcbind.imsi'::regtype)
 GROUP BY 1 ORDER BY 1;
-- The rest of this file puts mtcbind on the path, as applications do.
SET search_path = public, mtcbind;

-- Test helper: the canonical text of an input, or the SQLSTATE and detail
-- of the error it raises (so many cases fit in one table).
CREATE FUNCTION pg_temp.parse(typ text, input text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	result text;
	state text;
	detail text;
BEGIN
	EXECUTE format('SELECT %L::mtcbind.%I::text', input, typ) INTO result;
	RETURN result;
EXCEPTION WHEN others THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, detail = PG_EXCEPTION_DETAIL;
	RETURN state || ' ' || detail;
END $$;

-- Test helper: a Luhn check digit computed in SQL, independently of the C code.
CREATE FUNCTION pg_temp.luhn(digits text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT ((10 - sum(CASE WHEN (length(digits) - i) % 2 = 0
						   THEN (2 * d) / 10 + (2 * d) % 10 ELSE d END) % 10) % 10)::text
	FROM (SELECT i, substr(digits, i, 1)::int AS d
		  FROM generate_series(1, length(digits)) AS i) AS s
$$;

--
-- IMEI
--

-- TS 23.003 Annex B: the 14 digits 26053179311383 have check digit 7.
SELECT '26053179311383'::mtcbind.imei;
-- ... and the 15-digit form with that check digit is accepted as it is.
SELECT '260531793113837'::mtcbind.imei;
-- A wrong check digit names the digit found and the one expected.
SELECT '260531793113830'::mtcbind.imei;
-- Every bad text input is SQLSTATE 22P02 (invalid_text_representation).
\echo SQLSTATE :SQLSTATE
-- Messages name the type and the input; the detail says what is wrong.
SELECT '4901542032375'::mtcbind.imei;
SELECT '4901542O3237518'::mtcbind.imei;

SELECT to_json(input) AS input, pg_temp.parse('imei', input) AS result
FROM (VALUES
	('490154203237518'),			-- valid 15 digits
	('49015420323751'),				-- 14 digits: check digit 8 appended
	('49-015420-323751-8'),			-- hyphens as printed on labels
	('49 015420 323751 8'),			-- spaces between digits
	(E'\t 490154203237518 \n'),		-- blanks at either end are ignored
	('49--015420 - 323751-8'),		-- runs of separators between digits
	('35-209900-176148-1'),			-- another real-world style IMEI
	('012345678901237'),			-- leading zero kept (15 digits, CD 7)
	('01234567890123'),				-- leading zero kept (14 digits)
	('490154203237519'),			-- wrong check digit
	('4901542032375'),				-- 13 digits: too short
	('4901542032375180'),			-- 16 digits: too long
	('4'),							-- 1 digit (singular in the detail)
	(repeat('9', 40)),				-- far too long: counted, not truncated
	(''),							-- empty
	('   '),						-- only blanks is empty too
	('-490154203237518'),			-- hyphen before the first digit
	('490154203237518-'),			-- hyphen after the last digit
	('-'),							-- a lone hyphen
	('+490154203237518'),			-- a sign is not a digit
	('4901542032375.18'),			-- a dot is not a separator
	('4901542O3237518'),			-- letter O in place of zero, position 8
	(E'49015420\t3237518'),			-- tab inside is not a separator
	('4901542032375é8'),			-- multibyte character named whole
	('١٢٣٤٥٦٧٨٩٠١٢٣٤٥'),				-- Arabic-Indic digits are not digits
	('0x1B3C5D7E9F1A2B')			-- not hex either
) AS v(input);

-- A million digits: the count is reported exactly, nothing overflows.
SELECT pg_temp.parse('imei', repeat('1', 1000000));
-- The first bad character is reported even far into a long input.
SELECT pg_temp.parse('imei', repeat('1', 100000) || 'x');

--
-- Long input: the message shows at most 40 characters of it, followed by
-- "...", and then the detail says how many characters there were.  Neither
-- the message nor its log line grows with the input.
--

-- Test helper: the message and detail of the error an input raises.
CREATE FUNCTION pg_temp.message(typ text, input text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	msg text;
	detail text;
BEGIN
	EXECUTE format('SELECT %L::mtcbind.%I', input, typ);
	RETURN 'no error';
EXCEPTION WHEN others THEN
	GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
	RETURN msg || E'\n' || detail;
END $$;

-- 40 characters are shown whole, without a note ...
SELECT repeat('9', 40)::mtcbind.imei;
-- ... 41 are cut to 40, and the detail gives the length.
SELECT repeat('9', 41)::mtcbind.imei;
-- The issue's case: ten million digits give a message of bounded size.
SELECT length(m) AS message_length, m AS message
FROM pg_temp.message('imei', repeat('1', 10000000)) AS m;
-- Every rule keeps its detail and gains the note: blanks only, hyphen,
-- bad character, prefix, check digit; the position is still exact.
SELECT to_json(typ) AS type, length(input) AS input_length, pg_temp.message(typ, input) AS message
FROM (VALUES
	('imei', repeat(' ', 100)),
	('imei', repeat(' ', 50) || '-490154203237518'),
	('imeisv', '3520 9900 1761 4823' || repeat(' 1', 20) || ' x'),
	('iccid', '98 44 11 00 63 51 23 45 67 84 ' || repeat(' ', 20)),
	('iccid', '89 - 44 - 11 - 00 - 63 - 51 - 23 - 45 - 67 - 85'),
	('imei', '4 - 9 - 0 - 1 - 5 - 4 - 2 - 0 - 3 - 2 - 3 - 7 - 5 - 1 - 9'),
	('imsi', repeat('0', 41))
) AS v(typ, input);
-- The cut falls on a character boundary: 39 ASCII digits and then a
-- two-byte 'é' make 40 characters (41 bytes), all shown ...
SELECT pg_temp.message('imsi', repeat('1', 39) || 'éé');
-- ... and 40 four-byte characters (160 bytes) are shown whole.
SELECT pg_temp.message('imsi', repeat('𝟘', 45));
-- A valid value with many separators is still accepted: only errors are cut.
SELECT ('4' || repeat(' ', 100) || '90154203237518')::mtcbind.imei AS spaced_imei;

--
-- IMEISV
--

-- 16 digits: TAC 35209900, SNR 176148, SVN 23.
SELECT '35-209900-176148-23'::mtcbind.imeisv;
-- No check digit, and SVN 99 (reserved in TS 23.003) is still accepted.
SELECT '3520990017614899'::mtcbind.imeisv;
SELECT '352099001761482'::mtcbind.imeisv;

SELECT to_json(input) AS input, pg_temp.parse('imeisv', input) AS result
FROM (VALUES
	('3520990017614823'),			-- valid
	('0123456789012300'),			-- leading zero kept
	('35 209900 176148 23'),		-- spaces between digits
	('352099001761482'),			-- 15 digits: too short
	('35209900176148230'),			-- 17 digits: too long
	('3520990017614823a'),			-- trailing junk
	('')							-- empty
) AS v(input);

--
-- ICCID
--

-- 18, 19 and 20 digits, each starting "89" and ending in its Luhn digit.
SELECT '894410003000000004'::mtcbind.iccid;
SELECT '8949100000000000017'::mtcbind.iccid;
SELECT '8901 2608 6229 1487 7267'::mtcbind.iccid;
-- Wrong prefix, and wrong check digit.
SELECT '88012608622914877267'::mtcbind.iccid;
SELECT '89012608622914877268'::mtcbind.iccid;

SELECT to_json(input) AS input, pg_temp.parse('iccid', input) AS result
FROM (VALUES
	('894410003000000004'),			-- 18 digits
	('8944100030000000049'),		-- 19 digits, the 18 above extended
	('89441000300000000491'),		-- 20 digits, extended again
	('89441100635123456784'),		-- 20 digits, real-world style
	('89-44-110063-512345678-4'),	-- separators
	('89441000300000000'),			-- 17 digits: too short
	('894410003000000004911'),		-- 21 digits: too long
	('98441100635123456784'),		-- does not start with 89
	('89441100635123456785'),		-- wrong check digit
	('8944100030000000004F'),		-- F padding from the card (EF_ICCID)
	('')							-- empty
) AS v(input);

--
-- IMSI
--

-- 15 digits of the test network MCC 001 MNC 01: leading zeros are kept.
SELECT '001010123456789'::mtcbind.imsi;
-- 6 digits is the shortest accepted.
SELECT '001010'::mtcbind.imsi;
SELECT '00101'::mtcbind.imsi;

SELECT to_json(input) AS input, pg_temp.parse('imsi', input) AS result
FROM (VALUES
	('310150123456789'),			-- US, 15 digits
	('262011234567890'),			-- Germany, 15 digits
	('23415099999999'),				-- 14 digits
	('001010'),						-- 6 digits
	('0010100'),					-- 7 digits, differs from the 6 above
	('000000'),						-- all zeros is still 6 digits
	('00101'),						-- 5 digits: too short
	('0010101234567890'),			-- 16 digits: too long
	('00101012345678F'),			-- F padding from the card (EF_IMSI)
	('001-01-0123456789')			-- separators
) AS v(input);

--
-- Output is canonical: every spelling of a value outputs the same digits.
--
SELECT '49-015420-323751-8'::mtcbind.imei::text = '490154203237518' AS imei_canonical,
	   ' 3520 9900 1761 4823 '::mtcbind.imeisv::text = '3520990017614823' AS imeisv_canonical,
	   '8949-1000-0000-0000-017'::mtcbind.iccid::text = '8949100000000000017' AS iccid_canonical,
	   '001 01 0123456789'::mtcbind.imsi::text = '001010123456789' AS imsi_canonical;

--
-- Equality across spellings, enforced by a UNIQUE index.
--
CREATE TABLE device (id serial PRIMARY KEY, imei mtcbind.imei UNIQUE);
INSERT INTO device (imei) VALUES ('49-015420-323751-8');
-- The same IMEI without separators is a duplicate ...
INSERT INTO device (imei) VALUES ('490154203237518');
-- ... and so is its 14-digit form.
INSERT INTO device (imei) VALUES ('49015420323751');
-- A comparison with a literal finds it in any spelling.
SELECT id, imei FROM device WHERE imei = '49 015420 323751 8';

CREATE TABLE card (iccid mtcbind.iccid UNIQUE, imsi mtcbind.imsi UNIQUE);
INSERT INTO card VALUES ('8949100000000000017', '001010123456789');
-- The same ICCID and IMSI written with separators are duplicates.
INSERT INTO card VALUES ('8949-1000-0000-0000-017', '999990000000001');
INSERT INTO card VALUES ('8944100030000000049', '001 01 0123456789');
-- An IMSI that is a prefix of another is a different IMSI.
INSERT INTO card VALUES ('894410003000000004', '00101012345678');
SELECT * FROM card ORDER BY iccid;

--
-- Ordering equals the byte order of the canonical digits.
--

-- IMSI and ICCID of different lengths, including prefixes of each other.
CREATE TABLE ord (imsi mtcbind.imsi, iccid mtcbind.iccid);
INSERT INTO ord VALUES
	('001010', '894410003000000004'),
	('0010100', '8944100030000000049'),
	('001010123456789', '89441000300000000491'),
	('00101012345678', '89441100635123456784'),
	('001011', '8931041010654378981'),
	('000000', '893104101065437898'),
	('999999999999999', '8901260862291487725'),
	('310150123456789', '89012608622914877267'),
	('3101501', '8949100000000000017'),
	('99999900', NULL);
SELECT imsi FROM ord WHERE imsi IS NOT NULL ORDER BY imsi;
SELECT iccid FROM ord WHERE iccid IS NOT NULL ORDER BY iccid;
SELECT array_agg(imsi ORDER BY imsi) = array_agg(imsi ORDER BY imsi::text COLLATE "C") AS imsi_order_is_text_order,
	   array_agg(iccid ORDER BY iccid) = array_agg(iccid ORDER BY iccid::text COLLATE "C") AS iccid_order_is_text_order
FROM ord;

-- Many generated values: digit strings from md5, check digits from the SQL
-- Luhn helper, IMSIs as prefix chains of every length from 6 to 15.
CREATE TABLE gen (imei mtcbind.imei, imeisv mtcbind.imeisv, iccid mtcbind.iccid, imsi mtcbind.imsi);
INSERT INTO gen
SELECT left(d, 14) || pg_temp.luhn(left(d, 14)),
	   left(d, 16),
	   '89' || left(d, 15 + n % 3) || pg_temp.luhn('89' || left(d, 15 + n % 3)),
	   left(d, n)
FROM generate_series(1, 300) AS i,
	 generate_series(6, 15) AS n,
	 LATERAL (SELECT translate(md5(i::text), 'abcdef', '012345') AS d) AS m;
SELECT count(*) AS generated FROM gen;
SELECT array_agg(imei ORDER BY imei) = array_agg(imei ORDER BY imei::text COLLATE "C") AS imei_order,
	   array_agg(imeisv ORDER BY imeisv) = array_agg(imeisv ORDER BY imeisv::text COLLATE "C") AS imeisv_order,
	   array_agg(iccid ORDER BY iccid) = array_agg(iccid ORDER BY iccid::text COLLATE "C") AS iccid_order,
	   array_agg(imsi ORDER BY imsi) = array_agg(imsi ORDER BY imsi::text COLLATE "C") AS imsi_order
FROM gen;
-- Comparison operators agree with text comparison on every adjacent pair.
SELECT count(*) FILTER (WHERE (a < b) <> (a::text COLLATE "C" < b::text)
						   OR (a <= b) <> (a::text COLLATE "C" <= b::text)
						   OR (a > b) <> (a::text COLLATE "C" > b::text)
						   OR (a >= b) <> (a::text COLLATE "C" >= b::text)
						   OR (a = b) <> (a::text = b::text)
						   OR (a <> b) <> (a::text <> b::text)) AS imsi_disagreements
FROM (SELECT imsi AS a, lead(imsi) OVER (ORDER BY md5(imsi::text)) AS b FROM gen) AS s
WHERE b IS NOT NULL;
-- A changed check digit makes every generated IMEI and ICCID invalid.
SELECT count(*) FILTER (WHERE pg_temp.parse('imei', left(imei::text, 14) || ((right(imei::text, 1)::int + 1) % 10)) LIKE '22P02 Check digit is %') AS bad_imei,
	   count(*) FILTER (WHERE pg_temp.parse('iccid', left(iccid::text, -1) || ((right(iccid::text, 1)::int + 7) % 10)) LIKE '22P02 Check digit is %') AS bad_iccid
FROM gen WHERE imsi::text ~ '^.{6}$';

--
-- The btree index serves ranges; the hash index serves equality.
--
CREATE INDEX gen_imsi_btree ON gen (imsi);
CREATE INDEX gen_imei_hash ON gen USING hash (imei);
ANALYZE gen;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT imsi FROM gen WHERE imsi >= '001010' AND imsi < '002000';
EXPLAIN (COSTS OFF) SELECT imei FROM gen WHERE imei = '260531793113837';
-- Results through the indexes equal those of a plain scan.
SELECT count(*) AS by_btree FROM gen WHERE imsi >= '500000' AND imsi < '600000';
SELECT count(*) AS by_hash FROM gen WHERE imei = (SELECT min(imei) FROM gen);
-- min() and max() follow the same order, and can read the btree index.
EXPLAIN (COSTS OFF) SELECT min(imsi), max(imsi) FROM gen;
SELECT min(imsi), max(imsi) FROM gen;
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT count(*) AS by_seqscan_btree FROM gen WHERE imsi::text >= '500000' AND imsi::text < '600000';
SELECT count(*) AS by_seqscan_hash FROM gen WHERE imei::text = (SELECT min(imei::text) FROM gen);
SELECT min(imsi::text COLLATE "C"), max(imsi::text COLLATE "C") FROM gen;

--
-- Hash joins and merge joins are possible (operator = HASHES, MERGES).
--
CREATE TABLE gen2 AS SELECT DISTINCT imei, imsi FROM gen;
SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM gen JOIN gen2 USING (imei);
SELECT count(*) AS hash_join_rows FROM gen JOIN gen2 USING (imei);
RESET enable_mergejoin;
SET enable_hashjoin = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM gen JOIN gen2 USING (imsi);
SELECT count(*) AS merge_join_rows FROM gen JOIN gen2 USING (imsi);
RESET enable_hashjoin;
RESET enable_nestloop;
-- The same joins done on text give the same counts.
SELECT count(*) AS text_join_imei FROM gen JOIN gen2 ON gen.imei::text = gen2.imei::text;
SELECT count(*) AS text_join_imsi FROM gen JOIN gen2 ON gen.imsi::text = gen2.imsi::text;
-- GROUP BY and DISTINCT work through hashing and sorting alike.
SELECT count(DISTINCT imsi) AS distinct_imsi, count(DISTINCT imsi::text) AS distinct_imsi_text FROM gen;

--
-- Casts from and to text and varchar.
--
SELECT '49-015420-323751-8'::text::mtcbind.imei AS from_text,
	   '001 01 0123456789'::varchar::mtcbind.imsi AS from_varchar,
	   pg_typeof('490154203237518'::mtcbind.imei::text) AS to_text,
	   pg_typeof('490154203237518'::mtcbind.imei::varchar) AS to_varchar;
-- A bad text value fails the cast with 22P02 like a literal does.
SELECT '8944'::text::mtcbind.iccid;
-- Assignment casts: text columns insert into identifier columns and back.
CREATE TABLE raw (imei text, imeisv varchar(20), iccid text, imsi text);
INSERT INTO raw VALUES ('49-015420-323751-8', '35 209900 176148 23', '8949 1000 0000 0000 017', '001010123456789');
CREATE TABLE typed (imei mtcbind.imei, imeisv mtcbind.imeisv, iccid mtcbind.iccid, imsi mtcbind.imsi);
INSERT INTO typed SELECT * FROM raw;
SELECT * FROM typed;
INSERT INTO raw SELECT * FROM typed;
SELECT * FROM raw;
-- The types are distinct: an IMEI is not compared with an IMEISV.
SELECT '490154203237518'::mtcbind.imei = '4901542032375100'::mtcbind.imeisv;

--
-- Helpers.
--
-- imei(imeisv): first 14 digits plus the computed check digit.
SELECT mtcbind.imei('3520990017614823'::mtcbind.imeisv) AS imei_of_imeisv;
-- The Annex B example again, reached through an IMEISV with SVN 00.
SELECT mtcbind.imei('2605317931138300'::mtcbind.imeisv) AS annex_b;
-- A software update changes the SVN, not the IMEI.
SELECT mtcbind.imei('4901542032375101'::mtcbind.imeisv) = mtcbind.imei('4901542032375199'::mtcbind.imeisv) AS same_device;
-- Every generated IMEISV maps to the IMEI the SQL Luhn helper computes.
SELECT count(*) FILTER (WHERE mtcbind.imei(imeisv)::text <> left(imeisv::text, 14) || pg_temp.luhn(left(imeisv::text, 14))) AS mismatches
FROM gen;
SELECT mtcbind.tac('490154203237518'::mtcbind.imei) AS tac_imei,
	   mtcbind.tac(mtcbind.imei('3520990017614823'::mtcbind.imeisv)) AS tac_imeisv,
	   mtcbind.tac('35-209900-176148-1') AS tac_of_literal,
	   mtcbind.svn('3520990017614801'::mtcbind.imeisv) AS svn,
	   mtcbind.mcc('001010123456789'::mtcbind.imsi) AS mcc_test_network,
	   mtcbind.mcc('310150'::mtcbind.imsi) AS mcc_short_imsi;
-- Helpers and type functions are IMMUTABLE STRICT PARALLEL SAFE (the
-- first count), and none is missing from the check (the second).
SELECT count(*) FILTER (WHERE p.provolatile <> 'i' OR NOT p.proisstrict OR p.proparallel <> 's') AS not_immutable_strict_parallel_safe,
	   count(*) AS checked
FROM pg_proc AS p
WHERE p.pronamespace = 'mtcbind'::regnamespace AND p.prokind = 'f'
  AND (p.proname ~ '^(imei|imeisv|iccid|imsi)_' OR p.proname IN ('imei', 'tac', 'svn', 'mcc'));
-- Each type has default btree and hash operator classes.
SELECT c.opcintype::regtype AS type, a.amname, c.opcdefault
FROM pg_opclass AS c JOIN pg_am AS a ON a.oid = c.opcmethod
WHERE c.opcnamespace = 'mtcbind'::regnamespace
ORDER BY c.opcintype::regtype::text, a.amname;

--
-- Binary send and receive.
--
-- The binary form is the stored int8: the 15 digits for an IMEI, the 16
-- for an IMEISV, N*4 + (length - 18) for an ICCID and N*16 + length for an
-- IMSI, where N is the digits (after "89" for ICCID) right-padded with zeros.
SELECT mtcbind.imei_send('490154203237518') = int8send(490154203237518) AS imei_wire,
	   mtcbind.imeisv_send('3520990017614823') = int8send(3520990017614823) AS imeisv_wire,
	   mtcbind.iccid_send('8949100000000000017') = int8send(491000000000000170 * 4 + 1) AS iccid_wire,
	   mtcbind.iccid_send('89012608622914877267') = int8send(12608622914877267 * 4 + 2) AS iccid_wire_20,
	   mtcbind.imsi_send('001010') = int8send(1010000000000 * 16 + 6) AS imsi_wire,
	   mtcbind.imsi_send('310150123456789') = int8send(310150123456789 * 16 + 15) AS imsi_wire_15;

-- COPY BINARY round trip through a file the server writes.
SELECT '/tmp/mtcbind_types_' || pg_backend_pid() || '.bin' AS copyfile \gset
COPY gen TO :'copyfile' WITH (FORMAT binary);
CREATE TABLE gen_copy (LIKE gen);
COPY gen_copy FROM :'copyfile' WITH (FORMAT binary);
SELECT (SELECT count(*) FROM gen_copy) AS copied,
	   (SELECT count(*) FROM (SELECT * FROM gen EXCEPT ALL SELECT * FROM gen_copy) AS d) AS lost,
	   (SELECT count(*) FROM (SELECT * FROM gen_copy EXCEPT ALL SELECT * FROM gen) AS d) AS added;

-- Receive rejects an int8 that is no valid encoding, with 22P03.
CREATE TABLE one_imei (v mtcbind.imei);
CREATE TABLE one_imeisv (v mtcbind.imeisv);
CREATE TABLE one_iccid (v mtcbind.iccid);
CREATE TABLE one_imsi (v mtcbind.imsi);
-- 000000000000123: the check digit of 00000000000012 is 5, not 3.
COPY (SELECT 123::bigint) TO :'copyfile' WITH (FORMAT binary);
COPY one_imei FROM :'copyfile' WITH (FORMAT binary);
\echo SQLSTATE :SQLSTATE
-- A negative number is no identifier.
COPY (SELECT -1::bigint) TO :'copyfile' WITH (FORMAT binary);
COPY one_imeisv FROM :'copyfile' WITH (FORMAT binary);
\echo SQLSTATE :SQLSTATE
-- 17 digits are too many for an IMEISV.
COPY (SELECT 10000000000000000::bigint) TO :'copyfile' WITH (FORMAT binary);
COPY one_imeisv FROM :'copyfile' WITH (FORMAT binary);
\echo SQLSTATE :SQLSTATE
-- ICCID length code 3 (21 digits) does not exist.
COPY (SELECT 491000000000000170 * 4 + 3) TO :'copyfile' WITH (FORMAT binary);
COPY one_iccid FROM :'copyfile' WITH (FORMAT binary);
\echo SQLSTATE :SQLSTATE
-- ICCID of 18 digits whose padding is not zero (8949100000000000017 marked 18 long).
COPY (SELECT 491000000000000170 * 4 + 0) TO :'copyfile' WITH (FORMAT binary);
COPY one_iccid FROM :'copyfile' WITH (FORMAT binary);
\echo SQLSTATE :SQLSTATE
-- ICCID with a wrong check digit (8949100000000000018).
COPY (SELECT 491000000000000180 * 4 + 1) TO :'copyfile' WITH (FORMAT binary);
COPY one_iccid FROM :'copyfile' WITH (FORMAT binary);
\echo SQLSTATE :SQLSTATE
-- IMSI length 5 is too short.
COPY (SELECT 1010000000000 * 16 + 5) TO :'copyfile' WITH (FORMAT binary);
COPY one_imsi FROM :'copyfile' WITH (FORMAT binary);
\echo SQLSTATE :SQLSTATE
-- IMSI of 6 digits with non-zero padding.
COPY (SELECT 1010000000001 * 16 + 6) TO :'copyfile' WITH (FORMAT binary);
COPY one_imsi FROM :'copyfile' WITH (FORMAT binary);
\echo SQLSTATE :SQLSTATE
-- Valid encodings are received: the four values of the wire test above.
COPY (SELECT 490154203237518::bigint) TO :'copyfile' WITH (FORMAT binary);
COPY one_imei FROM :'copyfile' WITH (FORMAT binary);
COPY (SELECT 3520990017614823::bigint) TO :'copyfile' WITH (FORMAT binary);
COPY one_imeisv FROM :'copyfile' WITH (FORMAT binary);
COPY (SELECT 12608622914877267 * 4 + 2) TO :'copyfile' WITH (FORMAT binary);
COPY one_iccid FROM :'copyfile' WITH (FORMAT binary);
COPY (SELECT 1010000000000 * 16 + 6) TO :'copyfile' WITH (FORMAT binary);
COPY one_imsi FROM :'copyfile' WITH (FORMAT binary);
SELECT (SELECT v FROM one_imei) AS imei, (SELECT v FROM one_imeisv) AS imeisv,
	   (SELECT v FROM one_iccid) AS iccid, (SELECT v FROM one_imsi) AS imsi;

DROP TABLE device, card, ord, gen, gen2, gen_copy, raw, typed,
	one_imei, one_imeisv, one_iccid, one_imsi;
RESET search_path;
