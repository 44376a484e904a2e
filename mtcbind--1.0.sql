/* mtcbind--1.0.sql: install script of mtcbind 1.0 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION mtcbind" to load this file. \quit

-- parts/10_types.sql: the identifier types imei, imeisv, iccid, imsi.
--
-- Each is an int8 passed by value whose encoding keeps the order of the
-- canonical digits (src/identifiers.c, docs/types.md), so, as contrib/isn
-- does, the operators and the btree and hash support map straight onto the
-- built-in int8 functions: no comparison code of our own.  Input and output,
-- binary send/receive and the helpers are C.
--
-- The operators live in schema mtcbind, so an expression such as
-- imei = '...' needs mtcbind in search_path, or OPERATOR(mtcbind.=) (as in
-- functions whose search_path is pg_catalog, pg_temp).  Indexes, UNIQUE,
-- ORDER BY, DISTINCT and joins written with USING find the operator classes
-- without it.

-- ==================== imei ====================

CREATE TYPE mtcbind.imei;

CREATE FUNCTION mtcbind.imei_in(cstring) RETURNS mtcbind.imei
	AS 'MODULE_PATHNAME', 'imei_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.imei_out(mtcbind.imei) RETURNS cstring
	AS 'MODULE_PATHNAME', 'imei_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.imei_recv(internal) RETURNS mtcbind.imei
	AS 'MODULE_PATHNAME', 'imei_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.imei_send(mtcbind.imei) RETURNS bytea
	AS 'MODULE_PATHNAME', 'identifier_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE mtcbind.imei (
	INPUT = mtcbind.imei_in,
	OUTPUT = mtcbind.imei_out,
	RECEIVE = mtcbind.imei_recv,
	SEND = mtcbind.imei_send,
	INTERNALLENGTH = 8,
	PASSEDBYVALUE,
	ALIGNMENT = double,
	STORAGE = plain
);
COMMENT ON TYPE mtcbind.imei IS 'IMEI: 15 digits, TAC + SNR + Luhn check digit (TS 23.003 6.2.1)';

-- Comparison: the int8 functions, valid because the encoding keeps order.
CREATE FUNCTION mtcbind.imei_eq(mtcbind.imei, mtcbind.imei) RETURNS boolean
	AS 'int8eq' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.imei_ne(mtcbind.imei, mtcbind.imei) RETURNS boolean
	AS 'int8ne' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.imei_lt(mtcbind.imei, mtcbind.imei) RETURNS boolean
	AS 'int8lt' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.imei_le(mtcbind.imei, mtcbind.imei) RETURNS boolean
	AS 'int8le' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.imei_gt(mtcbind.imei, mtcbind.imei) RETURNS boolean
	AS 'int8gt' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.imei_ge(mtcbind.imei, mtcbind.imei) RETURNS boolean
	AS 'int8ge' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.imei_cmp(mtcbind.imei, mtcbind.imei) RETURNS integer
	AS 'btint8cmp' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.imei_sortsupport(internal) RETURNS void
	AS 'btint8sortsupport' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.imei_hash(mtcbind.imei) RETURNS integer
	AS 'hashint8' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.imei_hash_extended(mtcbind.imei, bigint) RETURNS bigint
	AS 'hashint8extended' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR mtcbind.= (
	LEFTARG = mtcbind.imei, RIGHTARG = mtcbind.imei, FUNCTION = mtcbind.imei_eq,
	COMMUTATOR = OPERATOR(mtcbind.=), NEGATOR = OPERATOR(mtcbind.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel,
	HASHES, MERGES
);
CREATE OPERATOR mtcbind.<> (
	LEFTARG = mtcbind.imei, RIGHTARG = mtcbind.imei, FUNCTION = mtcbind.imei_ne,
	COMMUTATOR = OPERATOR(mtcbind.<>), NEGATOR = OPERATOR(mtcbind.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
CREATE OPERATOR mtcbind.< (
	LEFTARG = mtcbind.imei, RIGHTARG = mtcbind.imei, FUNCTION = mtcbind.imei_lt,
	COMMUTATOR = OPERATOR(mtcbind.>), NEGATOR = OPERATOR(mtcbind.>=),
	RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);
CREATE OPERATOR mtcbind.<= (
	LEFTARG = mtcbind.imei, RIGHTARG = mtcbind.imei, FUNCTION = mtcbind.imei_le,
	COMMUTATOR = OPERATOR(mtcbind.>=), NEGATOR = OPERATOR(mtcbind.>),
	RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);
CREATE OPERATOR mtcbind.> (
	LEFTARG = mtcbind.imei, RIGHTARG = mtcbind.imei, FUNCTION = mtcbind.imei_gt,
	COMMUTATOR = OPERATOR(mtcbind.<), NEGATOR = OPERATOR(mtcbind.<=),
	RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);
CREATE OPERATOR mtcbind.>= (
	LEFTARG = mtcbind.imei, RIGHTARG = mtcbind.imei, FUNCTION = mtcbind.imei_ge,
	COMMUTATOR = OPERATOR(mtcbind.<=), NEGATOR = OPERATOR(mtcbind.<),
	RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);

-- btequalimage: equal values are bitwise equal, so btree deduplication is safe.
CREATE OPERATOR CLASS mtcbind.imei_ops
	DEFAULT FOR TYPE mtcbind.imei USING btree AS
	OPERATOR 1 mtcbind.< ,
	OPERATOR 2 mtcbind.<= ,
	OPERATOR 3 mtcbind.= ,
	OPERATOR 4 mtcbind.>= ,
	OPERATOR 5 mtcbind.> ,
	FUNCTION 1 mtcbind.imei_cmp(mtcbind.imei, mtcbind.imei),
	FUNCTION 2 mtcbind.imei_sortsupport(internal),
	FUNCTION 4 pg_catalog.btequalimage(oid);

CREATE OPERATOR CLASS mtcbind.imei_ops
	DEFAULT FOR TYPE mtcbind.imei USING hash AS
	OPERATOR 1 mtcbind.= ,
	FUNCTION 1 mtcbind.imei_hash(mtcbind.imei),
	FUNCTION 2 mtcbind.imei_hash_extended(mtcbind.imei, bigint);

-- min() and max(), so the planner can also answer them from a btree index.
CREATE FUNCTION mtcbind.imei_smaller(mtcbind.imei, mtcbind.imei) RETURNS mtcbind.imei
	AS 'int8smaller' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.imei_larger(mtcbind.imei, mtcbind.imei) RETURNS mtcbind.imei
	AS 'int8larger' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE mtcbind.min(mtcbind.imei) (
	SFUNC = mtcbind.imei_smaller, STYPE = mtcbind.imei,
	COMBINEFUNC = mtcbind.imei_smaller, SORTOP = OPERATOR(mtcbind.<),
	PARALLEL = SAFE
);
CREATE AGGREGATE mtcbind.max(mtcbind.imei) (
	SFUNC = mtcbind.imei_larger, STYPE = mtcbind.imei,
	COMBINEFUNC = mtcbind.imei_larger, SORTOP = OPERATOR(mtcbind.>),
	PARALLEL = SAFE
);

-- Text in and out as a client writes it; checked by imei_in on the way in.
CREATE CAST (text AS mtcbind.imei) WITH INOUT AS ASSIGNMENT;
CREATE CAST (mtcbind.imei AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (varchar AS mtcbind.imei) WITH INOUT AS ASSIGNMENT;
CREATE CAST (mtcbind.imei AS varchar) WITH INOUT AS ASSIGNMENT;

-- ==================== imeisv ====================

CREATE TYPE mtcbind.imeisv;

CREATE FUNCTION mtcbind.imeisv_in(cstring) RETURNS mtcbind.imeisv
	AS 'MODULE_PATHNAME', 'imeisv_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.imeisv_out(mtcbind.imeisv) RETURNS cstring
	AS 'MODULE_PATHNAME', 'imeisv_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.imeisv_recv(internal) RETURNS mtcbind.imeisv
	AS 'MODULE_PATHNAME', 'imeisv_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.imeisv_send(mtcbind.imeisv) RETURNS bytea
	AS 'MODULE_PATHNAME', 'identifier_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE mtcbind.imeisv (
	INPUT = mtcbind.imeisv_in,
	OUTPUT = mtcbind.imeisv_out,
	RECEIVE = mtcbind.imeisv_recv,
	SEND = mtcbind.imeisv_send,
	INTERNALLENGTH = 8,
	PASSEDBYVALUE,
	ALIGNMENT = double,
	STORAGE = plain
);
COMMENT ON TYPE mtcbind.imeisv IS 'IMEISV: 16 digits, TAC + SNR + SVN (TS 23.003 6.2.2)';

-- Comparison: the int8 functions, valid because the encoding keeps order.
CREATE FUNCTION mtcbind.imeisv_eq(mtcbind.imeisv, mtcbind.imeisv) RETURNS boolean
	AS 'int8eq' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.imeisv_ne(mtcbind.imeisv, mtcbind.imeisv) RETURNS boolean
	AS 'int8ne' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.imeisv_lt(mtcbind.imeisv, mtcbind.imeisv) RETURNS boolean
	AS 'int8lt' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.imeisv_le(mtcbind.imeisv, mtcbind.imeisv) RETURNS boolean
	AS 'int8le' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.imeisv_gt(mtcbind.imeisv, mtcbind.imeisv) RETURNS boolean
	AS 'int8gt' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.imeisv_ge(mtcbind.imeisv, mtcbind.imeisv) RETURNS boolean
	AS 'int8ge' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.imeisv_cmp(mtcbind.imeisv, mtcbind.imeisv) RETURNS integer
	AS 'btint8cmp' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.imeisv_sortsupport(internal) RETURNS void
	AS 'btint8sortsupport' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.imeisv_hash(mtcbind.imeisv) RETURNS integer
	AS 'hashint8' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.imeisv_hash_extended(mtcbind.imeisv, bigint) RETURNS bigint
	AS 'hashint8extended' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR mtcbind.= (
	LEFTARG = mtcbind.imeisv, RIGHTARG = mtcbind.imeisv, FUNCTION = mtcbind.imeisv_eq,
	COMMUTATOR = OPERATOR(mtcbind.=), NEGATOR = OPERATOR(mtcbind.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel,
	HASHES, MERGES
);
CREATE OPERATOR mtcbind.<> (
	LEFTARG = mtcbind.imeisv, RIGHTARG = mtcbind.imeisv, FUNCTION = mtcbind.imeisv_ne,
	COMMUTATOR = OPERATOR(mtcbind.<>), NEGATOR = OPERATOR(mtcbind.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
CREATE OPERATOR mtcbind.< (
	LEFTARG = mtcbind.imeisv, RIGHTARG = mtcbind.imeisv, FUNCTION = mtcbind.imeisv_lt,
	COMMUTATOR = OPERATOR(mtcbind.>), NEGATOR = OPERATOR(mtcbind.>=),
	RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);
CREATE OPERATOR mtcbind.<= (
	LEFTARG = mtcbind.imeisv, RIGHTARG = mtcbind.imeisv, FUNCTION = mtcbind.imeisv_le,
	COMMUTATOR = OPERATOR(mtcbind.>=), NEGATOR = OPERATOR(mtcbind.>),
	RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);
CREATE OPERATOR mtcbind.> (
	LEFTARG = mtcbind.imeisv, RIGHTARG = mtcbind.imeisv, FUNCTION = mtcbind.imeisv_gt,
	COMMUTATOR = OPERATOR(mtcbind.<), NEGATOR = OPERATOR(mtcbind.<=),
	RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);
CREATE OPERATOR mtcbind.>= (
	LEFTARG = mtcbind.imeisv, RIGHTARG = mtcbind.imeisv, FUNCTION = mtcbind.imeisv_ge,
	COMMUTATOR = OPERATOR(mtcbind.<=), NEGATOR = OPERATOR(mtcbind.<),
	RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);

-- btequalimage: equal values are bitwise equal, so btree deduplication is safe.
CREATE OPERATOR CLASS mtcbind.imeisv_ops
	DEFAULT FOR TYPE mtcbind.imeisv USING btree AS
	OPERATOR 1 mtcbind.< ,
	OPERATOR 2 mtcbind.<= ,
	OPERATOR 3 mtcbind.= ,
	OPERATOR 4 mtcbind.>= ,
	OPERATOR 5 mtcbind.> ,
	FUNCTION 1 mtcbind.imeisv_cmp(mtcbind.imeisv, mtcbind.imeisv),
	FUNCTION 2 mtcbind.imeisv_sortsupport(internal),
	FUNCTION 4 pg_catalog.btequalimage(oid);

CREATE OPERATOR CLASS mtcbind.imeisv_ops
	DEFAULT FOR TYPE mtcbind.imeisv USING hash AS
	OPERATOR 1 mtcbind.= ,
	FUNCTION 1 mtcbind.imeisv_hash(mtcbind.imeisv),
	FUNCTION 2 mtcbind.imeisv_hash_extended(mtcbind.imeisv, bigint);

-- min() and max(), so the planner can also answer them from a btree index.
CREATE FUNCTION mtcbind.imeisv_smaller(mtcbind.imeisv, mtcbind.imeisv) RETURNS mtcbind.imeisv
	AS 'int8smaller' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.imeisv_larger(mtcbind.imeisv, mtcbind.imeisv) RETURNS mtcbind.imeisv
	AS 'int8larger' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE mtcbind.min(mtcbind.imeisv) (
	SFUNC = mtcbind.imeisv_smaller, STYPE = mtcbind.imeisv,
	COMBINEFUNC = mtcbind.imeisv_smaller, SORTOP = OPERATOR(mtcbind.<),
	PARALLEL = SAFE
);
CREATE AGGREGATE mtcbind.max(mtcbind.imeisv) (
	SFUNC = mtcbind.imeisv_larger, STYPE = mtcbind.imeisv,
	COMBINEFUNC = mtcbind.imeisv_larger, SORTOP = OPERATOR(mtcbind.>),
	PARALLEL = SAFE
);

-- Text in and out as a client writes it; checked by imeisv_in on the way in.
CREATE CAST (text AS mtcbind.imeisv) WITH INOUT AS ASSIGNMENT;
CREATE CAST (mtcbind.imeisv AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (varchar AS mtcbind.imeisv) WITH INOUT AS ASSIGNMENT;
CREATE CAST (mtcbind.imeisv AS varchar) WITH INOUT AS ASSIGNMENT;

-- ==================== iccid ====================

CREATE TYPE mtcbind.iccid;

CREATE FUNCTION mtcbind.iccid_in(cstring) RETURNS mtcbind.iccid
	AS 'MODULE_PATHNAME', 'iccid_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.iccid_out(mtcbind.iccid) RETURNS cstring
	AS 'MODULE_PATHNAME', 'iccid_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.iccid_recv(internal) RETURNS mtcbind.iccid
	AS 'MODULE_PATHNAME', 'iccid_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.iccid_send(mtcbind.iccid) RETURNS bytea
	AS 'MODULE_PATHNAME', 'identifier_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE mtcbind.iccid (
	INPUT = mtcbind.iccid_in,
	OUTPUT = mtcbind.iccid_out,
	RECEIVE = mtcbind.iccid_recv,
	SEND = mtcbind.iccid_send,
	INTERNALLENGTH = 8,
	PASSEDBYVALUE,
	ALIGNMENT = double,
	STORAGE = plain
);
COMMENT ON TYPE mtcbind.iccid IS 'ICCID: 18 to 20 digits, "89" + issuer + account + Luhn check digit (ITU-T E.118)';

-- Comparison: the int8 functions, valid because the encoding keeps order.
CREATE FUNCTION mtcbind.iccid_eq(mtcbind.iccid, mtcbind.iccid) RETURNS boolean
	AS 'int8eq' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.iccid_ne(mtcbind.iccid, mtcbind.iccid) RETURNS boolean
	AS 'int8ne' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.iccid_lt(mtcbind.iccid, mtcbind.iccid) RETURNS boolean
	AS 'int8lt' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.iccid_le(mtcbind.iccid, mtcbind.iccid) RETURNS boolean
	AS 'int8le' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.iccid_gt(mtcbind.iccid, mtcbind.iccid) RETURNS boolean
	AS 'int8gt' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.iccid_ge(mtcbind.iccid, mtcbind.iccid) RETURNS boolean
	AS 'int8ge' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.iccid_cmp(mtcbind.iccid, mtcbind.iccid) RETURNS integer
	AS 'btint8cmp' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.iccid_sortsupport(internal) RETURNS void
	AS 'btint8sortsupport' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.iccid_hash(mtcbind.iccid) RETURNS integer
	AS 'hashint8' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.iccid_hash_extended(mtcbind.iccid, bigint) RETURNS bigint
	AS 'hashint8extended' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR mtcbind.= (
	LEFTARG = mtcbind.iccid, RIGHTARG = mtcbind.iccid, FUNCTION = mtcbind.iccid_eq,
	COMMUTATOR = OPERATOR(mtcbind.=), NEGATOR = OPERATOR(mtcbind.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel,
	HASHES, MERGES
);
CREATE OPERATOR mtcbind.<> (
	LEFTARG = mtcbind.iccid, RIGHTARG = mtcbind.iccid, FUNCTION = mtcbind.iccid_ne,
	COMMUTATOR = OPERATOR(mtcbind.<>), NEGATOR = OPERATOR(mtcbind.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
CREATE OPERATOR mtcbind.< (
	LEFTARG = mtcbind.iccid, RIGHTARG = mtcbind.iccid, FUNCTION = mtcbind.iccid_lt,
	COMMUTATOR = OPERATOR(mtcbind.>), NEGATOR = OPERATOR(mtcbind.>=),
	RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);
CREATE OPERATOR mtcbind.<= (
	LEFTARG = mtcbind.iccid, RIGHTARG = mtcbind.iccid, FUNCTION = mtcbind.iccid_le,
	COMMUTATOR = OPERATOR(mtcbind.>=), NEGATOR = OPERATOR(mtcbind.>),
	RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);
CREATE OPERATOR mtcbind.> (
	LEFTARG = mtcbind.iccid, RIGHTARG = mtcbind.iccid, FUNCTION = mtcbind.iccid_gt,
	COMMUTATOR = OPERATOR(mtcbind.<), NEGATOR = OPERATOR(mtcbind.<=),
	RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);
CREATE OPERATOR mtcbind.>= (
	LEFTARG = mtcbind.iccid, RIGHTARG = mtcbind.iccid, FUNCTION = mtcbind.iccid_ge,
	COMMUTATOR = OPERATOR(mtcbind.<=), NEGATOR = OPERATOR(mtcbind.<),
	RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);

-- btequalimage: equal values are bitwise equal, so btree deduplication is safe.
CREATE OPERATOR CLASS mtcbind.iccid_ops
	DEFAULT FOR TYPE mtcbind.iccid USING btree AS
	OPERATOR 1 mtcbind.< ,
	OPERATOR 2 mtcbind.<= ,
	OPERATOR 3 mtcbind.= ,
	OPERATOR 4 mtcbind.>= ,
	OPERATOR 5 mtcbind.> ,
	FUNCTION 1 mtcbind.iccid_cmp(mtcbind.iccid, mtcbind.iccid),
	FUNCTION 2 mtcbind.iccid_sortsupport(internal),
	FUNCTION 4 pg_catalog.btequalimage(oid);

CREATE OPERATOR CLASS mtcbind.iccid_ops
	DEFAULT FOR TYPE mtcbind.iccid USING hash AS
	OPERATOR 1 mtcbind.= ,
	FUNCTION 1 mtcbind.iccid_hash(mtcbind.iccid),
	FUNCTION 2 mtcbind.iccid_hash_extended(mtcbind.iccid, bigint);

-- min() and max(), so the planner can also answer them from a btree index.
CREATE FUNCTION mtcbind.iccid_smaller(mtcbind.iccid, mtcbind.iccid) RETURNS mtcbind.iccid
	AS 'int8smaller' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.iccid_larger(mtcbind.iccid, mtcbind.iccid) RETURNS mtcbind.iccid
	AS 'int8larger' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE mtcbind.min(mtcbind.iccid) (
	SFUNC = mtcbind.iccid_smaller, STYPE = mtcbind.iccid,
	COMBINEFUNC = mtcbind.iccid_smaller, SORTOP = OPERATOR(mtcbind.<),
	PARALLEL = SAFE
);
CREATE AGGREGATE mtcbind.max(mtcbind.iccid) (
	SFUNC = mtcbind.iccid_larger, STYPE = mtcbind.iccid,
	COMBINEFUNC = mtcbind.iccid_larger, SORTOP = OPERATOR(mtcbind.>),
	PARALLEL = SAFE
);

-- Text in and out as a client writes it; checked by iccid_in on the way in.
CREATE CAST (text AS mtcbind.iccid) WITH INOUT AS ASSIGNMENT;
CREATE CAST (mtcbind.iccid AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (varchar AS mtcbind.iccid) WITH INOUT AS ASSIGNMENT;
CREATE CAST (mtcbind.iccid AS varchar) WITH INOUT AS ASSIGNMENT;

-- ==================== imsi ====================

CREATE TYPE mtcbind.imsi;

CREATE FUNCTION mtcbind.imsi_in(cstring) RETURNS mtcbind.imsi
	AS 'MODULE_PATHNAME', 'imsi_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.imsi_out(mtcbind.imsi) RETURNS cstring
	AS 'MODULE_PATHNAME', 'imsi_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.imsi_recv(internal) RETURNS mtcbind.imsi
	AS 'MODULE_PATHNAME', 'imsi_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.imsi_send(mtcbind.imsi) RETURNS bytea
	AS 'MODULE_PATHNAME', 'identifier_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE mtcbind.imsi (
	INPUT = mtcbind.imsi_in,
	OUTPUT = mtcbind.imsi_out,
	RECEIVE = mtcbind.imsi_recv,
	SEND = mtcbind.imsi_send,
	INTERNALLENGTH = 8,
	PASSEDBYVALUE,
	ALIGNMENT = double,
	STORAGE = plain
);
COMMENT ON TYPE mtcbind.imsi IS 'IMSI: 6 to 15 digits, MCC + MNC + MSIN (TS 23.003 2.2)';

-- Comparison: the int8 functions, valid because the encoding keeps order.
CREATE FUNCTION mtcbind.imsi_eq(mtcbind.imsi, mtcbind.imsi) RETURNS boolean
	AS 'int8eq' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.imsi_ne(mtcbind.imsi, mtcbind.imsi) RETURNS boolean
	AS 'int8ne' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.imsi_lt(mtcbind.imsi, mtcbind.imsi) RETURNS boolean
	AS 'int8lt' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.imsi_le(mtcbind.imsi, mtcbind.imsi) RETURNS boolean
	AS 'int8le' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.imsi_gt(mtcbind.imsi, mtcbind.imsi) RETURNS boolean
	AS 'int8gt' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.imsi_ge(mtcbind.imsi, mtcbind.imsi) RETURNS boolean
	AS 'int8ge' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.imsi_cmp(mtcbind.imsi, mtcbind.imsi) RETURNS integer
	AS 'btint8cmp' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION mtcbind.imsi_sortsupport(internal) RETURNS void
	AS 'btint8sortsupport' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.imsi_hash(mtcbind.imsi) RETURNS integer
	AS 'hashint8' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.imsi_hash_extended(mtcbind.imsi, bigint) RETURNS bigint
	AS 'hashint8extended' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR mtcbind.= (
	LEFTARG = mtcbind.imsi, RIGHTARG = mtcbind.imsi, FUNCTION = mtcbind.imsi_eq,
	COMMUTATOR = OPERATOR(mtcbind.=), NEGATOR = OPERATOR(mtcbind.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel,
	HASHES, MERGES
);
CREATE OPERATOR mtcbind.<> (
	LEFTARG = mtcbind.imsi, RIGHTARG = mtcbind.imsi, FUNCTION = mtcbind.imsi_ne,
	COMMUTATOR = OPERATOR(mtcbind.<>), NEGATOR = OPERATOR(mtcbind.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
CREATE OPERATOR mtcbind.< (
	LEFTARG = mtcbind.imsi, RIGHTARG = mtcbind.imsi, FUNCTION = mtcbind.imsi_lt,
	COMMUTATOR = OPERATOR(mtcbind.>), NEGATOR = OPERATOR(mtcbind.>=),
	RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);
CREATE OPERATOR mtcbind.<= (
	LEFTARG = mtcbind.imsi, RIGHTARG = mtcbind.imsi, FUNCTION = mtcbind.imsi_le,
	COMMUTATOR = OPERATOR(mtcbind.>=), NEGATOR = OPERATOR(mtcbind.>),
	RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);
CREATE OPERATOR mtcbind.> (
	LEFTARG = mtcbind.imsi, RIGHTARG = mtcbind.imsi, FUNCTION = mtcbind.imsi_gt,
	COMMUTATOR = OPERATOR(mtcbind.<), NEGATOR = OPERATOR(mtcbind.<=),
	RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);
CREATE OPERATOR mtcbind.>= (
	LEFTARG = mtcbind.imsi, RIGHTARG = mtcbind.imsi, FUNCTION = mtcbind.imsi_ge,
	COMMUTATOR = OPERATOR(mtcbind.<=), NEGATOR = OPERATOR(mtcbind.<),
	RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);

-- btequalimage: equal values are bitwise equal, so btree deduplication is safe.
CREATE OPERATOR CLASS mtcbind.imsi_ops
	DEFAULT FOR TYPE mtcbind.imsi USING btree AS
	OPERATOR 1 mtcbind.< ,
	OPERATOR 2 mtcbind.<= ,
	OPERATOR 3 mtcbind.= ,
	OPERATOR 4 mtcbind.>= ,
	OPERATOR 5 mtcbind.> ,
	FUNCTION 1 mtcbind.imsi_cmp(mtcbind.imsi, mtcbind.imsi),
	FUNCTION 2 mtcbind.imsi_sortsupport(internal),
	FUNCTION 4 pg_catalog.btequalimage(oid);

CREATE OPERATOR CLASS mtcbind.imsi_ops
	DEFAULT FOR TYPE mtcbind.imsi USING hash AS
	OPERATOR 1 mtcbind.= ,
	FUNCTION 1 mtcbind.imsi_hash(mtcbind.imsi),
	FUNCTION 2 mtcbind.imsi_hash_extended(mtcbind.imsi, bigint);

-- min() and max(), so the planner can also answer them from a btree index.
CREATE FUNCTION mtcbind.imsi_smaller(mtcbind.imsi, mtcbind.imsi) RETURNS mtcbind.imsi
	AS 'int8smaller' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.imsi_larger(mtcbind.imsi, mtcbind.imsi) RETURNS mtcbind.imsi
	AS 'int8larger' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE mtcbind.min(mtcbind.imsi) (
	SFUNC = mtcbind.imsi_smaller, STYPE = mtcbind.imsi,
	COMBINEFUNC = mtcbind.imsi_smaller, SORTOP = OPERATOR(mtcbind.<),
	PARALLEL = SAFE
);
CREATE AGGREGATE mtcbind.max(mtcbind.imsi) (
	SFUNC = mtcbind.imsi_larger, STYPE = mtcbind.imsi,
	COMBINEFUNC = mtcbind.imsi_larger, SORTOP = OPERATOR(mtcbind.>),
	PARALLEL = SAFE
);

-- Text in and out as a client writes it; checked by imsi_in on the way in.
CREATE CAST (text AS mtcbind.imsi) WITH INOUT AS ASSIGNMENT;
CREATE CAST (mtcbind.imsi AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (varchar AS mtcbind.imsi) WITH INOUT AS ASSIGNMENT;
CREATE CAST (mtcbind.imsi AS varchar) WITH INOUT AS ASSIGNMENT;

-- ==================== helpers ====================

CREATE FUNCTION mtcbind.imei(mtcbind.imeisv) RETURNS mtcbind.imei
	AS 'MODULE_PATHNAME', 'imeisv_imei'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mtcbind.imei(mtcbind.imeisv) IS
	'IMEI of the device an IMEISV names: TAC + SNR + computed check digit';

CREATE FUNCTION mtcbind.tac(mtcbind.imei) RETURNS text
	AS 'MODULE_PATHNAME', 'imei_tac'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mtcbind.tac(mtcbind.imei) IS
	'Type Allocation Code: the first 8 digits';

CREATE FUNCTION mtcbind.svn(mtcbind.imeisv) RETURNS text
	AS 'MODULE_PATHNAME', 'imeisv_svn'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mtcbind.svn(mtcbind.imeisv) IS
	'Software Version Number: the last 2 digits';

CREATE FUNCTION mtcbind.mcc(mtcbind.imsi) RETURNS text
	AS 'MODULE_PATHNAME', 'imsi_mcc'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mtcbind.mcc(mtcbind.imsi) IS
	'Mobile Country Code: the first 3 digits';

-- Key derivation (src/kdf.c; byte layouts, errors and figures in docs/kdf.md).
-- All pure functions of their arguments: IMMUTABLE, STRICT, PARALLEL SAFE.

CREATE FUNCTION mtcbind.kdf(key bytea, fc integer, VARIADIC params bytea[])
RETURNS bytea
AS 'MODULE_PATHNAME', 'kdf'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION mtcbind.kdf(bytea, integer, bytea[]) IS
'TS 33.220 Annex B.1 KDF: HMAC-SHA-256(key, FC || P0 || L0 || ... || Pn || Ln); key 32 octets, fc 0..255, each parameter at most 65535 octets';

CREATE FUNCTION mtcbind.gba_naf_keys(ks bytea, rand bytea, impi text, naf_id bytea,
                                     OUT ks_ext_naf bytea, OUT ks_int_naf bytea)
AS 'MODULE_PATHNAME', 'gba_naf_keys'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION mtcbind.gba_naf_keys(bytea, bytea, text, bytea) IS
'TS 33.220 Annex B.3: Ks_ext_NAF = KDF(Ks, 0x01, "gba-me", RAND, IMPI, NAF_Id) and Ks_int_NAF = KDF(Ks, 0x01, "gba-u", RAND, IMPI, NAF_Id)';

CREATE FUNCTION mtcbind.naf_id(fqdn text, ua_protocol bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'naf_id'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION mtcbind.naf_id(text, bytea) IS
'NAF_Id = FQDN of the NAF (UTF-8) || 5-octet Ua security protocol identifier (TS 33.220 Annex H)';

CREATE FUNCTION mtcbind.b_tid(rand bytea, bsf_domain text)
RETURNS text
AS 'MODULE_PATHNAME', 'b_tid'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION mtcbind.b_tid(bytea, text) IS
'B-TID = base64(RAND) || ''@'' || BSF server domain name (TS 33.220)';

CREATE FUNCTION mtcbind.ks_local(ks_int_naf bytea, b_tid text, iccid mtcbind.iccid,
                                 terminal_id text, terminal_appli_id text,
                                 uicc_appli_id text, rand_x bytea, rand_y bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ks_local'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION mtcbind.ks_local(bytea, text, mtcbind.iccid, text, text, text, bytea, bytea) IS
'Ks_local (TS 33.110) = KDF(Ks_int_NAF, 0x01, B-TID, ICCID, Terminal_ID, Terminal_appli_ID, UICC_appli_ID, RANDx, RANDy); layout to be checked against TS 33.110 Annex A.2 / the UICC vendor''s vectors (docs/kdf.md)';

------------------------------------------------------------------------------
-- Roles
--
-- Created when absent.  Roles are global to the cluster: DROP EXTENSION
-- leaves them in place (docs/security.md).
------------------------------------------------------------------------------
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'mtcbind_naf') THEN
        CREATE ROLE mtcbind_naf NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'mtcbind_admin') THEN
        CREATE ROLE mtcbind_admin NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'mtcbind_auditor') THEN
        CREATE ROLE mtcbind_auditor NOLOGIN;
    END IF;
END
$roles$;

-- The schema is usable by all (the identifier types and the pure key
-- functions are public); tables and writing functions are granted below.
GRANT USAGE ON SCHEMA mtcbind TO PUBLIC;

------------------------------------------------------------------------------
-- Tables
------------------------------------------------------------------------------

-- One row per live binding of a device (terminal_id) to a UICC (iccid).
-- The UNIQUE constraints are the invariant: a device, a UICC, an IMEI and
-- an IMSI each belong to at most one binding, whoever writes the row.
CREATE SEQUENCE mtcbind.binding_binding_id_seq;

CREATE TABLE mtcbind.binding (
    binding_id        bigint NOT NULL DEFAULT pg_catalog.nextval('mtcbind.binding_binding_id_seq'::pg_catalog.regclass),
    terminal_id       text NOT NULL,
    iccid             mtcbind.iccid NOT NULL,
    imei              mtcbind.imei,
    imeisv            mtcbind.imeisv,
    imsi              mtcbind.imsi,
    terminal_appli_id text NOT NULL DEFAULT '',
    uicc_appli_id     text NOT NULL DEFAULT '',
    note              text,
    created_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by        name NOT NULL DEFAULT SESSION_USER,
    updated_at        timestamptz,
    last_key_at       timestamptz,
    key_count         bigint NOT NULL DEFAULT 0,
    CONSTRAINT binding_pkey PRIMARY KEY (binding_id),
    CONSTRAINT binding_terminal_id_key UNIQUE (terminal_id),
    CONSTRAINT binding_iccid_key UNIQUE (iccid),
    CONSTRAINT binding_imei_key UNIQUE (imei),
    CONSTRAINT binding_imsi_key UNIQUE (imsi),
    CONSTRAINT binding_terminal_id_check
        CHECK (pg_catalog.octet_length(terminal_id) OPERATOR(pg_catalog.>=) 1
               AND pg_catalog.octet_length(terminal_id) OPERATOR(pg_catalog.<=) 255),
    CONSTRAINT binding_appli_id_check
        CHECK (pg_catalog.octet_length(terminal_appli_id) OPERATOR(pg_catalog.<=) 255
               AND pg_catalog.octet_length(uicc_appli_id) OPERATOR(pg_catalog.<=) 255),
    CONSTRAINT binding_key_count_check CHECK (key_count OPERATOR(pg_catalog.>=) 0)
);
ALTER SEQUENCE mtcbind.binding_binding_id_seq OWNED BY mtcbind.binding.binding_id;

COMMENT ON TABLE mtcbind.binding IS
    'One row per live device/UICC binding; UNIQUE terminal_id, iccid, imei, imsi carry the one-to-one invariant';

-- The audit trail: every change to mtcbind.binding, every refusal, every
-- issued key (never the key).  Append-only.
CREATE SEQUENCE mtcbind.binding_event_event_id_seq;

CREATE TABLE mtcbind.binding_event (
    event_id     bigint NOT NULL DEFAULT pg_catalog.nextval('mtcbind.binding_event_event_id_seq'::pg_catalog.regclass),
    occurred_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    event        text NOT NULL,
    binding_id   bigint,
    terminal_id  text,
    iccid        mtcbind.iccid,
    reason       text,
    actor        name NOT NULL DEFAULT SESSION_USER,
    old_values   jsonb,
    new_values   jsonb,
    detail       jsonb,
    CONSTRAINT binding_event_pkey PRIMARY KEY (event_id),
    CONSTRAINT binding_event_event_check CHECK (event OPERATOR(pg_catalog.=) ANY (ARRAY[
        'bound', 'unbound', 'rebound', 'attribute_changed', 'updated', 'truncated',
        'key_issued', 'rejected', 'transfer_authorized', 'transfer_revoked']::text[]))
);
ALTER SEQUENCE mtcbind.binding_event_event_id_seq OWNED BY mtcbind.binding_event.event_id;

CREATE INDEX binding_event_binding_id_idx ON mtcbind.binding_event (binding_id);
CREATE INDEX binding_event_iccid_idx ON mtcbind.binding_event (iccid);
CREATE INDEX binding_event_occurred_at_idx ON mtcbind.binding_event USING brin (occurred_at);

COMMENT ON TABLE mtcbind.binding_event IS
    'Append-only audit log of bindings: changes (by any means), refusals and key issues; never key material';

-- Pending "update according to user requirement": the next request_key
-- for this UICC from the named device (or any unbound device) within the
-- window moves the binding.  Used once.
CREATE SEQUENCE mtcbind.transfer_authorization_id_seq;

CREATE TABLE mtcbind.transfer_authorization (
    authorization_id bigint NOT NULL DEFAULT pg_catalog.nextval('mtcbind.transfer_authorization_id_seq'::pg_catalog.regclass),
    binding_id       bigint NOT NULL,
    iccid            mtcbind.iccid NOT NULL,
    new_terminal_id  text,
    valid_until      timestamptz NOT NULL,
    reason           text,
    created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by       name NOT NULL DEFAULT SESSION_USER,
    used_at          timestamptz,
    used_by_terminal text,
    revoked_at       timestamptz,
    CONSTRAINT transfer_authorization_pkey PRIMARY KEY (authorization_id),
    CONSTRAINT transfer_authorization_new_terminal_id_check
        CHECK (new_terminal_id IS NULL
               OR (pg_catalog.octet_length(new_terminal_id) OPERATOR(pg_catalog.>=) 1
                   AND pg_catalog.octet_length(new_terminal_id) OPERATOR(pg_catalog.<=) 255))
);
ALTER SEQUENCE mtcbind.transfer_authorization_id_seq OWNED BY mtcbind.transfer_authorization.authorization_id;

-- At most one open authorization per UICC.
CREATE UNIQUE INDEX transfer_authorization_open_key ON mtcbind.transfer_authorization (iccid)
    WHERE used_at IS NULL AND revoked_at IS NULL;

-- pg_dump keeps the data of these tables (extension tables are otherwise
-- dumped empty) and the positions of their sequences.
SELECT pg_catalog.pg_extension_config_dump('mtcbind.binding', '');
SELECT pg_catalog.pg_extension_config_dump('mtcbind.binding_binding_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('mtcbind.binding_event', '');
SELECT pg_catalog.pg_extension_config_dump('mtcbind.binding_event_event_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('mtcbind.transfer_authorization', '');
SELECT pg_catalog.pg_extension_config_dump('mtcbind.transfer_authorization_id_seq', '');

------------------------------------------------------------------------------
-- Audit triggers
------------------------------------------------------------------------------

-- Records one event per changed binding row, whoever changed it and how.
-- The reason comes from the setting mtcbind.reason, which the
-- administration functions set for the duration of their own change.
CREATE FUNCTION mtcbind.binding_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $audit$
DECLARE
    kind      text;
    why       text := nullif(pg_catalog.current_setting('mtcbind.reason', true), '');
    old_row   jsonb;
    new_row   jsonb;
BEGIN
    IF TG_OP OPERATOR(pg_catalog.=) 'TRUNCATE' THEN
        INSERT INTO mtcbind.binding_event (event, reason)
        VALUES ('truncated', why);
        RETURN NULL;
    END IF;
    IF TG_OP OPERATOR(pg_catalog.<>) 'INSERT' THEN
        old_row := pg_catalog.to_jsonb(OLD) OPERATOR(pg_catalog.-) ARRAY['last_key_at', 'key_count', 'updated_at'];
    END IF;
    IF TG_OP OPERATOR(pg_catalog.<>) 'DELETE' THEN
        new_row := pg_catalog.to_jsonb(NEW) OPERATOR(pg_catalog.-) ARRAY['last_key_at', 'key_count', 'updated_at'];
    END IF;

    IF TG_OP OPERATOR(pg_catalog.=) 'INSERT' THEN
        kind := 'bound';
    ELSIF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
        kind := 'unbound';
    ELSIF OLD.terminal_id IS DISTINCT FROM NEW.terminal_id
       OR OLD.iccid::text IS DISTINCT FROM NEW.iccid::text THEN
        kind := 'rebound';
    ELSIF OLD.imei::text IS DISTINCT FROM NEW.imei::text
       OR OLD.imeisv::text IS DISTINCT FROM NEW.imeisv::text
       OR OLD.imsi::text IS DISTINCT FROM NEW.imsi::text THEN
        kind := 'attribute_changed';
    ELSE
        kind := 'updated';
    END IF;

    INSERT INTO mtcbind.binding_event
        (event, binding_id, terminal_id, iccid, reason, old_values, new_values)
    VALUES
        (kind,
         CASE WHEN TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN OLD.binding_id ELSE NEW.binding_id END,
         CASE WHEN TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN OLD.terminal_id ELSE NEW.terminal_id END,
         CASE WHEN TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN OLD.iccid ELSE NEW.iccid END,
         why, old_row, new_row);
    RETURN NULL;
END
$audit$;

-- True when a binding_id lies beyond what the table's sequence has handed out.
CREATE FUNCTION mtcbind._beyond_sequence(binding_id bigint)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $beyond$
    SELECT binding_id OPERATOR(pg_catalog.>)
           CASE WHEN s.is_called THEN s.last_value ELSE 0 END
      FROM mtcbind.binding_binding_id_seq s
$beyond$;

-- A row inserted with its own binding_id beyond the sequence (a DBA's bulk
-- load with ids) moves the sequence past it, so later bindings cannot
-- collide with it.
CREATE FUNCTION mtcbind.binding_advance_sequence() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $advance$
BEGIN
    PERFORM pg_catalog.setval('mtcbind.binding_binding_id_seq'::pg_catalog.regclass, NEW.binding_id);
    RETURN NEW;
END
$advance$;

-- A restore (pg_dump output replayed by psql or pg_restore) is the one
-- insert that is not recorded: it runs with an empty search_path and puts
-- rows back with the ids they had, beyond the fresh sequence, while their
-- history comes back with the events.  The WHEN clauses see the session's
-- search_path (a trigger function would see its own pinned one).
CREATE TRIGGER binding_advance_sequence
    BEFORE INSERT ON mtcbind.binding
    FOR EACH ROW
    WHEN (pg_catalog.current_setting('search_path') OPERATOR(pg_catalog.<>) ''
          AND mtcbind._beyond_sequence(NEW.binding_id))
    EXECUTE FUNCTION mtcbind.binding_advance_sequence();

CREATE TRIGGER binding_audit_insert
    AFTER INSERT ON mtcbind.binding
    FOR EACH ROW
    WHEN (pg_catalog.current_setting('search_path') OPERATOR(pg_catalog.<>) ''
          OR NOT mtcbind._beyond_sequence(NEW.binding_id))
    EXECUTE FUNCTION mtcbind.binding_audit();

CREATE TRIGGER binding_audit_delete
    AFTER DELETE ON mtcbind.binding
    FOR EACH ROW EXECUTE FUNCTION mtcbind.binding_audit();

-- Key bookkeeping (last_key_at, key_count, updated_at) is not a change of
-- the binding: key issues have their own 'key_issued' events.
CREATE TRIGGER binding_audit_update
    AFTER UPDATE ON mtcbind.binding
    FOR EACH ROW
    WHEN (ROW(OLD.binding_id, OLD.terminal_id, OLD.iccid::text, OLD.imei::text, OLD.imeisv::text,
              OLD.imsi::text, OLD.terminal_appli_id, OLD.uicc_appli_id, OLD.note,
              OLD.created_at, OLD.created_by)
          IS DISTINCT FROM
          ROW(NEW.binding_id, NEW.terminal_id, NEW.iccid::text, NEW.imei::text, NEW.imeisv::text,
              NEW.imsi::text, NEW.terminal_appli_id, NEW.uicc_appli_id, NEW.note,
              NEW.created_at, NEW.created_by))
    EXECUTE FUNCTION mtcbind.binding_audit();

CREATE TRIGGER binding_audit_truncate
    AFTER TRUNCATE ON mtcbind.binding
    FOR EACH STATEMENT EXECUTE FUNCTION mtcbind.binding_audit();

-- The audit log is append-only, also for its owner's direct DML.
CREATE FUNCTION mtcbind.binding_event_append_only() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $append_only$
BEGIN
    RAISE EXCEPTION 'mtcbind.binding_event is append-only'
        USING ERRCODE = 'MB010',
              DETAIL = pg_catalog.format('%s is not allowed on the audit log.', TG_OP),
              HINT = 'Archive old events with pg_dump or a copy; see docs/dba-guide.md.';
END
$append_only$;

CREATE TRIGGER binding_event_append_only
    BEFORE UPDATE OR DELETE ON mtcbind.binding_event
    FOR EACH ROW EXECUTE FUNCTION mtcbind.binding_event_append_only();

CREATE TRIGGER binding_event_no_truncate
    BEFORE TRUNCATE ON mtcbind.binding_event
    FOR EACH STATEMENT EXECUTE FUNCTION mtcbind.binding_event_append_only();

------------------------------------------------------------------------------
-- The NAF request (C): decide bind / grant / reject, derive Ks_local
------------------------------------------------------------------------------
CREATE FUNCTION mtcbind.request_key(
    naf_id            bytea,
    b_tid             text,
    ks_int_naf        bytea,
    ks_int_naf_expiry timestamptz,
    terminal_id       text,
    iccid             mtcbind.iccid,
    imei              mtcbind.imei   DEFAULT NULL,
    imeisv            mtcbind.imeisv DEFAULT NULL,
    imsi              mtcbind.imsi   DEFAULT NULL,
    terminal_appli_id text           DEFAULT '',
    uicc_appli_id     text           DEFAULT '')
RETURNS TABLE (outcome text, reason text, binding_id bigint,
               ks_local bytea, rand_x bytea, rand_y bytea, expires_at timestamptz)
AS 'MODULE_PATHNAME', 'request_key'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
ROWS 1;

COMMENT ON FUNCTION mtcbind.request_key(bytea, text, bytea, timestamptz, text, mtcbind.iccid,
    mtcbind.imei, mtcbind.imeisv, mtcbind.imsi, text, text) IS
    'Ks_local establishment at the NAF Key Center: binds, grants or rejects; one row always';

------------------------------------------------------------------------------
-- Administration
------------------------------------------------------------------------------

-- Pre-provisions a binding.  Returns the id of the (new or existing) binding
-- of exactly this pair; MB001/MB002 when either side is bound elsewhere.
CREATE FUNCTION mtcbind.bind(
    terminal_id text,
    iccid       mtcbind.iccid,
    imei        mtcbind.imei   DEFAULT NULL,
    imeisv      mtcbind.imeisv DEFAULT NULL,
    imsi        mtcbind.imsi   DEFAULT NULL,
    note        text           DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $bind$
DECLARE
    device_imei mtcbind.imei := imei;
    new_id      bigint;
    held        mtcbind.binding;
    other       mtcbind.binding;
    unexplained integer := 0;
BEGIN
    PERFORM mtcbind._check_terminal_id(terminal_id, 'terminal_id');
    IF iccid IS NULL THEN
        RAISE EXCEPTION 'iccid must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF imeisv IS NOT NULL THEN
        IF device_imei IS NULL THEN
            device_imei := mtcbind.imei(imeisv);
        ELSIF mtcbind.imei(imeisv) OPERATOR(mtcbind.<>) device_imei THEN
            RAISE EXCEPTION 'imeisv does not belong to imei'
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = pg_catalog.format('IMEISV %s names the device with IMEI %s, not %s.',
                                                 imeisv, mtcbind.imei(imeisv), device_imei);
        END IF;
    END IF;
    PERFORM pg_catalog.set_config('mtcbind.reason',
                                  coalesce(note, 'pre-provisioned with mtcbind.bind'), true);

    -- Concurrent binds of the same pair settle here: one inserts, the other
    -- finds its row on the next pass.
    FOR attempt IN 1..5 LOOP
        SELECT * INTO held FROM mtcbind.binding b
         WHERE b.terminal_id OPERATOR(pg_catalog.=) bind.terminal_id
            OR b.iccid OPERATOR(mtcbind.=) bind.iccid
            OR b.imei OPERATOR(mtcbind.=) device_imei
            OR b.imsi OPERATOR(mtcbind.=) bind.imsi
         ORDER BY (b.iccid OPERATOR(mtcbind.=) bind.iccid) DESC
         LIMIT 1;
        IF FOUND THEN
            IF held.iccid OPERATOR(mtcbind.=) bind.iccid
               AND held.terminal_id OPERATOR(pg_catalog.=) bind.terminal_id THEN
                -- The pair itself: its recorded identities must agree.
                IF held.imei OPERATOR(mtcbind.<>) device_imei THEN
                    RAISE EXCEPTION 'device % is bound with another IMEI', bind.terminal_id
                        USING ERRCODE = 'MB001',
                              DETAIL = pg_catalog.format('Binding %s records IMEI %s for terminal_id %s, not %s.',
                                                         held.binding_id, held.imei, held.terminal_id, device_imei);
                END IF;
                IF held.imsi OPERATOR(mtcbind.<>) bind.imsi THEN
                    RAISE EXCEPTION 'UICC % is bound with another IMSI', bind.iccid
                        USING ERRCODE = 'MB002',
                              DETAIL = pg_catalog.format('Binding %s records IMSI %s for ICCID %s, not %s.',
                                                         held.binding_id, held.imsi, held.iccid, bind.imsi);
                END IF;
                -- Identities given now and not recorded yet are added.
                IF (device_imei IS NOT NULL AND held.imei IS NULL)
                   OR (bind.imsi IS NOT NULL AND held.imsi IS NULL)
                   OR (bind.imeisv IS NOT NULL
                       AND (held.imeisv IS NULL OR held.imeisv OPERATOR(mtcbind.<>) bind.imeisv)) THEN
                    BEGIN
                        UPDATE mtcbind.binding b
                           SET imei = coalesce(b.imei, device_imei),
                               imsi = coalesce(b.imsi, bind.imsi),
                               imeisv = coalesce(bind.imeisv, b.imeisv),
                               updated_at = pg_catalog.now()
                         WHERE b.binding_id OPERATOR(pg_catalog.=) held.binding_id;
                    EXCEPTION WHEN unique_violation THEN
                        -- the IMEI or IMSI belongs to another binding: name it
                        SELECT * INTO other FROM mtcbind.binding b
                         WHERE b.binding_id OPERATOR(pg_catalog.<>) held.binding_id
                           AND (b.imei OPERATOR(mtcbind.=) device_imei
                                OR b.imsi OPERATOR(mtcbind.=) bind.imsi)
                         LIMIT 1;
                        IF FOUND THEN
                            PERFORM mtcbind._raise_conflict(other, bind.terminal_id, bind.iccid,
                                                            device_imei, bind.imsi);
                        END IF;
                        RAISE;
                    END;
                END IF;
                RETURN held.binding_id;
            END IF;
            PERFORM mtcbind._raise_conflict(held, bind.terminal_id, bind.iccid, device_imei, bind.imsi);
        END IF;

        INSERT INTO mtcbind.binding (terminal_id, iccid, imei, imeisv, imsi, note)
        VALUES (bind.terminal_id, bind.iccid, device_imei, bind.imeisv, bind.imsi, bind.note)
        ON CONFLICT DO NOTHING
        RETURNING binding.binding_id INTO new_id;
        IF new_id IS NOT NULL THEN
            RETURN new_id;
        END IF;
        -- Nothing held any identity, yet the insert conflicted: twice means
        -- the id sequence is behind the ids in the table, not a race.
        IF held IS NULL THEN
            unexplained := unexplained OPERATOR(pg_catalog.+) 1;
            IF unexplained OPERATOR(pg_catalog.>=) 2 THEN
                PERFORM mtcbind._raise_sequence_behind();
            END IF;
        END IF;
    END LOOP;
    RAISE EXCEPTION 'could not settle the binding of terminal_id % after concurrent changes', terminal_id
        USING ERRCODE = 'serialization_failure';
END
$bind$;

-- Removes the binding of a UICC.  True if there was one.
CREATE FUNCTION mtcbind.unbind(iccid mtcbind.iccid, reason text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $unbind$
DECLARE
    gone bigint;
BEGIN
    IF iccid IS NULL THEN
        RAISE EXCEPTION 'iccid must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM mtcbind._check_reason(reason);
    PERFORM pg_catalog.set_config('mtcbind.reason', reason, true);

    DELETE FROM mtcbind.binding b WHERE b.iccid OPERATOR(mtcbind.=) unbind.iccid
    RETURNING b.binding_id INTO gone;
    IF gone IS NULL THEN
        RETURN false;
    END IF;
    PERFORM mtcbind._revoke_transfers(unbind.iccid, 'binding removed: ' OPERATOR(pg_catalog.||) reason);
    RETURN true;
END
$unbind$;

-- Allows the next request_key for this UICC from new_terminal_id (or from
-- any unbound device when NULL) within valid_for to move the binding.
CREATE FUNCTION mtcbind.authorize_transfer(
    iccid           mtcbind.iccid,
    new_terminal_id text     DEFAULT NULL,
    valid_for       interval DEFAULT '1 day',
    reason          text     DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $authorize$
DECLARE
    held   mtcbind.binding;
    other  mtcbind.binding;
    new_id bigint;
BEGIN
    IF iccid IS NULL THEN
        RAISE EXCEPTION 'iccid must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF new_terminal_id IS NOT NULL THEN
        PERFORM mtcbind._check_terminal_id(new_terminal_id, 'new_terminal_id');
    END IF;
    IF valid_for IS NULL OR valid_for OPERATOR(pg_catalog.<=) interval '0' THEN
        RAISE EXCEPTION 'valid_for must be a positive interval'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- Locking the binding row serialises concurrent authorisations, unbinds
    -- and transfers of the same UICC.
    SELECT * INTO held FROM mtcbind.binding b
     WHERE b.iccid OPERATOR(mtcbind.=) authorize_transfer.iccid
     FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'UICC % is not bound', iccid
            USING ERRCODE = 'MB003',
                  HINT = 'An unbound UICC needs no transfer: its next request binds it.';
    END IF;
    IF new_terminal_id IS NOT NULL THEN
        IF held.terminal_id OPERATOR(pg_catalog.=) new_terminal_id THEN
            RAISE EXCEPTION 'UICC % is already bound to terminal_id %', iccid, new_terminal_id
                USING ERRCODE = 'MB004';
        END IF;
        SELECT * INTO other FROM mtcbind.binding b
         WHERE b.terminal_id OPERATOR(pg_catalog.=) new_terminal_id;
        IF FOUND THEN
            RAISE EXCEPTION 'device % is bound elsewhere', new_terminal_id
                USING ERRCODE = 'MB001',
                      DETAIL = pg_catalog.format('terminal_id %s is in binding %s with ICCID %s.',
                                                 other.terminal_id, other.binding_id, other.iccid);
        END IF;
    END IF;

    PERFORM mtcbind._revoke_transfers(authorize_transfer.iccid, 'superseded by a new authorisation');
    INSERT INTO mtcbind.transfer_authorization
        (binding_id, iccid, new_terminal_id, valid_until, reason)
    VALUES
        (held.binding_id, authorize_transfer.iccid, new_terminal_id,
         pg_catalog.now() OPERATOR(pg_catalog.+) valid_for, reason)
    RETURNING transfer_authorization.authorization_id INTO new_id;

    INSERT INTO mtcbind.binding_event (event, binding_id, terminal_id, iccid, reason, detail)
    VALUES ('transfer_authorized', held.binding_id, held.terminal_id, held.iccid, reason,
            pg_catalog.jsonb_build_object('authorization_id', new_id,
                                          'new_terminal_id', new_terminal_id,
                                          'valid_until', pg_catalog.now() OPERATOR(pg_catalog.+) valid_for));
    RETURN new_id;
END
$authorize$;

-- Moves the binding of a UICC to another device now (a damaged device
-- replaced).  The device's hardware identities are cleared; the new
-- device's are recorded at its first request.
CREATE FUNCTION mtcbind.rebind(iccid mtcbind.iccid, new_terminal_id text, reason text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $rebind$
DECLARE
    held  mtcbind.binding;
    other mtcbind.binding;
BEGIN
    IF iccid IS NULL THEN
        RAISE EXCEPTION 'iccid must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM mtcbind._check_terminal_id(new_terminal_id, 'new_terminal_id');
    PERFORM mtcbind._check_reason(reason);

    SELECT * INTO held FROM mtcbind.binding b
     WHERE b.iccid OPERATOR(mtcbind.=) rebind.iccid
     FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'UICC % is not bound', iccid
            USING ERRCODE = 'MB003',
                  HINT = 'Use mtcbind.bind to bind an unbound UICC.';
    END IF;
    IF held.terminal_id OPERATOR(pg_catalog.=) new_terminal_id THEN
        -- Kept where it is: a pending transfer elsewhere is void too.
        PERFORM mtcbind._revoke_transfers(rebind.iccid, 'binding kept by mtcbind.rebind: ' OPERATOR(pg_catalog.||) reason);
        RETURN held.binding_id;
    END IF;
    SELECT * INTO other FROM mtcbind.binding b
     WHERE b.terminal_id OPERATOR(pg_catalog.=) new_terminal_id;
    IF FOUND THEN
        RAISE EXCEPTION 'device % is bound elsewhere', new_terminal_id
            USING ERRCODE = 'MB001',
                  DETAIL = pg_catalog.format('terminal_id %s is in binding %s with ICCID %s.',
                                             other.terminal_id, other.binding_id, other.iccid);
    END IF;

    PERFORM pg_catalog.set_config('mtcbind.reason', reason, true);
    BEGIN
        UPDATE mtcbind.binding b
           SET terminal_id = new_terminal_id, imei = NULL, imeisv = NULL,
               terminal_appli_id = '', updated_at = pg_catalog.now()
         WHERE b.binding_id OPERATOR(pg_catalog.=) held.binding_id;
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION 'device % is bound elsewhere', new_terminal_id
            USING ERRCODE = 'MB001',
                  DETAIL = 'It was bound by a concurrent transaction.';
    END;
    PERFORM mtcbind._revoke_transfers(rebind.iccid, 'binding moved by mtcbind.rebind');
    RETURN held.binding_id;
END
$rebind$;

------------------------------------------------------------------------------
-- Internal helpers of the administration functions
------------------------------------------------------------------------------
CREATE FUNCTION mtcbind._check_terminal_id(value text, argument text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $check$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', argument USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF value OPERATOR(pg_catalog.=) '' THEN
        RAISE EXCEPTION '% must not be empty', argument USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF pg_catalog.octet_length(value) OPERATOR(pg_catalog.>) 255 THEN
        RAISE EXCEPTION '% is too long', argument
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('It has %s octets; at most 255 are allowed.',
                                             pg_catalog.octet_length(value));
    END IF;
END
$check$;

CREATE FUNCTION mtcbind._check_reason(reason text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $check$
BEGIN
    IF reason IS NULL OR pg_catalog.btrim(reason) OPERATOR(pg_catalog.=) '' THEN
        RAISE EXCEPTION 'reason must be given'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The reason is recorded in the audit log.';
    END IF;
END
$check$;

-- Raises MB001 or MB002 for a binding that holds one of the identities.
CREATE FUNCTION mtcbind._raise_conflict(held mtcbind.binding, terminal_id text, iccid mtcbind.iccid,
                                        imei mtcbind.imei, imsi mtcbind.imsi)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $conflict$
BEGIN
    IF held.terminal_id OPERATOR(pg_catalog.=) terminal_id
       OR held.imei OPERATOR(mtcbind.=) imei THEN
        RAISE EXCEPTION 'device % is bound elsewhere', terminal_id
            USING ERRCODE = 'MB001',
                  DETAIL = pg_catalog.format('Binding %s holds terminal_id %s (IMEI %s) with ICCID %s.',
                                             held.binding_id, held.terminal_id,
                                             coalesce(held.imei::text, 'not recorded'), held.iccid);
    END IF;
    RAISE EXCEPTION 'UICC % is bound elsewhere', iccid
        USING ERRCODE = 'MB002',
              DETAIL = pg_catalog.format('Binding %s holds ICCID %s (IMSI %s) with terminal_id %s.',
                                         held.binding_id, held.iccid,
                                         coalesce(held.imsi::text, 'not recorded'), held.terminal_id);
END
$conflict$;

-- Raised when inserts keep failing on binding_id alone: the sequence was
-- set back below ids already in the table.
CREATE FUNCTION mtcbind._raise_sequence_behind()
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $behind$
BEGIN
    RAISE EXCEPTION 'mtcbind.binding_binding_id_seq is behind the ids in mtcbind.binding'
        USING ERRCODE = 'MB005',
              DETAIL = 'New bindings draw ids that are already taken.',
              HINT = 'As the owner: SELECT pg_catalog.setval(''mtcbind.binding_binding_id_seq'', (SELECT max(binding_id) FROM mtcbind.binding));';
END
$behind$;

-- Revokes the open transfer authorisation of a UICC, if any.
CREATE FUNCTION mtcbind._revoke_transfers(iccid mtcbind.iccid, why text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $revoke$
DECLARE
    gone mtcbind.transfer_authorization;
BEGIN
    FOR gone IN
        UPDATE mtcbind.transfer_authorization t
           SET revoked_at = pg_catalog.now()
         WHERE t.iccid OPERATOR(mtcbind.=) _revoke_transfers.iccid
           AND t.used_at IS NULL AND t.revoked_at IS NULL
        RETURNING t.*
    LOOP
        INSERT INTO mtcbind.binding_event (event, binding_id, iccid, reason, detail)
        VALUES ('transfer_revoked', gone.binding_id, gone.iccid, why,
                pg_catalog.jsonb_build_object('authorization_id', gone.authorization_id));
    END LOOP;
END
$revoke$;

------------------------------------------------------------------------------
-- A view for people
------------------------------------------------------------------------------
CREATE VIEW mtcbind.bindings AS
SELECT b.binding_id,
       b.terminal_id,
       b.iccid,
       b.imei,
       b.imeisv,
       b.imsi,
       b.created_at,
       b.created_by,
       pg_catalog.date_trunc('second', pg_catalog.now() OPERATOR(pg_catalog.-) b.created_at) AS age,
       b.last_key_at,
       pg_catalog.date_trunc('second', pg_catalog.now() OPERATOR(pg_catalog.-) b.last_key_at) AS since_last_key,
       b.key_count,
       EXISTS (SELECT FROM mtcbind.transfer_authorization t
                WHERE t.binding_id OPERATOR(pg_catalog.=) b.binding_id
                  AND t.used_at IS NULL AND t.revoked_at IS NULL
                  AND t.valid_until OPERATOR(pg_catalog.>) pg_catalog.now()) AS transfer_pending,
       b.note
  FROM mtcbind.binding b;

COMMENT ON VIEW mtcbind.bindings IS 'One readable row per binding, with its age and last key issue';

------------------------------------------------------------------------------
-- Privileges: nothing beyond the pure functions is PUBLIC
------------------------------------------------------------------------------
REVOKE ALL ON ALL TABLES IN SCHEMA mtcbind FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA mtcbind FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind.request_key(bytea, text, bytea, timestamptz, text, mtcbind.iccid,
    mtcbind.imei, mtcbind.imeisv, mtcbind.imsi, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind.bind(text, mtcbind.iccid, mtcbind.imei, mtcbind.imeisv, mtcbind.imsi, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind.unbind(mtcbind.iccid, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind.authorize_transfer(mtcbind.iccid, text, interval, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind.rebind(mtcbind.iccid, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind.binding_audit() FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind.binding_event_append_only() FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind._check_terminal_id(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind._check_reason(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind._raise_conflict(mtcbind.binding, text, mtcbind.iccid, mtcbind.imei, mtcbind.imsi) FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind._revoke_transfers(mtcbind.iccid, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind._raise_sequence_behind() FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind._beyond_sequence(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind.binding_advance_sequence() FROM PUBLIC;

GRANT EXECUTE ON FUNCTION mtcbind.request_key(bytea, text, bytea, timestamptz, text, mtcbind.iccid,
    mtcbind.imei, mtcbind.imeisv, mtcbind.imsi, text, text) TO mtcbind_naf;

GRANT EXECUTE ON FUNCTION mtcbind.bind(text, mtcbind.iccid, mtcbind.imei, mtcbind.imeisv, mtcbind.imsi, text) TO mtcbind_admin;
GRANT EXECUTE ON FUNCTION mtcbind.unbind(mtcbind.iccid, text) TO mtcbind_admin;
GRANT EXECUTE ON FUNCTION mtcbind.authorize_transfer(mtcbind.iccid, text, interval, text) TO mtcbind_admin;
GRANT EXECUTE ON FUNCTION mtcbind.rebind(mtcbind.iccid, text, text) TO mtcbind_admin;
GRANT SELECT ON mtcbind.binding, mtcbind.binding_event, mtcbind.transfer_authorization,
                mtcbind.bindings TO mtcbind_admin;

GRANT SELECT ON mtcbind.binding, mtcbind.binding_event, mtcbind.transfer_authorization,
                mtcbind.bindings TO mtcbind_auditor;
