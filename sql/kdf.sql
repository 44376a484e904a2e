--
-- Key derivation: the TS 33.220 Annex B KDF, the NAF-specific keys, NAF_Id,
-- B-TID and Ks_local (src/kdf.c, docs/kdf.md).
--
-- Reference values not taken from RFC 5448 were computed with Python's
-- hmac module and the openssl command line tool; the script is in the
-- header of test/unit/kdf_test.c.
--
-- (quietly: whether another test file created it first does not matter)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS mtcbind;
RESET client_min_messages;
SET bytea_output = hex;

CREATE SCHEMA kdf_regress;

-- Runs one statement; shows its result, or its SQLSTATE and message.  Flags
-- any message, detail or hint that shows one of the given input values.
CREATE FUNCTION kdf_regress.outcome(stmt text, VARIADIC inputs text[] DEFAULT '{}')
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	result text;
	state text;
	msg text;
	detail text;
	hint text;
	input text;
BEGIN
	EXECUTE stmt INTO result;
	RETURN 'ok: ' || coalesce(result, 'NULL');
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
		detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
	FOREACH input IN ARRAY inputs LOOP
		IF position(input IN concat_ws(' ', msg, detail, hint)) > 0 THEN
			RETURN state || ': MESSAGE SHOWS AN INPUT VALUE: ' || msg;
		END IF;
	END LOOP;
	RETURN state || ': ' || msg;
END $$;

-- S = FC || P0 || L0 || ... || Pn || Ln built in SQL, independently of the
-- C code, so that pgcrypto's hmac() can check mtcbind.kdf().
CREATE FUNCTION kdf_regress.s(fc integer, VARIADIC p bytea[]) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
	SELECT set_byte('\x00'::bytea, 0, fc)
		|| coalesce(string_agg(x || set_byte(set_byte('\x0000'::bytea, 0, length(x) >> 8),
		                                     1, length(x) & 255),
		                       ''::bytea ORDER BY n), ''::bytea)
	FROM unnest(p) WITH ORDINALITY AS u(x, n)
$$;

-- The inputs used throughout: Milenage test set 1 (TS 35.208) Ks = CK || IK
-- and RAND, an IMPI, an HTTP Digest NAF_Id, and Ks_local inputs.
CREATE TABLE kdf_regress.v AS SELECT
	'\xb40ba9a3c58b2a05bbf0d987b21bf8cbf769bcd751044604127672711c6d3441'::bytea AS ks,
	'\x23553cbe9637a89d218ae64dae47bf35'::bytea AS rand,
	'001010123456789@ims.mnc001.mcc001.3gppnetwork.org'::text AS impi,
	'\x6e61662e6578616d706c652e6f72670100000002'::bytea AS naf_id,
	'\x3e9f04a7de64efd1db6843a0a5f1c5677b7f7cc3fb7a37b7c53dcb4b2806b19c'::bytea AS ks_int_naf,
	'I1U8vpY3qJ0hiuZNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org'::text AS b_tid,
	'89441100633100000014'::text AS iccid,
	'\x00112233445566778899aabbccddeeff'::bytea AS rand_x,
	'\xffeeddccbbaa99887766554433221100'::bytea AS rand_y;

--
-- 1. Independent vectors
--

-- RFC 5448 Appendix C: CK' || IK' = KDF(CK || IK, 0x20, access network
-- identity, SQN xor AK); four published cases.
SELECT c.name,
       mtcbind.kdf(c.ck_ik, 32, convert_to(c.network, 'UTF8'), c.sqn_xor_ak) = c.expected AS matches
