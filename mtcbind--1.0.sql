/* mtcbind--1.0.sql: install script of mtcbind 1.0 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION mtcbind" to load this file. \quit

------------------------------------------------------------------------------
-- Schema
--
-- The control file names pg_catalog, not mtcbind.  With "schema = mtcbind"
-- CREATE EXTENSION would install into a schema mtcbind that anyone with
-- CREATE on the database may have made beforehand; its owner could then drop
-- it with the bindings and the audit log, or rename it and plant functions
-- for SECURITY DEFINER code to find.  CREATE SCHEMA fails if the schema
-- exists, so the schema is always the extension's own, owned by the
-- superuser who installs it, and only that superuser can create in it.
------------------------------------------------------------------------------
CREATE SCHEMA mtcbind;
COMMENT ON SCHEMA mtcbind IS 'mtcbind: device/UICC bindings and the Ks_local key centre of a 3GPP NAF';
GRANT USAGE ON SCHEMA mtcbind TO PUBLIC;

------------------------------------------------------------------------------
-- Identifier types: imei, imeisv, iccid, imsi
--
-- Each is an int8 whose encoding keeps the order of the canonical digits
-- (src/identifiers.c, docs/types.md), so, as contrib/isn does, comparison,
-- btree and hash support map straight onto the built-in int8 functions: no
-- comparison code of our own.  Input and output, binary send/receive and
-- the helpers are C.
--
-- The comparison operators live in pg_catalog, which every search_path
-- searches first: iccid = '8944...' works in any session, uses the indexes,
-- and no schema earlier on a search_path can shadow the operator.
------------------------------------------------------------------------------

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
	LIKE = pg_catalog.int8
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

CREATE OPERATOR pg_catalog.= (
	LEFTARG = mtcbind.imei, RIGHTARG = mtcbind.imei, FUNCTION = mtcbind.imei_eq,
	COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel,
	HASHES, MERGES
);
CREATE OPERATOR pg_catalog.<> (
	LEFTARG = mtcbind.imei, RIGHTARG = mtcbind.imei, FUNCTION = mtcbind.imei_ne,
	COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
CREATE OPERATOR pg_catalog.< (
	LEFTARG = mtcbind.imei, RIGHTARG = mtcbind.imei, FUNCTION = mtcbind.imei_lt,
	COMMUTATOR = OPERATOR(pg_catalog.>), NEGATOR = OPERATOR(pg_catalog.>=),
	RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);
CREATE OPERATOR pg_catalog.<= (
	LEFTARG = mtcbind.imei, RIGHTARG = mtcbind.imei, FUNCTION = mtcbind.imei_le,
	COMMUTATOR = OPERATOR(pg_catalog.>=), NEGATOR = OPERATOR(pg_catalog.>),
	RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);
CREATE OPERATOR pg_catalog.> (
	LEFTARG = mtcbind.imei, RIGHTARG = mtcbind.imei, FUNCTION = mtcbind.imei_gt,
	COMMUTATOR = OPERATOR(pg_catalog.<), NEGATOR = OPERATOR(pg_catalog.<=),
	RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);
CREATE OPERATOR pg_catalog.>= (
	LEFTARG = mtcbind.imei, RIGHTARG = mtcbind.imei, FUNCTION = mtcbind.imei_ge,
	COMMUTATOR = OPERATOR(pg_catalog.<=), NEGATOR = OPERATOR(pg_catalog.<),
	RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);

-- btequalimage: equal values are bitwise equal, so btree deduplication is safe.
CREATE OPERATOR CLASS mtcbind.imei_ops
	DEFAULT FOR TYPE mtcbind.imei USING btree AS
	OPERATOR 1 pg_catalog.< ,
	OPERATOR 2 pg_catalog.<= ,
	OPERATOR 3 pg_catalog.= ,
	OPERATOR 4 pg_catalog.>= ,
	OPERATOR 5 pg_catalog.> ,
	FUNCTION 1 mtcbind.imei_cmp(mtcbind.imei, mtcbind.imei),
	FUNCTION 2 mtcbind.imei_sortsupport(internal),
	FUNCTION 4 pg_catalog.btequalimage(oid);

CREATE OPERATOR CLASS mtcbind.imei_ops
	DEFAULT FOR TYPE mtcbind.imei USING hash AS
	OPERATOR 1 pg_catalog.= ,
	FUNCTION 1 mtcbind.imei_hash(mtcbind.imei),
	FUNCTION 2 mtcbind.imei_hash_extended(mtcbind.imei, bigint);

-- OPERATOR(mtcbind.=) and OPERATOR(mtcbind.<>), for SQL written that way.
-- They compare the same, but only the pg_catalog operators above belong to
-- the operator classes, so only those can use an index.
CREATE OPERATOR mtcbind.= (
	LEFTARG = mtcbind.imei, RIGHTARG = mtcbind.imei, FUNCTION = mtcbind.imei_eq,
	COMMUTATOR = OPERATOR(mtcbind.=), NEGATOR = OPERATOR(mtcbind.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel
);
CREATE OPERATOR mtcbind.<> (
	LEFTARG = mtcbind.imei, RIGHTARG = mtcbind.imei, FUNCTION = mtcbind.imei_ne,
	COMMUTATOR = OPERATOR(mtcbind.<>), NEGATOR = OPERATOR(mtcbind.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);

-- min() and max(), so the planner can also answer them from a btree index.
CREATE FUNCTION mtcbind.imei_smaller(mtcbind.imei, mtcbind.imei) RETURNS mtcbind.imei
	AS 'int8smaller' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.imei_larger(mtcbind.imei, mtcbind.imei) RETURNS mtcbind.imei
	AS 'int8larger' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE pg_catalog.min(mtcbind.imei) (
	SFUNC = mtcbind.imei_smaller, STYPE = mtcbind.imei,
	COMBINEFUNC = mtcbind.imei_smaller, SORTOP = OPERATOR(pg_catalog.<),
	PARALLEL = SAFE
);
CREATE AGGREGATE pg_catalog.max(mtcbind.imei) (
	SFUNC = mtcbind.imei_larger, STYPE = mtcbind.imei,
	COMBINEFUNC = mtcbind.imei_larger, SORTOP = OPERATOR(pg_catalog.>),
	PARALLEL = SAFE
);

-- From text implicitly, so that a driver's text or varchar parameter (and a
-- char(n) staging column) reaches functions taking imei; imei_in checks it.
-- To text only on assignment: an implicit cast both ways would make
-- text = imei ambiguous.
CREATE CAST (text AS mtcbind.imei) WITH INOUT AS IMPLICIT;
CREATE CAST (mtcbind.imei AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (varchar AS mtcbind.imei) WITH INOUT AS IMPLICIT;
CREATE CAST (bpchar AS mtcbind.imei) WITH INOUT AS IMPLICIT;
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
	LIKE = pg_catalog.int8
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

CREATE OPERATOR pg_catalog.= (
	LEFTARG = mtcbind.imeisv, RIGHTARG = mtcbind.imeisv, FUNCTION = mtcbind.imeisv_eq,
	COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel,
	HASHES, MERGES
);
CREATE OPERATOR pg_catalog.<> (
	LEFTARG = mtcbind.imeisv, RIGHTARG = mtcbind.imeisv, FUNCTION = mtcbind.imeisv_ne,
	COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
CREATE OPERATOR pg_catalog.< (
	LEFTARG = mtcbind.imeisv, RIGHTARG = mtcbind.imeisv, FUNCTION = mtcbind.imeisv_lt,
	COMMUTATOR = OPERATOR(pg_catalog.>), NEGATOR = OPERATOR(pg_catalog.>=),
	RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);
CREATE OPERATOR pg_catalog.<= (
	LEFTARG = mtcbind.imeisv, RIGHTARG = mtcbind.imeisv, FUNCTION = mtcbind.imeisv_le,
	COMMUTATOR = OPERATOR(pg_catalog.>=), NEGATOR = OPERATOR(pg_catalog.>),
	RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);
CREATE OPERATOR pg_catalog.> (
	LEFTARG = mtcbind.imeisv, RIGHTARG = mtcbind.imeisv, FUNCTION = mtcbind.imeisv_gt,
	COMMUTATOR = OPERATOR(pg_catalog.<), NEGATOR = OPERATOR(pg_catalog.<=),
	RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);
CREATE OPERATOR pg_catalog.>= (
	LEFTARG = mtcbind.imeisv, RIGHTARG = mtcbind.imeisv, FUNCTION = mtcbind.imeisv_ge,
	COMMUTATOR = OPERATOR(pg_catalog.<=), NEGATOR = OPERATOR(pg_catalog.<),
	RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);

-- btequalimage: equal values are bitwise equal, so btree deduplication is safe.
CREATE OPERATOR CLASS mtcbind.imeisv_ops
	DEFAULT FOR TYPE mtcbind.imeisv USING btree AS
	OPERATOR 1 pg_catalog.< ,
	OPERATOR 2 pg_catalog.<= ,
	OPERATOR 3 pg_catalog.= ,
	OPERATOR 4 pg_catalog.>= ,
	OPERATOR 5 pg_catalog.> ,
	FUNCTION 1 mtcbind.imeisv_cmp(mtcbind.imeisv, mtcbind.imeisv),
	FUNCTION 2 mtcbind.imeisv_sortsupport(internal),
	FUNCTION 4 pg_catalog.btequalimage(oid);

CREATE OPERATOR CLASS mtcbind.imeisv_ops
	DEFAULT FOR TYPE mtcbind.imeisv USING hash AS
	OPERATOR 1 pg_catalog.= ,
	FUNCTION 1 mtcbind.imeisv_hash(mtcbind.imeisv),
	FUNCTION 2 mtcbind.imeisv_hash_extended(mtcbind.imeisv, bigint);

-- OPERATOR(mtcbind.=) and OPERATOR(mtcbind.<>), for SQL written that way.
-- They compare the same, but only the pg_catalog operators above belong to
-- the operator classes, so only those can use an index.
CREATE OPERATOR mtcbind.= (
	LEFTARG = mtcbind.imeisv, RIGHTARG = mtcbind.imeisv, FUNCTION = mtcbind.imeisv_eq,
	COMMUTATOR = OPERATOR(mtcbind.=), NEGATOR = OPERATOR(mtcbind.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel
);
CREATE OPERATOR mtcbind.<> (
	LEFTARG = mtcbind.imeisv, RIGHTARG = mtcbind.imeisv, FUNCTION = mtcbind.imeisv_ne,
	COMMUTATOR = OPERATOR(mtcbind.<>), NEGATOR = OPERATOR(mtcbind.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);

-- min() and max(), so the planner can also answer them from a btree index.
CREATE FUNCTION mtcbind.imeisv_smaller(mtcbind.imeisv, mtcbind.imeisv) RETURNS mtcbind.imeisv
	AS 'int8smaller' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.imeisv_larger(mtcbind.imeisv, mtcbind.imeisv) RETURNS mtcbind.imeisv
	AS 'int8larger' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE pg_catalog.min(mtcbind.imeisv) (
	SFUNC = mtcbind.imeisv_smaller, STYPE = mtcbind.imeisv,
	COMBINEFUNC = mtcbind.imeisv_smaller, SORTOP = OPERATOR(pg_catalog.<),
	PARALLEL = SAFE
);
CREATE AGGREGATE pg_catalog.max(mtcbind.imeisv) (
	SFUNC = mtcbind.imeisv_larger, STYPE = mtcbind.imeisv,
	COMBINEFUNC = mtcbind.imeisv_larger, SORTOP = OPERATOR(pg_catalog.>),
	PARALLEL = SAFE
);

-- From text implicitly, so that a driver's text or varchar parameter (and a
-- char(n) staging column) reaches functions taking imeisv; imeisv_in checks it.
-- To text only on assignment: an implicit cast both ways would make
-- text = imeisv ambiguous.
CREATE CAST (text AS mtcbind.imeisv) WITH INOUT AS IMPLICIT;
CREATE CAST (mtcbind.imeisv AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (varchar AS mtcbind.imeisv) WITH INOUT AS IMPLICIT;
CREATE CAST (bpchar AS mtcbind.imeisv) WITH INOUT AS IMPLICIT;
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
	LIKE = pg_catalog.int8
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

CREATE OPERATOR pg_catalog.= (
	LEFTARG = mtcbind.iccid, RIGHTARG = mtcbind.iccid, FUNCTION = mtcbind.iccid_eq,
	COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel,
	HASHES, MERGES
);
CREATE OPERATOR pg_catalog.<> (
	LEFTARG = mtcbind.iccid, RIGHTARG = mtcbind.iccid, FUNCTION = mtcbind.iccid_ne,
	COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
CREATE OPERATOR pg_catalog.< (
	LEFTARG = mtcbind.iccid, RIGHTARG = mtcbind.iccid, FUNCTION = mtcbind.iccid_lt,
	COMMUTATOR = OPERATOR(pg_catalog.>), NEGATOR = OPERATOR(pg_catalog.>=),
	RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);
CREATE OPERATOR pg_catalog.<= (
	LEFTARG = mtcbind.iccid, RIGHTARG = mtcbind.iccid, FUNCTION = mtcbind.iccid_le,
	COMMUTATOR = OPERATOR(pg_catalog.>=), NEGATOR = OPERATOR(pg_catalog.>),
	RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);
CREATE OPERATOR pg_catalog.> (
	LEFTARG = mtcbind.iccid, RIGHTARG = mtcbind.iccid, FUNCTION = mtcbind.iccid_gt,
	COMMUTATOR = OPERATOR(pg_catalog.<), NEGATOR = OPERATOR(pg_catalog.<=),
	RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);
CREATE OPERATOR pg_catalog.>= (
	LEFTARG = mtcbind.iccid, RIGHTARG = mtcbind.iccid, FUNCTION = mtcbind.iccid_ge,
	COMMUTATOR = OPERATOR(pg_catalog.<=), NEGATOR = OPERATOR(pg_catalog.<),
	RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);

-- btequalimage: equal values are bitwise equal, so btree deduplication is safe.
CREATE OPERATOR CLASS mtcbind.iccid_ops
	DEFAULT FOR TYPE mtcbind.iccid USING btree AS
	OPERATOR 1 pg_catalog.< ,
	OPERATOR 2 pg_catalog.<= ,
	OPERATOR 3 pg_catalog.= ,
	OPERATOR 4 pg_catalog.>= ,
	OPERATOR 5 pg_catalog.> ,
	FUNCTION 1 mtcbind.iccid_cmp(mtcbind.iccid, mtcbind.iccid),
	FUNCTION 2 mtcbind.iccid_sortsupport(internal),
	FUNCTION 4 pg_catalog.btequalimage(oid);

CREATE OPERATOR CLASS mtcbind.iccid_ops
	DEFAULT FOR TYPE mtcbind.iccid USING hash AS
	OPERATOR 1 pg_catalog.= ,
	FUNCTION 1 mtcbind.iccid_hash(mtcbind.iccid),
	FUNCTION 2 mtcbind.iccid_hash_extended(mtcbind.iccid, bigint);

-- OPERATOR(mtcbind.=) and OPERATOR(mtcbind.<>), for SQL written that way.
-- They compare the same, but only the pg_catalog operators above belong to
-- the operator classes, so only those can use an index.
CREATE OPERATOR mtcbind.= (
	LEFTARG = mtcbind.iccid, RIGHTARG = mtcbind.iccid, FUNCTION = mtcbind.iccid_eq,
	COMMUTATOR = OPERATOR(mtcbind.=), NEGATOR = OPERATOR(mtcbind.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel
);
CREATE OPERATOR mtcbind.<> (
	LEFTARG = mtcbind.iccid, RIGHTARG = mtcbind.iccid, FUNCTION = mtcbind.iccid_ne,
	COMMUTATOR = OPERATOR(mtcbind.<>), NEGATOR = OPERATOR(mtcbind.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);

-- min() and max(), so the planner can also answer them from a btree index.
CREATE FUNCTION mtcbind.iccid_smaller(mtcbind.iccid, mtcbind.iccid) RETURNS mtcbind.iccid
	AS 'int8smaller' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.iccid_larger(mtcbind.iccid, mtcbind.iccid) RETURNS mtcbind.iccid
	AS 'int8larger' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE pg_catalog.min(mtcbind.iccid) (
	SFUNC = mtcbind.iccid_smaller, STYPE = mtcbind.iccid,
	COMBINEFUNC = mtcbind.iccid_smaller, SORTOP = OPERATOR(pg_catalog.<),
	PARALLEL = SAFE
);
CREATE AGGREGATE pg_catalog.max(mtcbind.iccid) (
	SFUNC = mtcbind.iccid_larger, STYPE = mtcbind.iccid,
	COMBINEFUNC = mtcbind.iccid_larger, SORTOP = OPERATOR(pg_catalog.>),
	PARALLEL = SAFE
);

-- From text implicitly, so that a driver's text or varchar parameter (and a
-- char(n) staging column) reaches functions taking iccid; iccid_in checks it.
-- To text only on assignment: an implicit cast both ways would make
-- text = iccid ambiguous.
CREATE CAST (text AS mtcbind.iccid) WITH INOUT AS IMPLICIT;
CREATE CAST (mtcbind.iccid AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (varchar AS mtcbind.iccid) WITH INOUT AS IMPLICIT;
CREATE CAST (bpchar AS mtcbind.iccid) WITH INOUT AS IMPLICIT;
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
	LIKE = pg_catalog.int8
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

CREATE OPERATOR pg_catalog.= (
	LEFTARG = mtcbind.imsi, RIGHTARG = mtcbind.imsi, FUNCTION = mtcbind.imsi_eq,
	COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel,
	HASHES, MERGES
);
CREATE OPERATOR pg_catalog.<> (
	LEFTARG = mtcbind.imsi, RIGHTARG = mtcbind.imsi, FUNCTION = mtcbind.imsi_ne,
	COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
CREATE OPERATOR pg_catalog.< (
	LEFTARG = mtcbind.imsi, RIGHTARG = mtcbind.imsi, FUNCTION = mtcbind.imsi_lt,
	COMMUTATOR = OPERATOR(pg_catalog.>), NEGATOR = OPERATOR(pg_catalog.>=),
	RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);
CREATE OPERATOR pg_catalog.<= (
	LEFTARG = mtcbind.imsi, RIGHTARG = mtcbind.imsi, FUNCTION = mtcbind.imsi_le,
	COMMUTATOR = OPERATOR(pg_catalog.>=), NEGATOR = OPERATOR(pg_catalog.>),
	RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);
CREATE OPERATOR pg_catalog.> (
	LEFTARG = mtcbind.imsi, RIGHTARG = mtcbind.imsi, FUNCTION = mtcbind.imsi_gt,
	COMMUTATOR = OPERATOR(pg_catalog.<), NEGATOR = OPERATOR(pg_catalog.<=),
	RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);
CREATE OPERATOR pg_catalog.>= (
	LEFTARG = mtcbind.imsi, RIGHTARG = mtcbind.imsi, FUNCTION = mtcbind.imsi_ge,
	COMMUTATOR = OPERATOR(pg_catalog.<=), NEGATOR = OPERATOR(pg_catalog.<),
	RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);

-- btequalimage: equal values are bitwise equal, so btree deduplication is safe.
CREATE OPERATOR CLASS mtcbind.imsi_ops
	DEFAULT FOR TYPE mtcbind.imsi USING btree AS
	OPERATOR 1 pg_catalog.< ,
	OPERATOR 2 pg_catalog.<= ,
	OPERATOR 3 pg_catalog.= ,
	OPERATOR 4 pg_catalog.>= ,
	OPERATOR 5 pg_catalog.> ,
	FUNCTION 1 mtcbind.imsi_cmp(mtcbind.imsi, mtcbind.imsi),
	FUNCTION 2 mtcbind.imsi_sortsupport(internal),
	FUNCTION 4 pg_catalog.btequalimage(oid);

CREATE OPERATOR CLASS mtcbind.imsi_ops
	DEFAULT FOR TYPE mtcbind.imsi USING hash AS
	OPERATOR 1 pg_catalog.= ,
	FUNCTION 1 mtcbind.imsi_hash(mtcbind.imsi),
	FUNCTION 2 mtcbind.imsi_hash_extended(mtcbind.imsi, bigint);

-- OPERATOR(mtcbind.=) and OPERATOR(mtcbind.<>), for SQL written that way.
-- They compare the same, but only the pg_catalog operators above belong to
-- the operator classes, so only those can use an index.
CREATE OPERATOR mtcbind.= (
	LEFTARG = mtcbind.imsi, RIGHTARG = mtcbind.imsi, FUNCTION = mtcbind.imsi_eq,
	COMMUTATOR = OPERATOR(mtcbind.=), NEGATOR = OPERATOR(mtcbind.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel
);
CREATE OPERATOR mtcbind.<> (
	LEFTARG = mtcbind.imsi, RIGHTARG = mtcbind.imsi, FUNCTION = mtcbind.imsi_ne,
	COMMUTATOR = OPERATOR(mtcbind.<>), NEGATOR = OPERATOR(mtcbind.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);

-- min() and max(), so the planner can also answer them from a btree index.
CREATE FUNCTION mtcbind.imsi_smaller(mtcbind.imsi, mtcbind.imsi) RETURNS mtcbind.imsi
	AS 'int8smaller' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mtcbind.imsi_larger(mtcbind.imsi, mtcbind.imsi) RETURNS mtcbind.imsi
	AS 'int8larger' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE pg_catalog.min(mtcbind.imsi) (
	SFUNC = mtcbind.imsi_smaller, STYPE = mtcbind.imsi,
	COMBINEFUNC = mtcbind.imsi_smaller, SORTOP = OPERATOR(pg_catalog.<),
	PARALLEL = SAFE
);
CREATE AGGREGATE pg_catalog.max(mtcbind.imsi) (
	SFUNC = mtcbind.imsi_larger, STYPE = mtcbind.imsi,
	COMBINEFUNC = mtcbind.imsi_larger, SORTOP = OPERATOR(pg_catalog.>),
	PARALLEL = SAFE
);

-- From text implicitly, so that a driver's text or varchar parameter (and a
-- char(n) staging column) reaches functions taking imsi; imsi_in checks it.
-- To text only on assignment: an implicit cast both ways would make
-- text = imsi ambiguous.
CREATE CAST (text AS mtcbind.imsi) WITH INOUT AS IMPLICIT;
CREATE CAST (mtcbind.imsi AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (varchar AS mtcbind.imsi) WITH INOUT AS IMPLICIT;
CREATE CAST (bpchar AS mtcbind.imsi) WITH INOUT AS IMPLICIT;
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
-- Roles belong to the whole cluster: a role of one of these names may exist
-- already, made by another database's mtcbind or by someone else.  One is
-- used only if it is as harmless as the role this script would create: no
-- LOGIN, no superuser or other role attribute, and not itself a member of
-- any role (whoever is granted it would inherit that role's rights).  Its
-- existing members are named in a WARNING: they gain its rights in this database.
-- DROP EXTENSION leaves the roles in place (docs/security.md).
------------------------------------------------------------------------------
DO $roles$
DECLARE
    wanted    text;
    existing  pg_catalog.pg_roles;
    unsafe    text;
    member_of text;
    members   text;
BEGIN
    FOREACH wanted IN ARRAY ARRAY['mtcbind_naf', 'mtcbind_admin', 'mtcbind_auditor'] LOOP
        SELECT * INTO existing FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) wanted;
        IF NOT FOUND THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', wanted);
            CONTINUE;
        END IF;
        unsafe := pg_catalog.concat_ws(', ',
            CASE WHEN existing.rolcanlogin THEN 'LOGIN' END,
            CASE WHEN existing.rolsuper THEN 'SUPERUSER' END,
            CASE WHEN existing.rolcreaterole THEN 'CREATEROLE' END,
            CASE WHEN existing.rolcreatedb THEN 'CREATEDB' END,
            CASE WHEN existing.rolreplication THEN 'REPLICATION' END,
            CASE WHEN existing.rolbypassrls THEN 'BYPASSRLS' END,
            CASE WHEN existing.rolinherit IS NOT TRUE THEN 'NOINHERIT' END);
        IF unsafe OPERATOR(pg_catalog.<>) '' THEN
            RAISE EXCEPTION 'role % exists and is not safe for mtcbind to use', wanted
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = pg_catalog.format('Role %s has %s; mtcbind grants its rights to a role with none of LOGIN, SUPERUSER, CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS, NOINHERIT.', wanted, unsafe),
                      HINT = 'Rename or drop that role, or make it NOLOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS INHERIT, then CREATE EXTENSION again.';
        END IF;
        SELECT pg_catalog.string_agg(pg_catalog.quote_ident(r.rolname), ', ' ORDER BY r.rolname)
          INTO member_of
          FROM pg_catalog.pg_auth_members m
          JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) m.roleid
         WHERE m.member OPERATOR(pg_catalog.=) existing.oid;
        IF member_of IS NOT NULL THEN
            RAISE EXCEPTION 'role % exists and is a member of other roles', wanted
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = pg_catalog.format('Role %s is a member of %s; whoever is granted it would inherit their rights.', wanted, member_of),
                      HINT = pg_catalog.format('REVOKE those roles from %s, or drop it, then CREATE EXTENSION again.', wanted);
        END IF;
        SELECT pg_catalog.string_agg(pg_catalog.quote_ident(r.rolname), ', ' ORDER BY r.rolname)
          INTO members
          FROM pg_catalog.pg_auth_members m
          JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) m.member
         WHERE m.roleid OPERATOR(pg_catalog.=) existing.oid;
        IF members IS NOT NULL THEN
            RAISE WARNING 'role % already exists; its members (%) gain its rights in this database', wanted, members;
        END IF;
    END LOOP;
END
$roles$;

------------------------------------------------------------------------------
-- Tables
------------------------------------------------------------------------------

-- One row per live binding of a device (terminal_id) to a UICC (iccid).
-- The UNIQUE constraints are the invariant: a device, a UICC, an IMEI and
-- an IMSI each belong to at most one binding, whoever writes the row.
-- "blocked" mirrors the blocklist for this row's card and device, kept by
-- triggers, so that re-keying can refuse a blocked pair from one row.
CREATE SEQUENCE mtcbind.binding_binding_id_seq;

-- The default of binding.binding_id: nextval of the sequence (with the
-- caller's privilege on it), remembered so that the guard trigger accepts
-- exactly the id drawn for the row and no id written by hand (src/binding_table.c).
-- Executable by PUBLIC like nextval itself: whoever may INSERT needs it.
CREATE FUNCTION mtcbind._draw_binding_id() RETURNS bigint
    AS 'MODULE_PATHNAME', 'mtcbind_draw_binding_id'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE TABLE mtcbind.binding (
    binding_id        bigint NOT NULL DEFAULT mtcbind._draw_binding_id(),
    terminal_id       text NOT NULL,
    iccid             mtcbind.iccid NOT NULL,
    imei              mtcbind.imei,
    imeisv            mtcbind.imeisv,
    imsi              mtcbind.imsi,
    terminal_appli_id text NOT NULL DEFAULT '',
    uicc_appli_id     text NOT NULL DEFAULT '',
    note              text,
    created_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by        text NOT NULL DEFAULT SESSION_USER,
    updated_at        timestamptz,
    last_key_at       timestamptz,
    key_count         bigint NOT NULL DEFAULT 0,
    blocked           boolean NOT NULL DEFAULT false,
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
    CONSTRAINT binding_imeisv_check
        CHECK (imeisv IS NULL
               OR (imei IS NOT NULL AND imei OPERATOR(pg_catalog.=) mtcbind.imei(imeisv))),
    CONSTRAINT binding_key_count_check CHECK (key_count OPERATOR(pg_catalog.>=) 0)
);
ALTER SEQUENCE mtcbind.binding_binding_id_seq OWNED BY mtcbind.binding.binding_id;

COMMENT ON TABLE mtcbind.binding IS
    'One row per live device/UICC binding; UNIQUE terminal_id, iccid, imei, imsi carry the one-to-one invariant';
COMMENT ON COLUMN mtcbind.binding.blocked IS
    'True while the card or the device is on mtcbind.blocklist (kept by triggers)';

-- Cards and devices that no request may bind or key until an administrator
-- lifts the block: a stolen or lost card, a retired one, a stolen device
-- (by terminal_id, by IMEI, or both).  A row blocks a card or a device.
CREATE SEQUENCE mtcbind.blocklist_block_id_seq;

CREATE TABLE mtcbind.blocklist (
    block_id    bigint NOT NULL DEFAULT pg_catalog.nextval('mtcbind.blocklist_block_id_seq'::pg_catalog.regclass),
    iccid       mtcbind.iccid,
    terminal_id text,
    imei        mtcbind.imei,
    reason      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by  text NOT NULL DEFAULT SESSION_USER,
    CONSTRAINT blocklist_pkey PRIMARY KEY (block_id),
    CONSTRAINT blocklist_iccid_key UNIQUE (iccid),
    CONSTRAINT blocklist_terminal_id_key UNIQUE (terminal_id),
    CONSTRAINT blocklist_imei_key UNIQUE (imei),
    CONSTRAINT blocklist_kind_check
        CHECK ((iccid IS NOT NULL AND terminal_id IS NULL AND imei IS NULL)
               OR (iccid IS NULL AND (terminal_id IS NOT NULL OR imei IS NOT NULL))),
    CONSTRAINT blocklist_reason_check CHECK (pg_catalog.btrim(reason) OPERATOR(pg_catalog.<>) '')
);
ALTER SEQUENCE mtcbind.blocklist_block_id_seq OWNED BY mtcbind.blocklist.block_id;

COMMENT ON TABLE mtcbind.blocklist IS
    'Blocked cards (iccid) and devices (terminal_id and/or imei): refused by request_key and the administration functions';

-- Pending "update according to user requirement": the next request_key
-- for this UICC from the named device (or any unbound device) within the
-- window moves the binding.  Used once; gone with its binding.
CREATE SEQUENCE mtcbind.transfer_authorization_id_seq;

CREATE TABLE mtcbind.transfer_authorization (
    authorization_id bigint NOT NULL DEFAULT pg_catalog.nextval('mtcbind.transfer_authorization_id_seq'::pg_catalog.regclass),
    binding_id       bigint NOT NULL,
    iccid            mtcbind.iccid NOT NULL,
    new_terminal_id  text,
    valid_until      timestamptz NOT NULL,
    reason           text,
    created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by       text NOT NULL DEFAULT SESSION_USER,
    used_at          timestamptz,
    used_by_terminal text,
    revoked_at       timestamptz,
    CONSTRAINT transfer_authorization_pkey PRIMARY KEY (authorization_id),
    CONSTRAINT transfer_authorization_binding_id_fkey FOREIGN KEY (binding_id)
        REFERENCES mtcbind.binding (binding_id) ON DELETE CASCADE,
    CONSTRAINT transfer_authorization_new_terminal_id_check
        CHECK (new_terminal_id IS NULL
               OR (pg_catalog.octet_length(new_terminal_id) OPERATOR(pg_catalog.>=) 1
                   AND pg_catalog.octet_length(new_terminal_id) OPERATOR(pg_catalog.<=) 255))
);
ALTER SEQUENCE mtcbind.transfer_authorization_id_seq OWNED BY mtcbind.transfer_authorization.authorization_id;

-- At most one open authorization per UICC; the foreign key's lookups.
CREATE UNIQUE INDEX transfer_authorization_open_key ON mtcbind.transfer_authorization (iccid)
    WHERE used_at IS NULL AND revoked_at IS NULL;
CREATE INDEX transfer_authorization_binding_id_idx ON mtcbind.transfer_authorization (binding_id);

-- The database's own security policy.  It is data, so pg_dump carries it
-- to wherever the bindings go, unlike ALTER DATABASE ... SET.  A policy
-- can only tighten the settings: first_use = reject here refuses first use
-- whatever mtcbind.first_use says; max_key_lifetime caps
-- mtcbind.key_lifetime.  Written by mtcbind.set_policy.
CREATE TABLE mtcbind.policy (
    name    text NOT NULL,
    value   text NOT NULL,
    reason  text NOT NULL,
    set_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    set_by  text NOT NULL DEFAULT SESSION_USER,
    CONSTRAINT policy_pkey PRIMARY KEY (name),
    CONSTRAINT policy_name_check
        CHECK (name OPERATOR(pg_catalog.=) ANY (ARRAY['first_use', 'max_key_lifetime']::text[])),
    CONSTRAINT policy_first_use_check
        CHECK (name OPERATOR(pg_catalog.<>) 'first_use'
               OR value OPERATOR(pg_catalog.=) ANY (ARRAY['bind', 'reject']::text[]))
);

COMMENT ON TABLE mtcbind.policy IS
    'Security policy stored with the data (travels with pg_dump); it can only tighten the mtcbind.* settings';

-- The audit trail: every change to a binding, to the blocklist and to the
-- policy, every refusal, every issued key (never the key), every purge.
-- Append-only.  Partitioned by day (mtcbind.maintain_event_log) so that
-- retention drops whole days (mtcbind.purge_events) instead of deleting
-- rows; events of days without a partition land in binding_event_default.
-- Indexes live on each partition, not on this parent, so that pg_dump can
-- restore partitions made after CREATE EXTENSION.
CREATE SEQUENCE mtcbind.binding_event_event_id_seq;

CREATE TABLE mtcbind.binding_event (
    event_id             bigint NOT NULL DEFAULT pg_catalog.nextval('mtcbind.binding_event_event_id_seq'::pg_catalog.regclass),
    occurred_at          timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    binding_id           bigint,
    iccid                mtcbind.iccid,
    imei                 mtcbind.imei,
    imsi                 mtcbind.imsi,
    previous_iccid       mtcbind.iccid,
    key_expires_at       timestamptz,
    event                text NOT NULL,
    terminal_id          text,
    previous_terminal_id text,
    reason               text,
    actor                text NOT NULL DEFAULT SESSION_USER,
    naf_id               bytea,
    detail               jsonb,
    CONSTRAINT binding_event_event_check CHECK (event OPERATOR(pg_catalog.=) ANY (ARRAY[
        'bound', 'unbound', 'rebound', 'attribute_changed', 'updated', 'truncated',
        'key_issued', 'rejected', 'transfer_authorized', 'transfer_revoked',
        'blocked', 'unblocked', 'policy_changed', 'events_purged']::text[]))
) PARTITION BY RANGE (occurred_at);
ALTER SEQUENCE mtcbind.binding_event_event_id_seq OWNED BY mtcbind.binding_event.event_id;

COMMENT ON TABLE mtcbind.binding_event IS
    'Append-only audit log: changes (by any means), refusals, key issues (never key material); partitioned by day';

CREATE TABLE mtcbind.binding_event_default PARTITION OF mtcbind.binding_event DEFAULT;

-- pg_dump keeps the data of these tables (extension tables are otherwise
-- dumped empty) and the positions of their sequences.  Day partitions are
-- made after CREATE EXTENSION, belong to no extension, and are dumped as
-- ordinary tables.
SELECT pg_catalog.pg_extension_config_dump('mtcbind.binding', '');
SELECT pg_catalog.pg_extension_config_dump('mtcbind.binding_binding_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('mtcbind.blocklist', '');
SELECT pg_catalog.pg_extension_config_dump('mtcbind.blocklist_block_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('mtcbind.transfer_authorization', '');
SELECT pg_catalog.pg_extension_config_dump('mtcbind.transfer_authorization_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('mtcbind.policy', '');
SELECT pg_catalog.pg_extension_config_dump('mtcbind.binding_event_default', '');
SELECT pg_catalog.pg_extension_config_dump('mtcbind.binding_event_event_id_seq', '');

------------------------------------------------------------------------------
-- Triggers (C, src/audit.c and src/blocks.c).  Every trigger function runs
-- as the extension's owner with a pinned search_path, so that a role
-- granted only INSERT (a loader) is audited the same way, and nothing the
-- caller's session sets changes what is recorded.
------------------------------------------------------------------------------

-- Before a binding is written: refuses a binding_id beyond its sequence
-- (MB008: later bindings would collide with it) and sets "blocked".
CREATE FUNCTION mtcbind.binding_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'mtcbind_binding_guard'
    LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- After a binding is written: one event per change.
CREATE FUNCTION mtcbind.binding_audit() RETURNS trigger
    AS 'MODULE_PATHNAME', 'mtcbind_binding_audit'
    LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- After the blocklist changes: the flags of the bindings it touches, and
-- an event.
CREATE FUNCTION mtcbind.blocklist_audit() RETURNS trigger
    AS 'MODULE_PATHNAME', 'mtcbind_blocklist_audit'
    LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- After the policy changes: other sessions re-read it, and an event.
CREATE FUNCTION mtcbind.policy_audit() RETURNS trigger
    AS 'MODULE_PATHNAME', 'mtcbind_policy_audit'
    LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- The audit log is append-only, also for its owner's direct DML; only
-- mtcbind.purge_events removes events.
CREATE FUNCTION mtcbind.event_append_only() RETURNS trigger
    AS 'MODULE_PATHNAME', 'mtcbind_event_append_only'
    LANGUAGE C SET search_path = pg_catalog, pg_temp;

-- First in every statement that writes bindings: the blocklist's weak lock,
-- before any row is locked (the lock order of src/blocks.c).
CREATE FUNCTION mtcbind.binding_lock_order() RETURNS trigger
    AS 'MODULE_PATHNAME', 'mtcbind_binding_lock_order'
    LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE TRIGGER binding_lock_order
    BEFORE INSERT OR UPDATE OR DELETE ON mtcbind.binding
    FOR EACH STATEMENT EXECUTE FUNCTION mtcbind.binding_lock_order();

-- Also on UPDATE OF blocked: the flag is derived from the blocklist, so a
-- hand-written value is replaced by the true one.
CREATE TRIGGER binding_guard
    BEFORE INSERT OR UPDATE OF binding_id, terminal_id, iccid, imei, blocked ON mtcbind.binding
    FOR EACH ROW EXECUTE FUNCTION mtcbind.binding_guard();

CREATE TRIGGER binding_audit_insert
    AFTER INSERT ON mtcbind.binding
    FOR EACH ROW EXECUTE FUNCTION mtcbind.binding_audit();

CREATE TRIGGER binding_audit_delete
    AFTER DELETE ON mtcbind.binding
    FOR EACH ROW EXECUTE FUNCTION mtcbind.binding_audit();

-- Key bookkeeping (last_key_at, key_count, updated_at) and the blocked flag
-- are not changes of the binding: key issues and blocks have their own
-- events.  Every other column is listed, so any UPDATE that sets one fires.
CREATE TRIGGER binding_audit_update
    AFTER UPDATE OF binding_id, terminal_id, iccid, imei, imeisv, imsi, terminal_appli_id,
                    uicc_appli_id, note, created_at, created_by ON mtcbind.binding
    FOR EACH ROW EXECUTE FUNCTION mtcbind.binding_audit();

CREATE TRIGGER binding_audit_truncate
    AFTER TRUNCATE ON mtcbind.binding
    FOR EACH STATEMENT EXECUTE FUNCTION mtcbind.binding_audit();

CREATE TRIGGER blocklist_audit
    AFTER INSERT OR UPDATE OR DELETE ON mtcbind.blocklist
    FOR EACH ROW EXECUTE FUNCTION mtcbind.blocklist_audit();

CREATE TRIGGER blocklist_audit_truncate
    AFTER TRUNCATE ON mtcbind.blocklist
    FOR EACH STATEMENT EXECUTE FUNCTION mtcbind.blocklist_audit();

CREATE TRIGGER policy_audit
    AFTER INSERT OR UPDATE OR DELETE ON mtcbind.policy
    FOR EACH ROW EXECUTE FUNCTION mtcbind.policy_audit();

CREATE TRIGGER policy_audit_truncate
    AFTER TRUNCATE ON mtcbind.policy
    FOR EACH STATEMENT EXECUTE FUNCTION mtcbind.policy_audit();

CREATE TRIGGER binding_event_append_only
    BEFORE UPDATE OR DELETE ON mtcbind.binding_event
    FOR EACH ROW EXECUTE FUNCTION mtcbind.event_append_only();

------------------------------------------------------------------------------
-- The event log's partitions
------------------------------------------------------------------------------

-- Gives a partition of binding_event its indexes (the questions a DBA asks:
-- the history of a card, a device, an IMEI, an event by id) and its
-- TRUNCATE guard.  Names are derived from the partition's own name.
CREATE FUNCTION mtcbind._prepare_event_partition(partition_name name)
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
    EXECUTE pg_catalog.format('CREATE TRIGGER binding_event_no_truncate BEFORE TRUNCATE ON mtcbind.%I'
                              ' FOR EACH STATEMENT EXECUTE FUNCTION mtcbind.event_append_only()',
                              partition_name);
END
$prepare$;

SELECT mtcbind._prepare_event_partition('binding_event_default');
-- The default partition collects days that have no partition of their
-- own; purging it deletes by time.
CREATE INDEX binding_event_default_occurred_at_idx ON mtcbind.binding_event_default (occurred_at);

-- Takes ACCESS EXCLUSIVE on a table of the event log (with its partitions)
-- without queueing for it: a waiting request for that lock would make every
-- event insert queue behind it, and key requests stall.  Retries for about
-- five seconds while others hold a lock on it, then gives up with 55P03.
CREATE FUNCTION mtcbind._lock_event_table(target regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $lock$
BEGIN
    FOR attempt IN 1..50 LOOP
        BEGIN
            EXECUTE pg_catalog.format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE NOWAIT', target);
            RETURN;
        EXCEPTION WHEN lock_not_available THEN
            PERFORM pg_catalog.pg_sleep(0.1);
        END;
    END LOOP;
    RAISE EXCEPTION '% is in use by other transactions; nothing was changed', target
        USING ERRCODE = 'lock_not_available',
              DETAIL = 'Changing the event log''s partitions needs a moment with no other transaction using the table; key requests are not made to wait for it.',
              HINT = 'Try again later; look for long-running transactions in pg_stat_activity.';
END
$lock$;

-- Makes the day partitions (UTC days) from today to days_ahead days ahead
-- that do not exist yet.  Run it daily (pg_cron, cron); returns how many it
-- made.  A day whose events already sit in the default partition is left
-- there, with a NOTICE.
CREATE FUNCTION mtcbind.maintain_event_log(days_ahead integer DEFAULT 7)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET DateStyle = 'ISO, YMD'
SET TimeZone = 'UTC'
AS $maintain$
DECLARE
    today     date := (pg_catalog.clock_timestamp() AT TIME ZONE 'UTC')::date;
    day       date;
    part      text;
    day_start text;
    day_end   text;
    made      integer := 0;
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
        part := 'binding_event_p' OPERATOR(pg_catalog.||) pg_catalog.to_char(day, 'YYYYMMDD');
        CONTINUE WHEN EXISTS (SELECT FROM pg_catalog.pg_class c
                               WHERE c.relname OPERATOR(pg_catalog.=) part
                                 AND c.relnamespace OPERATOR(pg_catalog.=) 'mtcbind'::pg_catalog.regnamespace);
        day_start := pg_catalog.to_char(day, 'YYYY-MM-DD') OPERATOR(pg_catalog.||) ' 00:00:00+00';
        day_end := pg_catalog.to_char(day OPERATOR(pg_catalog.+) 1, 'YYYY-MM-DD') OPERATOR(pg_catalog.||) ' 00:00:00+00';
        IF EXISTS (SELECT FROM mtcbind.binding_event_default e
                    WHERE e.occurred_at OPERATOR(pg_catalog.>=) day_start::timestamptz
                      AND e.occurred_at OPERATOR(pg_catalog.<) day_end::timestamptz) THEN
            RAISE NOTICE 'events of % are in binding_event_default already; that day gets no partition', day;
            CONTINUE;
        END IF;
        -- Made apart and attached: ATTACH PARTITION takes only SHARE UPDATE
        -- EXCLUSIVE on binding_event, so event inserts go on meanwhile.  It
        -- checks the default partition, which it locks exclusively.
        EXECUTE pg_catalog.format('CREATE TABLE mtcbind.%I (LIKE mtcbind.binding_event INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                                  part);
        PERFORM mtcbind._prepare_event_partition(part);
        PERFORM mtcbind._lock_event_table('mtcbind.binding_event_default');
        EXECUTE pg_catalog.format('ALTER TABLE mtcbind.binding_event ATTACH PARTITION mtcbind.%I FOR VALUES FROM (%L) TO (%L)',
                                  part, day_start, day_end);
        made := made OPERATOR(pg_catalog.+) 1;
    END LOOP;
    RETURN made;
END
$maintain$;

COMMENT ON FUNCTION mtcbind.maintain_event_log(integer) IS
    'Creates the missing daily partitions of mtcbind.binding_event from today to days_ahead; run daily';

-- The reason rule every administration function applies (src/args.c): given,
-- not blank, at most 1000 octets.  For the PL/pgSQL functions.
CREATE FUNCTION mtcbind._check_reason(reason text)
RETURNS void
    AS 'MODULE_PATHNAME', 'mtcbind_check_reason'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;

-- Deletes events before cutoff (of the given kinds, or all) from one
-- partition or from the whole log; the one way past the append-only guard.
CREATE FUNCTION mtcbind._delete_events(target regclass, cutoff timestamptz, kinds text[])
RETURNS bigint
    AS 'MODULE_PATHNAME', 'mtcbind_delete_events'
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    SET search_path = pg_catalog, pg_temp;

-- The retention path.  Without kinds: drops every day partition that ends
-- before now - older_than (so at least older_than of history is kept), and
-- deletes older rows from the default partition.  With kinds (for example
-- '{rejected}' after a flood from a rogue client): deletes the events of
-- those kinds older than that from every partition.  Records an
-- events_purged event either way.  Granted to no one: a superuser runs it
-- or grants it deliberately.
CREATE FUNCTION mtcbind.purge_events(older_than interval, reason text, kinds text[] DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET DateStyle = 'ISO, YMD'
SET TimeZone = 'UTC'
-- the drop guard lets the retention path drop day partitions that hold events
SET mtcbind.allow_drop_with_data = on
AS $purge$
DECLARE
    cutoff   timestamptz;
    part     record;
    rows     bigint;
    removed  bigint := 0;
    dropped  text[] := '{}';
    part_name text;
    unknown  text;
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

    IF kinds IS NULL THEN
        -- The default partition's old rows first: a DELETE, no table lock.
        removed := mtcbind._delete_events('mtcbind.binding_event_default', cutoff, NULL);
        -- Partitions of past days get no new rows: count them before locking.
        -- (The bounds print in ISO and UTC: the function's own settings.)
        FOR part IN
            SELECT c.relname,
                   pg_catalog.substring(pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                                        'TO \(''([^'']+)''\)')::timestamptz AS day_end
              FROM pg_catalog.pg_inherits i
              JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
             WHERE i.inhparent OPERATOR(pg_catalog.=) 'mtcbind.binding_event'::pg_catalog.regclass
               AND c.relname OPERATOR(pg_catalog.<>) 'binding_event_default'
             ORDER BY 2
        LOOP
            CONTINUE WHEN part.day_end IS NULL OR part.day_end OPERATOR(pg_catalog.>) cutoff;
            EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM mtcbind.%I', part.relname) INTO rows;
            removed := removed OPERATOR(pg_catalog.+) rows;
            dropped := dropped OPERATOR(pg_catalog.||) part.relname::text;
        END LOOP;
        -- Dropping a partition locks the whole log: only when it is free,
        -- and then only for the drops.
        IF pg_catalog.cardinality(dropped) OPERATOR(pg_catalog.>) 0 THEN
            PERFORM mtcbind._lock_event_table('mtcbind.binding_event');
            FOREACH part_name IN ARRAY dropped LOOP
                EXECUTE pg_catalog.format('DROP TABLE mtcbind.%I', part_name);
            END LOOP;
        END IF;
    ELSE
        removed := mtcbind._delete_events('mtcbind.binding_event', cutoff, kinds);
    END IF;

    INSERT INTO mtcbind.binding_event (event, reason, detail)
    VALUES ('events_purged', reason,
            pg_catalog.jsonb_build_object('cutoff', cutoff, 'kinds', kinds,
                                          'partitions_dropped', dropped, 'events_removed', removed));
    RETURN removed;
END
$purge$;

COMMENT ON FUNCTION mtcbind.purge_events(interval, text, text[]) IS
    'Retention: removes events older than older_than (whole day partitions, or only the given kinds) and records the purge';

------------------------------------------------------------------------------
-- The NAF request (C, src/request.c): decide bind / grant / reject, derive
-- Ks_local
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
-- Administration (C, src/admin.c and src/blocks.c): every rule shared with
-- request_key lives once, in src/decision.c.
------------------------------------------------------------------------------

CREATE FUNCTION mtcbind.bind(
    terminal_id text,
    iccid       mtcbind.iccid,
    imei        mtcbind.imei   DEFAULT NULL,
    imeisv      mtcbind.imeisv DEFAULT NULL,
    imsi        mtcbind.imsi   DEFAULT NULL,
    note        text           DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'mtcbind_bind'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION mtcbind.bind(text, mtcbind.iccid, mtcbind.imei, mtcbind.imeisv, mtcbind.imsi, text) IS
    'Pre-provisions a binding; returns its id (the existing one for a pair already bound to each other); MB001/MB002 on conflict';

CREATE FUNCTION mtcbind.unbind(iccid mtcbind.iccid, reason text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'mtcbind_unbind'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION mtcbind.unbind(mtcbind.iccid, text) IS
    'Frees a UICC and its device for new bindings (a card reused); for a stolen, lost or retired card use block_uicc';

CREATE FUNCTION mtcbind.authorize_transfer(
    iccid           mtcbind.iccid,
    new_terminal_id text     DEFAULT NULL,
    valid_for       interval DEFAULT '1 day',
    reason          text     DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'mtcbind_authorize_transfer'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION mtcbind.authorize_transfer(mtcbind.iccid, text, interval, text) IS
    'Lets the next request_key for this UICC from new_terminal_id (or any unbound device) within valid_for move the binding, once';

CREATE FUNCTION mtcbind.rebind(iccid mtcbind.iccid, new_terminal_id text, reason text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'mtcbind_rebind'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION mtcbind.rebind(mtcbind.iccid, text, text) IS
    'Moves the binding of a UICC to another device now; the new device''s identities are recorded at its first request';

CREATE FUNCTION mtcbind.block_uicc(iccid mtcbind.iccid, reason text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'mtcbind_block_uicc'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION mtcbind.block_uicc(mtcbind.iccid, text) IS
    'Blocks a card (stolen, lost, retired): no request gets a key with it and nothing can bind it until unblock_uicc';

CREATE FUNCTION mtcbind.block_device(terminal_id text, reason text, imei mtcbind.imei DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'mtcbind_block_device'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION mtcbind.block_device(text, text, mtcbind.imei) IS
    'Blocks a device by terminal_id and by IMEI (given, or recorded on its binding); terminal_id may be NULL to block an IMEI alone';

CREATE FUNCTION mtcbind.unblock_uicc(iccid mtcbind.iccid, reason text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'mtcbind_unblock_uicc'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION mtcbind.unblock_uicc(mtcbind.iccid, text) IS
    'Lifts the block of a card; true if there was one';

CREATE FUNCTION mtcbind.unblock_device(terminal_id text, reason text, imei mtcbind.imei DEFAULT NULL)
RETURNS boolean
AS 'MODULE_PATHNAME', 'mtcbind_unblock_device'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION mtcbind.unblock_device(text, text, mtcbind.imei) IS
    'Lifts the block of a device (its terminal_id and the IMEI blocked with it, or an IMEI alone); true if there was one';

CREATE FUNCTION mtcbind.set_policy(name text, value text, reason text)
RETURNS void
AS 'MODULE_PATHNAME', 'mtcbind_set_policy'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION mtcbind.set_policy(text, text, text) IS
    'Sets (value) or removes (NULL) a policy stored with the data: first_use (bind | reject), max_key_lifetime (an interval)';

CREATE FUNCTION mtcbind.settings(
    OUT name text, OUT setting text, OUT database_policy text, OUT in_effect text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'mtcbind_settings'
LANGUAGE C STABLE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION mtcbind.settings() IS
    'Each mtcbind setting, the database policy for it, and what request_key uses';

------------------------------------------------------------------------------
-- DROP EXTENSION must not silently destroy bindings and their history
------------------------------------------------------------------------------
-- SECURITY DEFINER: it reads mtcbind's tables whoever runs the DDL (the
-- owner of another extension dropping it with CASCADE, for one).
CREATE FUNCTION mtcbind.drop_guard() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'mtcbind_drop_guard'
    LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE EVENT TRIGGER mtcbind_drop_guard ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION', 'DROP OWNED', 'DROP TABLE', 'DROP LANGUAGE',
                 'ALTER EXTENSION', 'ALTER TABLE')
    EXECUTE FUNCTION mtcbind.drop_guard();
-- Also with session_replication_role = replica (a restore, pg_restore --clean).
ALTER EVENT TRIGGER mtcbind_drop_guard ENABLE ALWAYS;

-- mtcbind.reason is one session's word about its own change.  Its check
-- refuses a function's SET clause, but only once the library is loaded in
-- the session that creates the function; this catches the rest.
CREATE FUNCTION mtcbind.reason_guard() RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $reason_guard$
DECLARE
    fn regprocedure;
BEGIN
    SELECT p.oid INTO fn
      FROM pg_catalog.pg_event_trigger_ddl_commands() c
      JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) c.objid
     WHERE c.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
       AND EXISTS (SELECT FROM pg_catalog.unnest(p.proconfig) setting
                    WHERE setting OPERATOR(pg_catalog.~~) 'mtcbind.reason=%')
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'function % sets mtcbind.reason', fn
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'mtcbind.reason can only be set for a session (SET, or the connection''s options).',
                  HINT = 'A default reason would be recorded for changes made by anyone who calls the function.';
    END IF;
END
$reason_guard$;

CREATE EVENT TRIGGER mtcbind_reason_guard ON ddl_command_end
    WHEN TAG IN ('CREATE FUNCTION', 'ALTER FUNCTION', 'CREATE PROCEDURE', 'ALTER PROCEDURE')
    EXECUTE FUNCTION mtcbind.reason_guard();
ALTER EVENT TRIGGER mtcbind_reason_guard ENABLE ALWAYS;

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
       b.blocked,
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

COMMENT ON VIEW mtcbind.bindings IS 'One readable row per binding, with its age, last key issue and block';

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
REVOKE ALL ON FUNCTION mtcbind.block_uicc(mtcbind.iccid, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind.block_device(text, text, mtcbind.imei) FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind.unblock_uicc(mtcbind.iccid, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind.unblock_device(text, text, mtcbind.imei) FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind.set_policy(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind.settings() FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind.maintain_event_log(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind.purge_events(interval, text, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind._delete_events(regclass, timestamptz, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind._prepare_event_partition(name) FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind._lock_event_table(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind._check_reason(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind.binding_guard() FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind.binding_lock_order() FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind.binding_audit() FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind.blocklist_audit() FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind.policy_audit() FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind.event_append_only() FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind.drop_guard() FROM PUBLIC;
REVOKE ALL ON FUNCTION mtcbind.reason_guard() FROM PUBLIC;

GRANT EXECUTE ON FUNCTION mtcbind.request_key(bytea, text, bytea, timestamptz, text, mtcbind.iccid,
    mtcbind.imei, mtcbind.imeisv, mtcbind.imsi, text, text) TO mtcbind_naf;

GRANT EXECUTE ON FUNCTION mtcbind.bind(text, mtcbind.iccid, mtcbind.imei, mtcbind.imeisv, mtcbind.imsi, text) TO mtcbind_admin;
GRANT EXECUTE ON FUNCTION mtcbind.unbind(mtcbind.iccid, text) TO mtcbind_admin;
GRANT EXECUTE ON FUNCTION mtcbind.authorize_transfer(mtcbind.iccid, text, interval, text) TO mtcbind_admin;
GRANT EXECUTE ON FUNCTION mtcbind.rebind(mtcbind.iccid, text, text) TO mtcbind_admin;
GRANT EXECUTE ON FUNCTION mtcbind.block_uicc(mtcbind.iccid, text) TO mtcbind_admin;
GRANT EXECUTE ON FUNCTION mtcbind.block_device(text, text, mtcbind.imei) TO mtcbind_admin;
GRANT EXECUTE ON FUNCTION mtcbind.unblock_uicc(mtcbind.iccid, text) TO mtcbind_admin;
GRANT EXECUTE ON FUNCTION mtcbind.unblock_device(text, text, mtcbind.imei) TO mtcbind_admin;
GRANT EXECUTE ON FUNCTION mtcbind.maintain_event_log(integer) TO mtcbind_admin;
GRANT EXECUTE ON FUNCTION mtcbind.settings() TO mtcbind_admin, mtcbind_auditor;
GRANT SELECT ON mtcbind.binding, mtcbind.binding_event, mtcbind.transfer_authorization,
                mtcbind.blocklist, mtcbind.policy, mtcbind.bindings TO mtcbind_admin;

GRANT SELECT ON mtcbind.binding, mtcbind.binding_event, mtcbind.transfer_authorization,
                mtcbind.blocklist, mtcbind.policy, mtcbind.bindings TO mtcbind_auditor;
