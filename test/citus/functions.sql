-- The trial's functions (docs/scale-out.md), made twice from one text: in
-- schema scaleout over the distributed claims, and in schema single over the
-- plain tables of the single-node baseline.  Each runs with its schema first
-- in search_path, so the same body names card_claim and device_claim.
--
--   bind(terminal_id, iccid)          both claims, card first, in the caller's
--                                     transaction; a taken card or device is a
--                                     unique_violation
--   first_use_here(terminal_id, iccid) the first-use decision on the node it is
--                                     called on: bind, or on unique_violation
--                                     (a subtransaction) say who holds what
--   first_use(terminal_id, iccid)     the same, delegated in scaleout to the
--                                     worker holding the card's shard
--   rekey(terminal_id, iccid, ks_int_naf, b_tid)
--                                     re-keying: read the card claim, derive
--                                     Ks_local with mtcbind.ks_local; delegated
--                                     in scaleout to the card's worker
-- Every function returns served_by, the port of the server that ran it.
SET client_min_messages = warning;

DO $make$
DECLARE
    s text;
BEGIN
    FOREACH s IN ARRAY ARRAY['scaleout', 'single'] LOOP
        -- Card claim first, device claim second: every binder takes the
        -- contested rows in this one order, so that two binds can wait for
        -- each other only one way (docs/scale-out.md, "Deadlock order").
        EXECUTE format($f$
            CREATE FUNCTION %1$I.bind(p_terminal_id text, p_iccid mtcbind.iccid)
            RETURNS bigint
            LANGUAGE plpgsql SET search_path = %1$I, pg_catalog AS $body$
            DECLARE
                id bigint;
            BEGIN
                INSERT INTO card_claim (iccid, terminal_id)
                     VALUES (p_iccid, p_terminal_id)
                  RETURNING card_claim.binding_id INTO id;
                INSERT INTO device_claim (terminal_id, binding_id, iccid)
                     VALUES (p_terminal_id, id, p_iccid);
                RETURN id;
            END
            $body$ $f$, s);

        EXECUTE format($f$
            CREATE FUNCTION %1$I.first_use_here(p_terminal_id text, p_iccid mtcbind.iccid,
                                               OUT outcome text, OUT reason text,
                                               OUT binding_id bigint, OUT served_by integer)
            LANGUAGE plpgsql SET search_path = %1$I, pg_catalog AS $body$
            DECLARE
                holder text;
            BEGIN
                served_by := current_setting('port')::integer;
                BEGIN
                    binding_id := bind(p_terminal_id, p_iccid);
                    outcome := 'bound';
                    RETURN;
                EXCEPTION WHEN unique_violation THEN
                    NULL;   -- another binding committed first; the next statements see it
                END;
                SELECT c.binding_id, c.terminal_id INTO binding_id, holder
                  FROM card_claim c WHERE c.iccid = p_iccid;
                IF FOUND THEN
                    outcome := CASE WHEN holder = p_terminal_id THEN 'granted' ELSE 'rejected' END;
                    reason := CASE WHEN holder = p_terminal_id THEN NULL ELSE 'uicc_bound_elsewhere' END;
                    RETURN;
                END IF;
                SELECT d.binding_id INTO binding_id
                  FROM device_claim d WHERE d.terminal_id = p_terminal_id;
                outcome := 'rejected';
                reason := 'device_bound_elsewhere';
            END
            $body$ $f$, s);

        EXECUTE format($f$
            CREATE FUNCTION %1$I.first_use(p_terminal_id text, p_iccid mtcbind.iccid,
                                          OUT outcome text, OUT reason text,
                                          OUT binding_id bigint, OUT served_by integer)
            LANGUAGE sql SET search_path = %1$I, pg_catalog AS $body$
                SELECT * FROM first_use_here(p_terminal_id, p_iccid)
            $body$ $f$, s);

        EXECUTE format($f$
            CREATE FUNCTION %1$I.rekey(p_terminal_id text, p_iccid mtcbind.iccid,
                                      p_ks_int_naf bytea, p_b_tid text,
                                      OUT outcome text, OUT ks_local bytea,
                                      OUT rand_x bytea, OUT rand_y bytea, OUT served_by integer)
            LANGUAGE plpgsql SET search_path = %1$I, pg_catalog AS $body$
            DECLARE
                holder text;
                is_blocked boolean;
            BEGIN
                served_by := current_setting('port')::integer;
                SELECT c.terminal_id, c.blocked INTO holder, is_blocked
                  FROM card_claim c WHERE c.iccid = p_iccid;
                IF NOT FOUND OR holder <> p_terminal_id OR is_blocked THEN
                    outcome := 'rejected';
                    RETURN;
                END IF;
                rand_x := public.gen_random_bytes(16);
                rand_y := public.gen_random_bytes(16);
                ks_local := mtcbind.ks_local(p_ks_int_naf, p_b_tid, p_iccid, p_terminal_id,
                                             '', '', rand_x, rand_y);
                outcome := 'granted';
            END
            $body$ $f$, s);
    END LOOP;
END
$make$;

-- On every node: bind and first_use_here run where they are called (on the
-- coordinator, or on a worker inside a delegated call).
SELECT create_distributed_function('scaleout.bind(text, mtcbind.iccid)');
SELECT create_distributed_function('scaleout.first_use_here(text, mtcbind.iccid)');

-- Delegated: a call on the coordinator (or on any node with metadata) runs on
-- the worker that holds the shard of the card claim for p_iccid.
SELECT create_distributed_function('scaleout.first_use(text, mtcbind.iccid)',
                                   distribution_arg_name => 'p_iccid',
                                   colocate_with => 'scaleout.card_claim');
SELECT create_distributed_function('scaleout.rekey(text, mtcbind.iccid, bytea, text)',
                                   distribution_arg_name => 'p_iccid',
                                   colocate_with => 'scaleout.card_claim');