FROM (VALUES
	('case 1', '\x5349fbe098649f948f5d2e973a81c00f9744871ad32bf9bbd1dd5ce54e3e2e5a'::bytea, 'WLAN',
	 '\xbb52e91c747a'::bytea, '\x0093962d0dd84aa5684b045c9edffa04ccfc230ca74fcc96c0a5d61164f5a76c'::bytea),
	('case 2', '\x5349fbe098649f948f5d2e973a81c00f9744871ad32bf9bbd1dd5ce54e3e2e5a', 'HRPD',
	 '\xbb52e91c747a', '\x3820f0277fa5f77732b1fb1d90c1a0dadb94a0ab557ef6c9ab48619ca05b9a9f'),
	('case 3', '\xc0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0', 'WLAN',
	 '\xa0a0a0a0a0a0', '\xcd4c8e5c68f57dd1d7d7dfd0c538e5773ece6b705dbbf7dfc459a11280c65524'),
	('case 4', '\xc0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0', 'HRPD',
	 '\xa0a0a0a0a0a0', '\x8310a71ce6f754889613da8f64d5fb465adf14360ae838192db23f6fcb7f8c76')
) AS c(name, ck_ik, network, sqn_xor_ak, expected)
ORDER BY c.name;

-- TS 33.220 B.3: Ks_ext_NAF ("gba-me") and Ks_int_NAF ("gba-u") for
-- Milenage test set 1, against the Python / openssl values.
SELECT k.ks_ext_naf, k.ks_int_naf,
       k.ks_ext_naf = '\x7a205ce786b14dad6f28d1f8b39d74aba2a172a3c134043bb036912e2036b610' AS ext_matches,
       k.ks_int_naf = v.ks_int_naf AS int_matches
FROM kdf_regress.v v, mtcbind.gba_naf_keys(v.ks, v.rand, v.impi, v.naf_id) k;

-- gba_naf_keys is the generic KDF with FC 0x01 and the B.3 parameters.
SELECT mtcbind.kdf(v.ks, 1, '\x6762612d6d65', v.rand, convert_to(v.impi, 'UTF8'), v.naf_id)
         = (mtcbind.gba_naf_keys(v.ks, v.rand, v.impi, v.naf_id)).ks_ext_naf AS gba_me_is_kdf,
       mtcbind.kdf(v.ks, 1, convert_to('gba-u', 'UTF8'), v.rand, convert_to(v.impi, 'UTF8'), v.naf_id)
         = (mtcbind.gba_naf_keys(v.ks, v.rand, v.impi, v.naf_id)).ks_int_naf AS gba_u_is_kdf
FROM kdf_regress.v v;

-- mtcbind.kdf agrees with pgcrypto's hmac() over an S built in SQL, for
-- parameters of 0, 1, 255, 256, 300 (L = 01 2c), 1024 and 65535 octets.
SELECT t.name,
       mtcbind.kdf(v.ks, t.fc, VARIADIC t.p) = hmac(kdf_regress.s(t.fc, VARIADIC t.p), v.ks, 'sha256') AS agrees
FROM kdf_regress.v v, (VALUES
	('no parameters', 66, '{}'::bytea[]),
	('three empty parameters', 66, ARRAY[''::bytea, '', '']),
	('one octet, fc 0', 0, ARRAY['\x00'::bytea]),
	('255 and 256 octets, fc 255', 255, ARRAY[decode(repeat('a5', 255), 'hex'), decode(repeat('5a', 256), 'hex')]),
	('300 octets', 66, ARRAY[decode(repeat('a5', 300), 'hex')]),
	('1024 octets between two short ones', 16, ARRAY['\x01'::bytea, decode(repeat('3c', 1024), 'hex'), '\x02']),
	('65535 octets', 16, ARRAY['x'::bytea, decode(repeat('5a', 65535), 'hex'), 'y'])
) AS t(name, fc, p)
ORDER BY t.name;

-- The 300-octet parameter against the Python / openssl value.
SELECT mtcbind.kdf('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 66,
                   decode(repeat('a5', 300), 'hex')) AS kdf_300_octets;

--
-- 2. NAF_Id and B-TID
--

