-- pgbench (scripts/citus_demo.sh): one first use of a fresh pair per
-- transaction, through :fn (single.bind, scaleout.bind, scaleout.first_use or
-- scaleout.first_use_here).  The pair is the next of its kind (:kind: cross =
-- its claims on two workers, same = on one) from table :pool (the
-- coordinator's pool, or a worker's copy), counted by sequence :seq there.
-- Simple protocol: the pair reaches :fn as literals, which is what lets
-- Citus delegate scaleout.first_use by the card.
SELECT terminal_id AS t, iccid AS i FROM :pool
 WHERE kind = ':kind' AND id = (SELECT nextval(':seq')) \gset
SELECT :fn(':t', ':i');
