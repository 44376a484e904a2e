-- The claims of the scale-out design (docs/scale-out.md), as the trial builds
-- them on a Citus coordinator with two workers (scripts/citus_demo.sh).
--
-- mtcbind.binding cannot be distributed as it is: Citus wants every UNIQUE
-- constraint to contain the distribution column, and the binding has four
-- (terminal_id, iccid, imei, imsi).  So each identity that must be unique
-- gets a claim table of its own, distributed by that identity.  The trial
-- builds the two that carry "one binding per device" and "one binding per
-- UICC"; an IMEI claim and an IMSI claim would be built the same way.
--
-- The card claim is the binding: it holds what re-keying reads.  The device
-- claim only says "this device is taken, by this binding and this card".
-- Both use mtcbind's own types (CREATE EXTENSION mtcbind on the coordinator
-- is propagated to the workers by Citus).
SET client_min_messages = warning;

CREATE EXTENSION IF NOT EXISTS mtcbind;
CREATE EXTENSION IF NOT EXISTS pgcrypto;	-- RANDx, RANDy of the trial's re-keying

CREATE SCHEMA scaleout;

-- Drawn on whichever node runs the bind: Citus gives each node its own range
-- of a bigint sequence that is the default of a distributed table's column
-- (on a worker the values start at its group id << 48), so ids never collide.
CREATE SEQUENCE scaleout.binding_id_seq;

CREATE TABLE scaleout.card_claim (
    iccid       mtcbind.iccid NOT NULL,
    binding_id  bigint NOT NULL DEFAULT nextval('scaleout.binding_id_seq'),
    terminal_id text NOT NULL,
    imsi        mtcbind.imsi,
    blocked     boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT card_claim_pkey PRIMARY KEY (iccid),
    CONSTRAINT card_claim_terminal_id_check
        CHECK (octet_length(terminal_id) BETWEEN 1 AND 255)
);

CREATE TABLE scaleout.device_claim (
    terminal_id text NOT NULL,
    binding_id  bigint NOT NULL,
    iccid       mtcbind.iccid NOT NULL,
    imei        mtcbind.imei,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT device_claim_pkey PRIMARY KEY (terminal_id),
    CONSTRAINT device_claim_terminal_id_check
        CHECK (octet_length(terminal_id) BETWEEN 1 AND 255)
);

-- Eight shards each over two workers: four per worker.  The two tables
-- cannot be co-located (their distribution columns have different types,
-- and a pair's two keys hash independently anyway).
SELECT create_distributed_table('scaleout.card_claim', 'iccid', shard_count => 8);
SELECT create_distributed_table('scaleout.device_claim', 'terminal_id', shard_count => 8,
                                colocate_with => 'none');

-- The same two tables as plain PostgreSQL tables on the coordinator, in a
-- schema of their own under the same names: the single-node baseline of the
-- measurements runs the very same functions against them (functions.sql).
CREATE SCHEMA single;
CREATE SEQUENCE single.binding_id_seq;
CREATE TABLE single.card_claim (LIKE scaleout.card_claim INCLUDING CONSTRAINTS INCLUDING INDEXES);
ALTER TABLE single.card_claim
    ALTER binding_id SET DEFAULT nextval('single.binding_id_seq'),
    ALTER blocked SET DEFAULT false,
    ALTER created_at SET DEFAULT now();
CREATE TABLE single.device_claim (LIKE scaleout.device_claim INCLUDING CONSTRAINTS INCLUDING INDEXES);
ALTER TABLE single.device_claim ALTER created_at SET DEFAULT now();

-- The worker (its port) that holds the shard a value of a distribution
-- column falls in, as Citus's metadata says.
CREATE FUNCTION scaleout.node_of(rel regclass, value anyelement) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT n.nodeport
      FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
     WHERE p.shardid = get_shard_id_for_distribution_column(rel, value)
$$;

-- A valid ICCID from a number: '8949' || 14 digits || Luhn check digit, as
-- test/bench/ makes them (bench_rekey.sql computes the same in pgbench).
CREATE FUNCTION scaleout.iccid_of(n bigint) RETURNS mtcbind.iccid
LANGUAGE sql IMMUTABLE AS $$
    WITH d AS (SELECT '8949' || lpad(n::text, 14, '0') AS body)
    SELECT (body || ((10 - (SELECT sum(CASE WHEN i % 2 = 1
                                            THEN (2 * substr(reverse(body), i, 1)::int) / 10
                                                 + (2 * substr(reverse(body), i, 1)::int) % 10
                                            ELSE substr(reverse(body), i, 1)::int END)
                              FROM generate_series(1, length(body)) i) % 10) % 10)::text)::mtcbind.iccid
      FROM d
$$;