-- NAF_Id = FQDN (UTF-8) || 5-octet Ua security protocol identifier.
SELECT mtcbind.naf_id('naf.example.org', '\x0100000002') AS naf_id,
       mtcbind.naf_id('naf.example.org', '\x0100000002') = v.naf_id AS is_reference
FROM kdf_regress.v v;
SELECT mtcbind.naf_id('bücher.example', '\x010001002f')
       = convert_to('bücher.example', 'UTF8') || '\x010001002f'::bytea AS fqdn_is_utf8;

-- B-TID = base64(RAND) "@" BSF domain: standard alphabet, padded, one line.
SELECT mtcbind.b_tid(v.rand, 'bsf.mnc001.mcc001.pub.3gppnetwork.org') AS b_tid,
       mtcbind.b_tid(v.rand, 'bsf.mnc001.mcc001.pub.3gppnetwork.org') = v.b_tid AS is_reference
FROM kdf_regress.v v;
SELECT mtcbind.b_tid('\xfbffbffbffbffbffbffbffbffbffbfff', 'bsf.example') AS uses_plus_slash_and_padding;

--
-- 3. Ks_local
--

-- Ks_local for the reference inputs (layout: docs/kdf.md).
SELECT mtcbind.ks_local(v.ks_int_naf, v.b_tid, v.iccid::mtcbind.iccid, '356938035643809',
                        'metering-app', 'A0000000871002', v.rand_x, v.rand_y) AS ks_local
FROM kdf_regress.v v;

-- Ks_local is the generic KDF: FC 0x01, B-TID, ICCID, Terminal_ID,
-- Terminal_appli_ID, UICC_appli_ID, RANDx, RANDy.
SELECT mtcbind.ks_local(v.ks_int_naf, v.b_tid, v.iccid::mtcbind.iccid, '356938035643809',
                        '', '', v.rand_x, v.rand_y)
       = mtcbind.kdf(v.ks_int_naf, 1, convert_to(v.b_tid, 'UTF8'), convert_to(v.iccid, 'UTF8'),
                     convert_to('356938035643809', 'UTF8'), '', '', v.rand_x, v.rand_y) AS is_kdf,
       mtcbind.ks_local(v.ks_int_naf, v.b_tid, v.iccid::mtcbind.iccid, '356938035643809',
                        '', '', v.rand_x, v.rand_y)
       = '\xfb7afcf00b534227b32de0cea972ab8930733669935d342b0e451c5cac07e391' AS is_reference
FROM kdf_regress.v v;

-- The ICCID enters as its canonical digits: separators as printed on the
-- card make no difference.
SELECT mtcbind.ks_local(v.ks_int_naf, v.b_tid, '8944 1100 6331 0000 0014'::mtcbind.iccid,
                        '356938035643809', 'metering-app', 'A0000000871002', v.rand_x, v.rand_y)
       = mtcbind.ks_local(v.ks_int_naf, v.b_tid, '89441100633100000014'::mtcbind.iccid,
                          '356938035643809', 'metering-app', 'A0000000871002', v.rand_x, v.rand_y)
       AS separators_ignored
FROM kdf_regress.v v;

