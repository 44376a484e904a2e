-- plan_uses_only_indexes(query): true if the query's plan reads through
-- indexes only (at least one index scan, no sequential scan).
CREATE FUNCTION pg_temp.plan_uses_only_indexes(q text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    line text;
    scans int := 0;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
        IF line ~ 'Seq Scan' THEN
            RETURN false;
        END IF;
        IF line ~ 'Index' THEN
            scans := scans + 1;
        END IF;
    END LOOP;
    RETURN scans > 0;
END $$;