-- Every input counts: changing any one of them changes Ks_local.
SELECT count(DISTINCT k) AS distinct_keys
FROM kdf_regress.v v, LATERAL (VALUES
	(mtcbind.ks_local(v.ks_int_naf, v.b_tid, v.iccid::mtcbind.iccid, 't', 'a', 'u', v.rand_x, v.rand_y)),
	(mtcbind.ks_local(v.ks, v.b_tid, v.iccid::mtcbind.iccid, 't', 'a', 'u', v.rand_x, v.rand_y)),
	(mtcbind.ks_local(v.ks_int_naf, v.b_tid || 'x', v.iccid::mtcbind.iccid, 't', 'a', 'u', v.rand_x, v.rand_y)),
	(mtcbind.ks_local(v.ks_int_naf, v.b_tid, '8944110063310000001'::mtcbind.iccid, 't', 'a', 'u', v.rand_x, v.rand_y)),
	(mtcbind.ks_local(v.ks_int_naf, v.b_tid, v.iccid::mtcbind.iccid, 'T', 'a', 'u', v.rand_x, v.rand_y)),
	(mtcbind.ks_local(v.ks_int_naf, v.b_tid, v.iccid::mtcbind.iccid, 't', 'A', 'u', v.rand_x, v.rand_y)),
	(mtcbind.ks_local(v.ks_int_naf, v.b_tid, v.iccid::mtcbind.iccid, 't', 'a', 'U', v.rand_x, v.rand_y)),
	(mtcbind.ks_local(v.ks_int_naf, v.b_tid, v.iccid::mtcbind.iccid, 't', 'a', 'u', v.rand_y, v.rand_x)),
	(mtcbind.ks_local(v.ks_int_naf, v.b_tid, v.iccid::mtcbind.iccid, 't', 'a', 'u', v.rand_x, v.rand_x)),
	(mtcbind.ks_local(v.ks_int_naf, v.b_tid, v.iccid::mtcbind.iccid, 'ta', '', 'u', v.rand_x, v.rand_y))
) AS t(k);

--
-- 4. Bad arguments: SQLSTATE 22023 naming the argument and the expected
--    length, never showing the value
--

-- Shorthands: K32/K31/K33 keys of 32/31/33 octets (ab ab ...), R16/R15/R17
-- random values (cd cd ...), and 'secret' wherever a text can go.  The
-- outcome() wrapper flags any message that shows 'abab', 'cdcd' or 'secret'.
CREATE FUNCTION kdf_regress.expand(stmt text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT replace(replace(replace(replace(replace(replace(stmt,
		'K32', $q$decode(repeat('ab', 32), 'hex')$q$),
		'K31', $q$decode(repeat('ab', 31), 'hex')$q$),
		'K33', $q$decode(repeat('ab', 33), 'hex')$q$),
		'R16', $q$decode(repeat('cd', 16), 'hex')$q$),
		'R15', $q$decode(repeat('cd', 15), 'hex')$q$),
		'R17', $q$decode(repeat('cd', 17), 'hex')$q$)
$$;

-- mtcbind.kdf: key 32 octets, fc 0..255, parameters at most 65535 octets,
-- no NULL elements (22004), one dimension.
SELECT rule, kdf_regress.outcome(kdf_regress.expand(s), 'abab', 'cdcd', 'secret') AS outcome
FROM (VALUES
	('key of 0 octets', $$SELECT mtcbind.kdf('', 1, 'secret')$$),
	('key of 31 octets', $$SELECT mtcbind.kdf(K31, 1, 'secret')$$),
	('key of 33 octets', $$SELECT mtcbind.kdf(K33, 1, 'secret')$$),
	('fc = -1', $$SELECT mtcbind.kdf(K32, -1, 'secret')$$),
	('fc = 256', $$SELECT mtcbind.kdf(K32, 256, 'secret')$$),
	('fc = 0 accepted', $$SELECT length(mtcbind.kdf(K32, 0, 'secret'))$$),
	('fc = 255, no parameters accepted', $$SELECT length(mtcbind.kdf(K32, 255, VARIADIC '{}'::bytea[]))$$),
	('parameter of 65536 octets', $$SELECT mtcbind.kdf(K32, 1, 'secret', decode(repeat('cd', 65536), 'hex'))$$),
	('named by its SQL subscript', $$SELECT mtcbind.kdf(K32, 1, VARIADIC '[0:1]={secret,secret}'::bytea[] || decode(repeat('cd', 70000), 'hex'))$$),
	('parameter of 65535 octets accepted', $$SELECT length(mtcbind.kdf(K32, 1, decode(repeat('cd', 65535), 'hex')))$$),
	('NULL parameter', $$SELECT mtcbind.kdf(K32, 1, 'secret', NULL)$$),
	('two-dimensional params', $$SELECT mtcbind.kdf(K32, 1, VARIADIC '{{secret},{secret}}'::bytea[])$$)
) AS t(rule, s);

-- mtcbind.gba_naf_keys: Ks 32, RAND 16, NAF_Id at least 6 (an FQDN of one
-- octet or more and the 5-octet protocol id), parameters at most 65535.
SELECT rule, kdf_regress.outcome(kdf_regress.expand(s), 'abab', 'cdcd', 'secret') AS outcome
FROM (VALUES
	('ks of 31 octets', $$SELECT mtcbind.gba_naf_keys(K31, R16, 'secret', 'secret'::bytea || '\x0100000002')::text$$),
	('ks of 33 octets', $$SELECT mtcbind.gba_naf_keys(K33, R16, 'secret', 'secret'::bytea || '\x0100000002')::text$$),
	('rand of 15 octets', $$SELECT mtcbind.gba_naf_keys(K32, R15, 'secret', 'secret'::bytea || '\x0100000002')::text$$),
	('rand of 17 octets', $$SELECT mtcbind.gba_naf_keys(K32, R17, 'secret', 'secret'::bytea || '\x0100000002')::text$$),
	('naf_id without FQDN', $$SELECT mtcbind.gba_naf_keys(K32, R16, 'secret', '\x0100000002')::text$$),
	('empty naf_id', $$SELECT mtcbind.gba_naf_keys(K32, R16, 'secret', '')::text$$),
	('naf_id of 6 octets accepted', $$SELECT length((mtcbind.gba_naf_keys(K32, R16, 'secret', 'x'::bytea || '\x0100000002')).ks_int_naf)$$),
	('naf_id of 65536 octets', $$SELECT mtcbind.gba_naf_keys(K32, R16, 'secret', decode(repeat('cd', 65536), 'hex'))::text$$),
	('impi of 66000 octets', $$SELECT mtcbind.gba_naf_keys(K32, R16, repeat('secret', 11000), 'x'::bytea || '\x0100000002')::text$$)
) AS t(rule, s);

-- mtcbind.naf_id: FQDN not empty, Ua protocol identifier 5 octets, the
-- result at most 65535 octets.
SELECT rule, kdf_regress.outcome(kdf_regress.expand(s), 'abab', 'secret') AS outcome
FROM (VALUES
	('empty fqdn', $$SELECT mtcbind.naf_id('', '\x0100000002')$$),
	('ua_protocol of 4 octets', $$SELECT mtcbind.naf_id('secret.example', '\xabababab')$$),
	('ua_protocol of 6 octets', $$SELECT mtcbind.naf_id('secret.example', '\xabababababab')$$),
	('empty ua_protocol', $$SELECT mtcbind.naf_id('secret.example', '')$$),
	('fqdn of 65531 octets', $$SELECT mtcbind.naf_id(repeat('s', 65531), '\x0100000002')$$),
	('fqdn of 65530 octets accepted', $$SELECT length(mtcbind.naf_id(repeat('s', 65530), '\x0100000002'))$$)
) AS t(rule, s);

-- mtcbind.b_tid: RAND 16 octets, BSF domain not empty.
SELECT rule, kdf_regress.outcome(kdf_regress.expand(s), 'abab', 'cdcd', 'secret') AS outcome
FROM (VALUES
	('rand of 15 octets', $$SELECT mtcbind.b_tid(R15, 'bsf.secret.example')$$),
	('rand of 17 octets', $$SELECT mtcbind.b_tid(R17, 'bsf.secret.example')$$),
	('empty rand', $$SELECT mtcbind.b_tid('', 'bsf.secret.example')$$),
	('empty bsf_domain', $$SELECT mtcbind.b_tid(R16, '')$$)
) AS t(rule, s);

-- mtcbind.ks_local: Ks_int_NAF 32 octets, RANDx and RANDy 16, every text
-- at most 65535 octets.
SELECT rule, kdf_regress.outcome(kdf_regress.expand(s), 'abab', 'cdcd', 'secret') AS outcome
FROM (VALUES
	('ks_int_naf of 31 octets', $$SELECT mtcbind.ks_local(K31, 'secret@bsf', '89441100633100000014', 'secret', '', '', R16, R16)$$),
	('ks_int_naf of 33 octets', $$SELECT mtcbind.ks_local(K33, 'secret@bsf', '89441100633100000014', 'secret', '', '', R16, R16)$$),
	('empty ks_int_naf', $$SELECT mtcbind.ks_local('', 'secret@bsf', '89441100633100000014', 'secret', '', '', R16, R16)$$),
	('rand_x of 15 octets', $$SELECT mtcbind.ks_local(K32, 'secret@bsf', '89441100633100000014', 'secret', '', '', R15, R16)$$),
	('rand_x of 17 octets', $$SELECT mtcbind.ks_local(K32, 'secret@bsf', '89441100633100000014', 'secret', '', '', R17, R16)$$),
	('rand_y of 15 octets', $$SELECT mtcbind.ks_local(K32, 'secret@bsf', '89441100633100000014', 'secret', '', '', R16, R15)$$),
	('rand_y of 17 octets', $$SELECT mtcbind.ks_local(K32, 'secret@bsf', '89441100633100000014', 'secret', '', '', R16, R17)$$),
	('b_tid of 66000 octets', $$SELECT mtcbind.ks_local(K32, repeat('secret', 11000), '89441100633100000014', 'secret', '', '', R16, R16)$$),
	('terminal_id of 66000 octets', $$SELECT mtcbind.ks_local(K32, 'secret@bsf', '89441100633100000014', repeat('secret', 11000), '', '', R16, R16)$$),
	('terminal_appli_id of 66000 octets', $$SELECT mtcbind.ks_local(K32, 'secret@bsf', '89441100633100000014', 'secret', repeat('secret', 11000), '', R16, R16)$$),
	('uicc_appli_id of 66000 octets', $$SELECT mtcbind.ks_local(K32, 'secret@bsf', '89441100633100000014', 'secret', '', repeat('secret', 11000), R16, R16)$$),
	('terminal_id of 65535 octets accepted', $$SELECT length(mtcbind.ks_local(K32, 'secret@bsf', '89441100633100000014', repeat('s', 65535), '', '', R16, R16))$$)
) AS t(rule, s);

--
-- 5. STRICT: a NULL argument gives NULL, never an error
--
SELECT mtcbind.kdf(NULL, 1, '\x00') IS NULL AS kdf_key,
       mtcbind.kdf(v.ks, NULL, '\x00') IS NULL AS kdf_fc,
       mtcbind.kdf(v.ks, 1, VARIADIC NULL::bytea[]) IS NULL AS kdf_params
FROM kdf_regress.v v;
SELECT (mtcbind.gba_naf_keys(NULL, v.rand, v.impi, v.naf_id)).ks_int_naf IS NULL AS ks,
       (mtcbind.gba_naf_keys(v.ks, NULL, v.impi, v.naf_id)).ks_int_naf IS NULL AS rand,
       (mtcbind.gba_naf_keys(v.ks, v.rand, NULL, v.naf_id)).ks_int_naf IS NULL AS impi,
       (mtcbind.gba_naf_keys(v.ks, v.rand, v.impi, NULL)).ks_int_naf IS NULL AS naf_id
FROM kdf_regress.v v;
SELECT mtcbind.naf_id(NULL, '\x0100000002') IS NULL AS fqdn,
       mtcbind.naf_id('naf.example.org', NULL) IS NULL AS ua_protocol,
       mtcbind.b_tid(NULL, 'bsf.example') IS NULL AS rand,
       mtcbind.b_tid(v.rand, NULL) IS NULL AS bsf_domain
FROM kdf_regress.v v;
SELECT mtcbind.ks_local(NULL, v.b_tid, v.iccid::mtcbind.iccid, 't', '', '', v.rand_x, v.rand_y) IS NULL AS a1,
       mtcbind.ks_local(v.ks_int_naf, NULL, v.iccid::mtcbind.iccid, 't', '', '', v.rand_x, v.rand_y) IS NULL AS a2,
       mtcbind.ks_local(v.ks_int_naf, v.b_tid, NULL, 't', '', '', v.rand_x, v.rand_y) IS NULL AS a3,
       mtcbind.ks_local(v.ks_int_naf, v.b_tid, v.iccid::mtcbind.iccid, NULL, '', '', v.rand_x, v.rand_y) IS NULL AS a4,
       mtcbind.ks_local(v.ks_int_naf, v.b_tid, v.iccid::mtcbind.iccid, 't', NULL, '', v.rand_x, v.rand_y) IS NULL AS a5,
       mtcbind.ks_local(v.ks_int_naf, v.b_tid, v.iccid::mtcbind.iccid, 't', '', NULL, v.rand_x, v.rand_y) IS NULL AS a6,
       mtcbind.ks_local(v.ks_int_naf, v.b_tid, v.iccid::mtcbind.iccid, 't', '', '', NULL, v.rand_y) IS NULL AS a7,
       mtcbind.ks_local(v.ks_int_naf, v.b_tid, v.iccid::mtcbind.iccid, 't', '', '', v.rand_x, NULL) IS NULL AS a8
FROM kdf_regress.v v;

--
-- 6. Declared properties: IMMUTABLE, STRICT, PARALLEL SAFE, LANGUAGE C
--
SELECT p.oid::regprocedure AS function, p.provolatile, p.proisstrict, p.proparallel,
       l.lanname
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
WHERE p.pronamespace = 'mtcbind'::regnamespace
  AND p.proname IN ('kdf', 'gba_naf_keys', 'naf_id', 'b_tid', 'ks_local')
ORDER BY p.proname;

--
-- 7. Life of the shared HMAC context: it is freed at the end of every
--    transaction that used it, and made afresh by the next derivation
--

-- After a derivation in a transaction that then fails and rolls back.
BEGIN;
SELECT (mtcbind.gba_naf_keys(v.ks, v.rand, v.impi, v.naf_id)).ks_int_naf = v.ks_int_naf AS in_transaction
FROM kdf_regress.v v;
SELECT 1 / 0;
ROLLBACK;
SELECT (mtcbind.gba_naf_keys(v.ks, v.rand, v.impi, v.naf_id)).ks_int_naf = v.ks_int_naf AS after_rollback
FROM kdf_regress.v v;

-- PARALLEL SAFE in practice: parallel workers derive the same keys as the
-- leader alone.
CREATE TABLE kdf_regress.terminals AS
	SELECT g AS n, 'imei-' || g AS terminal_id FROM generate_series(1, 2000) g;
ANALYZE kdf_regress.terminals;
CREATE TABLE kdf_regress.serial_keys AS
	SELECT t.n, mtcbind.ks_local(v.ks_int_naf, v.b_tid, v.iccid::mtcbind.iccid, t.terminal_id,
	                             '', '', v.rand_x, v.rand_y) AS k
	FROM kdf_regress.terminals t, kdf_regress.v v;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET force_parallel_mode = on;
SELECT count(*) AS rows, count(*) FILTER (WHERE p.k = s.k) AS same_keys
FROM (SELECT t.n, mtcbind.ks_local(v.ks_int_naf, v.b_tid, v.iccid::mtcbind.iccid, t.terminal_id,
                                   '', '', v.rand_x, v.rand_y) AS k
      FROM kdf_regress.terminals t, kdf_regress.v v) p
JOIN kdf_regress.serial_keys s USING (n);
RESET force_parallel_mode;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;

-- Clean up, quietly.
SET client_min_messages = warning;
DROP SCHEMA kdf_regress CASCADE;
RESET client_min_messages;
