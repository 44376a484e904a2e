--
-- plpgsql_contract.sql: the alternative a user would write instead of
-- mtcbind's C: the whole request_key contract in PL/pgSQL, with pgcrypto's
-- hmac() for the TS 33.220 KDF.  Not part of the extension; it exists to be
-- checked against mtcbind (test/bench/plpgsql_check.sql) and then timed
-- (test/bench/plpgsql_*.sql).
--
-- Needs mtcbind (its identifier types, its settings mtcbind.first_use,
-- mtcbind.key_lifetime and mtcbind.log_key_issue) and pgcrypto.  Creates
-- schema alt afresh (an existing one is dropped with everything in it):
--
--   alt.binding, alt.blocklist, alt.transfer_authorization, alt.policy
--       copies of mtcbind's tables (LIKE ... INCLUDING ALL, own sequences,
--       the foreign key written out);
--   alt.binding_event
--       a plain table shaped like one day partition of mtcbind.binding_event,
--       with a day partition's indexes (copied from one: run
--       mtcbind.maintain_event_log first) and the append-only guard;
--   alt.request_key(...)
--       mtcbind.request_key's signature and result, and its decision: same
--       outcomes, reasons, binding ids, events (columns, reasons, detail),
--       expiry and Ks_local layout (docs/kdf.md).  Refusals are announced
--       with NOTIFY alt_rejected, with mtcbind's payload
--       {"reason": ..., "event_id": ...}; the channel is alt's own so that
--       a listener on mtcbind_rejected never reads an event id of the other
--       log.
--
-- Every event is written by one function, alt._log_event, so that a change
-- of the event storage touches that function only.
--
-- What alt does not do (mtcbind's administration functions and triggers):
-- bind/unbind/transfer/block functions, auditing of a DBA's DML, the
-- binding.blocked flag (alt.request_key reads alt.blocklist itself, so a
-- block needs no flag and no lock order), the fast path around SQL.  The
-- tables are written by hand for those cases (see plpgsql_check.sql).
--
-- Concurrency (READ COMMITTED, each statement sees what committed before
-- it): a first use inserts with ON CONFLICT DO NOTHING and decides again
-- when it lost; recording new identities and counting a key are UPDATEs
-- whose WHERE says the row is still as read (for new identities: also its
-- IMEI, IMEISV and IMSI), deciding again when they match nothing; a
-- transfer locks the binding row (SELECT ... FOR UPDATE), then spends the
-- authorisation, then moves the binding.  A unique violation (another
-- binding took the IMEI, IMSI or terminal_id meanwhile) is caught in the
-- two blocks that can raise it.  Ten lost races in a row raise 40001, as
-- mtcbind does.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
DROP SCHEMA IF EXISTS alt CASCADE;
CREATE SCHEMA alt;
REVOKE ALL ON SCHEMA alt FROM PUBLIC;

------------------------------------------------------------------------------
-- Tables: mtcbind's, with sequences of their own
------------------------------------------------------------------------------
CREATE TABLE alt.binding (LIKE mtcbind.binding INCLUDING ALL);
CREATE SEQUENCE alt.binding_binding_id_seq OWNED BY alt.binding.binding_id;
ALTER TABLE alt.binding
    ALTER binding_id SET DEFAULT pg_catalog.nextval('alt.binding_binding_id_seq'::pg_catalog.regclass);

CREATE TABLE alt.blocklist (LIKE mtcbind.blocklist INCLUDING ALL);
CREATE SEQUENCE alt.blocklist_block_id_seq OWNED BY alt.blocklist.block_id;
ALTER TABLE alt.blocklist
    ALTER block_id SET DEFAULT pg_catalog.nextval('alt.blocklist_block_id_seq'::pg_catalog.regclass);

CREATE TABLE alt.transfer_authorization (LIKE mtcbind.transfer_authorization INCLUDING ALL);
CREATE SEQUENCE alt.transfer_authorization_id_seq
    OWNED BY alt.transfer_authorization.authorization_id;
ALTER TABLE alt.transfer_authorization
    ALTER authorization_id SET DEFAULT pg_catalog.nextval('alt.transfer_authorization_id_seq'::pg_catalog.regclass),
    ADD CONSTRAINT transfer_authorization_binding_id_fkey FOREIGN KEY (binding_id)
        REFERENCES alt.binding (binding_id) ON DELETE CASCADE;

CREATE TABLE alt.policy (LIKE mtcbind.policy INCLUDING ALL);

-- LIKE copies no storage parameters: give each table mtcbind's (the
-- binding's fillfactor makes a re-key's update HOT), before any row.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT a.oid::regclass AS copy, m.reloptions
               FROM pg_class a JOIN pg_class m ON m.relname = a.relname
              WHERE a.relnamespace = 'alt'::regnamespace AND m.relnamespace = 'mtcbind'::regnamespace
                AND a.relkind = 'r' AND m.reloptions IS NOT NULL LOOP
        EXECUTE format('ALTER TABLE %s SET (%s)', t.copy, array_to_string(t.reloptions, ', '));
    END LOOP;
END
$$;

-- The event log: one day partition of mtcbind.binding_event, as a plain table.
CREATE TABLE alt.binding_event
    (LIKE mtcbind.binding_event INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE SEQUENCE alt.binding_event_event_id_seq OWNED BY alt.binding_event.event_id;
ALTER TABLE alt.binding_event
    ALTER event_id SET DEFAULT pg_catalog.nextval('alt.binding_event_event_id_seq'::pg_catalog.regclass);
-- The indexes of a day partition (mtcbind._prepare_event_partition makes
-- them; 1.0 and 1.1 differ), copied from the newest day partition, or from
-- the default partition without the index only it has.
DO $$
DECLARE
    part  regclass;
    stem  text;
    idx   record;
BEGIN
    SELECT c.oid::regclass, c.relname INTO part, stem
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'mtcbind.binding_event'::regclass
       AND c.relname <> 'binding_event_default'
     ORDER BY c.relname DESC
     LIMIT 1;
    IF part IS NULL THEN
        part := 'mtcbind.binding_event_default'::regclass;
        stem := 'binding_event_default';
    END IF;
    FOR idx IN
        SELECT ic.relname AS name, x.indisunique AS is_unique,
               substring(pg_get_indexdef(x.indexrelid) FROM ' USING .*$') AS spec
          FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid
         WHERE x.indrelid = part AND ic.relname <> 'binding_event_default_occurred_at_idx'
         ORDER BY ic.relname
    LOOP
        EXECUTE format('CREATE %sINDEX %I ON alt.binding_event %s',
                       CASE WHEN idx.is_unique THEN 'UNIQUE ' ELSE '' END,
                       replace(idx.name, stem, 'binding_event'), idx.spec);
    END LOOP;
END
$$;

-- Append-only, as mtcbind's log (its guard fires on UPDATE, DELETE and
-- TRUNCATE only, so it costs an insert nothing).
CREATE FUNCTION alt._event_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION 'alt.binding_event is append-only'
        USING ERRCODE = 'MB010', DETAIL = pg_catalog.format('%s is not allowed on the audit log.', TG_OP);
END
$$;
CREATE TRIGGER binding_event_append_only BEFORE UPDATE OR DELETE ON alt.binding_event
    FOR EACH ROW EXECUTE FUNCTION alt._event_append_only();
CREATE TRIGGER binding_event_no_truncate BEFORE TRUNCATE ON alt.binding_event
    FOR EACH STATEMENT EXECUTE FUNCTION alt._event_append_only();

------------------------------------------------------------------------------
-- Helpers
------------------------------------------------------------------------------

-- The one writer of events.  Its parameters are the columns mtcbind's
-- audit_record writes; occurred_at (clock_timestamp) and actor
-- (SESSION_USER) are the table's defaults.  Returns the event's id.
CREATE FUNCTION alt._log_event(
    event                text,
    binding_id           bigint,
    terminal_id          text,
    iccid                mtcbind.iccid,
    imei                 mtcbind.imei,
    imsi                 mtcbind.imsi,
    previous_terminal_id text,
    previous_iccid       mtcbind.iccid,
    key_expires_at       timestamptz,
    reason               text,
    naf_id               bytea,
    detail               jsonb)
RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    id bigint;
BEGIN
    INSERT INTO alt.binding_event AS e
        (event, binding_id, terminal_id, iccid, imei, imsi, previous_terminal_id,
         previous_iccid, key_expires_at, reason, naf_id, detail)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
    RETURNING e.event_id INTO id;
    RETURN id;
END
$$;

-- A TS 33.220 KDF parameter with its length: P || L, L two octets big-endian.
-- (Every parameter alt.request_key passes is at most 1024 octets.)
CREATE FUNCTION alt._kdf_param(p bytea) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT p OPERATOR(pg_catalog.||) pg_catalog.substr(pg_catalog.int4send(pg_catalog.octet_length(p)), 3)
$$;

-- A key lifetime in seconds as mtcbind counts it: months are 30 days (so a
-- year is 360 days, where extract(epoch) counts 365.25), days 24 hours.
CREATE FUNCTION alt._lifetime_seconds(lifetime text) RETURNS numeric
LANGUAGE sql STABLE STRICT AS $$
    SELECT pg_catalog.extract('epoch', lifetime::interval)
           OPERATOR(pg_catalog.-) (453600 OPERATOR(pg_catalog.*) pg_catalog.extract('year', lifetime::interval))
$$;

-- The old and new values of the binding columns mtcbind's audit compares,
-- for those that changed (the detail of rebound and attribute_changed).
CREATE FUNCTION alt._binding_change(old_row jsonb, new_row jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 THEN
               pg_catalog.jsonb_build_object('old', pg_catalog.jsonb_object_agg(o.key, o.value),
                                             'new', pg_catalog.jsonb_object_agg(o.key, n.value))
           END
      FROM pg_catalog.jsonb_each(old_row) o
      JOIN pg_catalog.jsonb_each(new_row) n ON n.key OPERATOR(pg_catalog.=) o.key
     WHERE o.key OPERATOR(pg_catalog.=) ANY (ARRAY['binding_id', 'terminal_id', 'iccid', 'imei',
               'imeisv', 'imsi', 'terminal_appli_id', 'uicc_appli_id', 'note', 'created_at',
               'created_by'])
       AND o.value IS DISTINCT FROM n.value
$$;

------------------------------------------------------------------------------
-- The request
------------------------------------------------------------------------------
CREATE FUNCTION alt.request_key(
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
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp   -- pgcrypto's schema is added below
ROWS 1
AS $request$
DECLARE
    device_imei      mtcbind.imei := request_key.imei;  -- given, or the IMEISV's
    kdf_prefix       bytea;         -- FC || P0 L0 .. P4 L4; RANDx, RANDy come at issue
    first_use_reject boolean;
    log_keys         boolean;
    policy_first_use text;
    policy_lifetime  text;
    lifetime         numeric;       -- seconds
    policy_seconds   numeric;
    clock            timestamptz;
    -- the UICC's binding as read, and a block on the request's identities
    held_id          bigint;
    held_terminal    text;
    held_imei        mtcbind.imei;
    held_imeisv      mtcbind.imeisv;
    held_imsi        mtcbind.imsi;
    block            bigint;
    block_is_uicc    boolean;
    -- what stands in the way, and the refusal
    device_id        bigint;
    owner_id         bigint;
    refusal          text;
    device_binding   bigint;
    uicc_binding     bigint;
    refused_binding  bigint;
    -- writes
    new_id           bigint;
    changed_id       bigint;
    old_row          jsonb;
    new_row          jsonb;
    news_imei        boolean;
    news_imeisv      boolean;
    news_imsi        boolean;
    why              text;
    transfer_id      bigint;
    transfer_to      text;
    transfer_reason  text;
    unexplained      integer := 0;
    event_id         bigint;
    rands            bytea;
BEGIN
    -- A transaction snapshot could show a binding another transaction has
    -- since moved.
    IF pg_catalog.current_setting('transaction_isolation') IN ('repeatable read', 'serializable') THEN
        RAISE EXCEPTION 'alt.request_key runs only at the READ COMMITTED isolation level'
            USING ERRCODE = 'feature_not_supported';
    END IF;

    -- Every argument is checked before a table is touched.
    IF naf_id IS NULL THEN
        RAISE EXCEPTION 'naf_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF b_tid IS NULL THEN
        RAISE EXCEPTION 'b_tid must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF ks_int_naf IS NULL THEN
        RAISE EXCEPTION 'ks_int_naf must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF ks_int_naf_expiry IS NULL THEN
        RAISE EXCEPTION 'ks_int_naf_expiry must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF iccid IS NULL THEN
        RAISE EXCEPTION 'iccid must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF terminal_appli_id IS NULL THEN
        RAISE EXCEPTION 'terminal_appli_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF uicc_appli_id IS NULL THEN
        RAISE EXCEPTION 'uicc_appli_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF octet_length(naf_id) < 6 THEN
        RAISE EXCEPTION 'naf_id is too short' USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('It has %s octets; a NAF_Id is the NAF''s FQDN followed by the 5-octet Ua security protocol identifier, so at least 6.', octet_length(naf_id));
    ELSIF octet_length(naf_id) > 260 THEN
        RAISE EXCEPTION 'naf_id has an invalid length' USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('It has %s octets; from 6 to 260 are allowed.', octet_length(naf_id));
    -- the FQDN must be UTF-8 with no NUL: checked on its hex form, without
    -- raising (catching convert_from's error would cost a subtransaction)
    ELSIF encode(substring(naf_id FROM 1 FOR octet_length(naf_id) - 5), 'hex') !~
          '^(0[1-9a-f]|[1-7][0-9a-f]|c[2-9a-f][89ab][0-9a-f]|d[0-9a-f][89ab][0-9a-f]|e0[ab][0-9a-f][89ab][0-9a-f]|e[1-9abcef][89ab][0-9a-f][89ab][0-9a-f]|ed[89][0-9a-f][89ab][0-9a-f]|f0[9ab][0-9a-f][89ab][0-9a-f][89ab][0-9a-f]|f[1-3][89ab][0-9a-f][89ab][0-9a-f][89ab][0-9a-f]|f48[0-9a-f][89ab][0-9a-f][89ab][0-9a-f])*$' THEN
        RAISE EXCEPTION 'naf_id does not start with a UTF-8 FQDN' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF octet_length(b_tid) < 1 THEN
        RAISE EXCEPTION 'b_tid must not be empty' USING ERRCODE = 'invalid_parameter_value';
    ELSIF octet_length(b_tid) > 1024 THEN
        RAISE EXCEPTION 'b_tid has an invalid length' USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('It has %s octets; from 1 to 1024 are allowed.', octet_length(b_tid));
    END IF;
    IF octet_length(ks_int_naf) <> 32 THEN
        RAISE EXCEPTION 'ks_int_naf must be 32 octets, got %', octet_length(ks_int_naf)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF terminal_id IS NULL THEN
        RAISE EXCEPTION 'terminal_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF octet_length(terminal_id) < 1 THEN
        RAISE EXCEPTION 'terminal_id must not be empty' USING ERRCODE = 'invalid_parameter_value';
    ELSIF octet_length(terminal_id) > 255 THEN
        RAISE EXCEPTION 'terminal_id has an invalid length' USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('It has %s octets; from 1 to 255 are allowed.', octet_length(terminal_id));
    END IF;
    IF imeisv IS NOT NULL THEN
        IF imei IS NOT NULL AND imei <> mtcbind.imei(imeisv) THEN
            RAISE EXCEPTION 'imeisv does not belong to imei' USING ERRCODE = 'invalid_parameter_value',
                DETAIL = format('IMEISV %s names the device with IMEI %s, not %s.',
                                imeisv, mtcbind.imei(imeisv), imei);
        END IF;
        device_imei := mtcbind.imei(imeisv);
    END IF;
    IF octet_length(terminal_appli_id) > 255 THEN
        RAISE EXCEPTION 'terminal_appli_id has an invalid length' USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('It has %s octets; from 0 to 255 are allowed.', octet_length(terminal_appli_id));
    END IF;
    IF octet_length(uicc_appli_id) > 255 THEN
        RAISE EXCEPTION 'uicc_appli_id has an invalid length' USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('It has %s octets; from 0 to 255 are allowed.', octet_length(uicc_appli_id));
    END IF;
    -- Texts enter the KDF as UTF-8 (a text with no UTF-8 form fails here,
    -- before any write); the ICCID as its canonical digits.
    kdf_prefix := '\x01'::bytea
        || alt._kdf_param(convert_to(b_tid, 'UTF8'))
        || alt._kdf_param(convert_to(iccid::text, 'UTF8'))
        || alt._kdf_param(convert_to(terminal_id, 'UTF8'))
        || alt._kdf_param(convert_to(terminal_appli_id, 'UTF8'))
        || alt._kdf_param(convert_to(uicc_appli_id, 'UTF8'));

    -- Settings and the database's policy, which can only tighten them.
    SELECT max(p.value) FILTER (WHERE p.name = 'first_use'),
           max(p.value) FILTER (WHERE p.name = 'max_key_lifetime')
      INTO policy_first_use, policy_lifetime
      FROM alt.policy p;
    first_use_reject := coalesce(current_setting('mtcbind.first_use', true), 'bind') = 'reject'
                        OR coalesce(policy_first_use, 'bind') <> 'bind';
    log_keys := coalesce(nullif(current_setting('mtcbind.log_key_issue', true), ''), 'on')::boolean;
    lifetime := alt._lifetime_seconds(coalesce(nullif(current_setting('mtcbind.key_lifetime', true), ''), '1 day'));
    IF policy_lifetime IS NOT NULL THEN
        BEGIN
            policy_seconds := alt._lifetime_seconds(policy_lifetime);
        EXCEPTION WHEN data_exception THEN
            policy_seconds := NULL;
        END;
        IF policy_seconds IS NULL OR policy_seconds <= 0 OR policy_seconds > 3650 * 86400 THEN
            RAISE EXCEPTION 'alt.policy holds an invalid max_key_lifetime'
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'It must be a positive interval of at most 10 years.';
        END IF;
        lifetime := least(lifetime, policy_seconds);
    END IF;

    -- Expiry is judged by the wall clock at the request.
    clock := clock_timestamp();
    IF ks_int_naf_expiry <= clock THEN
        refusal := 'bootstrap_expired';
    END IF;

    <<decide>>
    FOR attempt IN 1 .. CASE WHEN refusal IS NULL THEN 10 ELSE 0 END LOOP
        -- The UICC's binding, and a block on the card, on the device (by
        -- terminal_id or IMEI), or on the IMEI the pair's own binding
        -- records (a request may leave the IMEI out); a card's block first.
        SELECT b.binding_id, b.terminal_id, b.imei, b.imeisv, b.imsi, k.block_id, k.is_uicc
          INTO held_id, held_terminal, held_imei, held_imeisv, held_imsi, block, block_is_uicc
          FROM (SELECT) one
          LEFT JOIN alt.binding b ON b.iccid = request_key.iccid
          LEFT JOIN LATERAL (
                SELECT k.block_id, k.iccid IS NOT NULL AS is_uicc
                  FROM alt.blocklist k
                 WHERE k.iccid = request_key.iccid
                    OR k.terminal_id = request_key.terminal_id
                    OR k.imei = device_imei
                    OR (k.imei = b.imei AND b.terminal_id = request_key.terminal_id)
                 ORDER BY k.iccid IS NOT NULL DESC, k.block_id
                 LIMIT 1) k ON true;
        IF block IS NOT NULL THEN
            refusal := CASE WHEN block_is_uicc THEN 'uicc_blocked' ELSE 'device_blocked' END;
            EXIT decide;
        END IF;

        IF held_id IS NULL THEN
            -- Nothing holds the UICC: the device (terminal_id first, else
            -- its IMEI) or the card's IMSI may be bound elsewhere.
            SELECT b.binding_id INTO device_id
              FROM alt.binding b
             WHERE b.terminal_id = request_key.terminal_id OR b.imei = device_imei
             ORDER BY b.terminal_id = request_key.terminal_id DESC
             LIMIT 1;
            IF device_id IS NOT NULL THEN
                refusal := 'device_bound_elsewhere';
                device_binding := device_id;
                EXIT decide;
            END IF;
            IF imsi IS NOT NULL THEN
                SELECT b.binding_id INTO owner_id FROM alt.binding b WHERE b.imsi = request_key.imsi;
                IF owner_id IS NOT NULL THEN
                    refusal := 'uicc_bound_elsewhere';
                    uicc_binding := owner_id;
                    EXIT decide;
                END IF;
            END IF;
            IF first_use_reject THEN
                refusal := 'not_provisioned';
                EXIT decide;
            END IF;
            -- First use.  A concurrent first use of the same UICC, device,
            -- IMEI or IMSI wins here, and the next pass sees it; a conflict
            -- the next pass cannot explain either is on binding_id alone.
            INSERT INTO alt.binding AS b
                (terminal_id, iccid, imei, imeisv, imsi, terminal_appli_id, uicc_appli_id,
                 last_key_at, key_count)
            VALUES (request_key.terminal_id, request_key.iccid, device_imei, request_key.imeisv,
                    request_key.imsi, request_key.terminal_appli_id, request_key.uicc_appli_id,
                    CASE WHEN log_keys THEN clock END, CASE WHEN log_keys THEN 1 ELSE 0 END)
            ON CONFLICT DO NOTHING
            RETURNING b.binding_id INTO new_id;
            IF new_id IS NULL THEN
                unexplained := unexplained + 1;
                IF unexplained >= 2 THEN
                    RAISE EXCEPTION 'alt.binding_binding_id_seq is behind the ids in alt.binding'
                        USING ERRCODE = 'MB005', DETAIL = 'New bindings draw ids that are already taken.';
                END IF;
                CONTINUE decide;
            END IF;
            PERFORM alt._log_event('bound', new_id, terminal_id, iccid, device_imei, imsi,
                                   NULL, NULL, NULL, 'first use (mtcbind.first_use = bind)', naf_id,
                                   nullif(jsonb_strip_nulls(jsonb_build_object(
                                       'imeisv', imeisv::text,
                                       'terminal_appli_id', nullif(terminal_appli_id, ''),
                                       'uicc_appli_id', nullif(uicc_appli_id, ''))), '{}'));
            outcome := 'bound';
            binding_id := new_id;
            EXIT decide;

        ELSIF held_terminal = terminal_id THEN
            -- The pair's own binding.  A recorded IMEI that differs is
            -- another device.
            IF device_imei IS NOT NULL AND held_imei IS NOT NULL AND device_imei <> held_imei THEN
                refusal := 'identity_mismatch';
                device_binding := held_id;
                uicc_binding := held_id;
                EXIT decide;
            END IF;
            -- A first IMEI, a new IMEISV (software update) or IMSI
            -- (multi-IMSI card) is recorded.
            news_imei := device_imei IS NOT NULL AND held_imei IS NULL;
            news_imeisv := imeisv IS NOT NULL AND held_imeisv IS DISTINCT FROM imeisv;
            news_imsi := imsi IS NOT NULL AND held_imsi IS DISTINCT FROM imsi;
            IF news_imei OR news_imeisv OR news_imsi THEN
                why := concat(CASE WHEN news_imei THEN 'IMEI recorded, ' END,
                              CASE WHEN news_imeisv THEN
                                  CASE WHEN held_imeisv IS NULL THEN 'IMEISV recorded, ' ELSE 'IMEISV changed, ' END END,
                              CASE WHEN news_imsi THEN
                                  CASE WHEN held_imsi IS NULL THEN 'IMSI recorded, ' ELSE 'IMSI changed, ' END END,
                              'reported by request_key');
                BEGIN
                    UPDATE alt.binding AS b
                       SET imei = coalesce(b.imei, device_imei),
                           imeisv = coalesce(request_key.imeisv, b.imeisv),
                           imsi = coalesce(request_key.imsi, b.imsi),
                           updated_at = clock_timestamp(),
                           last_key_at = CASE WHEN log_keys THEN clock ELSE b.last_key_at END,
                           key_count = b.key_count + CASE WHEN log_keys THEN 1 ELSE 0 END
                     WHERE b.binding_id = held_id
                       AND b.terminal_id = request_key.terminal_id
                       AND b.imei IS NOT DISTINCT FROM held_imei
                       AND b.imeisv IS NOT DISTINCT FROM held_imeisv
                       AND b.imsi IS NOT DISTINCT FROM held_imsi
                    RETURNING to_jsonb(b) INTO new_row;
                EXCEPTION WHEN unique_violation THEN
                    -- The new IMEI or IMSI is another binding's: name it.
                    refusal := 'identity_mismatch';
                END;
                IF refusal IS NOT NULL THEN
                    owner_id := NULL;
                    IF device_imei IS NOT NULL THEN
                        SELECT b.binding_id INTO owner_id FROM alt.binding b WHERE b.imei = device_imei;
                        IF owner_id IS DISTINCT FROM held_id THEN
                            device_binding := owner_id;
                        END IF;
                    END IF;
                    IF device_binding IS NULL AND imsi IS NOT NULL THEN
                        owner_id := NULL;
                        SELECT b.binding_id INTO owner_id FROM alt.binding b WHERE b.imsi = request_key.imsi;
                        IF owner_id IS DISTINCT FROM held_id THEN
                            uicc_binding := owner_id;
                        END IF;
                    END IF;
                    IF device_binding IS NULL AND uicc_binding IS NULL THEN
                        refused_binding := held_id;
                    END IF;
                    EXIT decide;
                END IF;
                IF new_row IS NULL THEN
                    CONTINUE decide;        -- the binding changed since it was read
                END IF;
                PERFORM alt._log_event('attribute_changed', held_id, terminal_id, iccid,
                                       coalesce(held_imei, device_imei), coalesce(imsi, held_imsi),
                                       NULL, NULL, NULL, why, naf_id,
                                       alt._binding_change(
                                           new_row || jsonb_build_object('imei', held_imei::text,
                                                                         'imeisv', held_imeisv::text,
                                                                         'imsi', held_imsi::text),
                                           new_row));
            ELSIF log_keys THEN
                -- Count the key on the binding (never the key).
                changed_id := NULL;
                UPDATE alt.binding AS b
                   SET last_key_at = clock, key_count = b.key_count + 1
                 WHERE b.binding_id = held_id AND b.terminal_id = request_key.terminal_id
                RETURNING b.binding_id INTO changed_id;
                IF changed_id IS NULL THEN
                    CONTINUE decide;
                END IF;
            END IF;
            outcome := 'granted';
            binding_id := held_id;
            EXIT decide;

        ELSE
            -- The UICC is bound to another device.  A pending transfer
            -- authorisation for this (unbound) device moves the binding.
            SELECT b.binding_id INTO device_id
              FROM alt.binding b
             WHERE b.terminal_id = request_key.terminal_id OR b.imei = device_imei
             ORDER BY b.terminal_id = request_key.terminal_id DESC
             LIMIT 1;
            transfer_id := NULL;
            IF device_id IS NULL THEN
                SELECT t.authorization_id, t.new_terminal_id, t.reason
                  INTO transfer_id, transfer_to, transfer_reason
                  FROM alt.transfer_authorization t
                 WHERE t.binding_id = held_id
                   AND t.used_at IS NULL AND t.revoked_at IS NULL
                   AND t.valid_until > clock_timestamp();
            END IF;
            IF transfer_id IS NOT NULL AND (transfer_to IS NULL OR transfer_to = terminal_id) THEN
                -- An IMSI the new device reports must not be another card's.
                IF imsi IS NOT NULL THEN
                    owner_id := NULL;
                    SELECT b.binding_id INTO owner_id FROM alt.binding b WHERE b.imsi = request_key.imsi;
                    IF owner_id IS DISTINCT FROM held_id AND owner_id IS NOT NULL THEN
                        refusal := 'identity_mismatch';
                        uicc_binding := owner_id;
                        EXIT decide;
                    END IF;
                END IF;
                -- The binding row first, then the authorisation, then the move.
                new_row := NULL;
                BEGIN
                    SELECT to_jsonb(b) INTO old_row
                      FROM alt.binding b
                     WHERE b.binding_id = held_id AND b.terminal_id = held_terminal
                       FOR UPDATE;
                    IF FOUND THEN
                        changed_id := NULL;
                        UPDATE alt.transfer_authorization AS t
                           SET used_at = clock_timestamp(), used_by_terminal = request_key.terminal_id
                         WHERE t.authorization_id = transfer_id
                           AND t.used_at IS NULL AND t.revoked_at IS NULL
                           AND t.valid_until > clock_timestamp()
                        RETURNING t.authorization_id INTO changed_id;
                        IF changed_id IS NOT NULL THEN
                            UPDATE alt.binding AS b
                               SET terminal_id = request_key.terminal_id,
                                   imei = device_imei,
                                   imeisv = request_key.imeisv,
                                   imsi = coalesce(request_key.imsi, b.imsi),
                                   terminal_appli_id = request_key.terminal_appli_id,
                                   uicc_appli_id = request_key.uicc_appli_id,
                                   updated_at = clock_timestamp(),
                                   last_key_at = CASE WHEN log_keys THEN clock ELSE b.last_key_at END,
                                   key_count = b.key_count + CASE WHEN log_keys THEN 1 ELSE 0 END
                             WHERE b.binding_id = held_id
                            RETURNING to_jsonb(b) INTO new_row;
                        END IF;
                    END IF;
                EXCEPTION WHEN unique_violation THEN
                    new_row := NULL;        -- the device was bound meanwhile
                END;
                IF new_row IS NULL THEN
                    CONTINUE decide;
                END IF;
                PERFORM alt._log_event('rebound', held_id, terminal_id, iccid, device_imei,
                                       (new_row ->> 'imsi')::mtcbind.imsi,
                                       old_row ->> 'terminal_id', NULL, NULL,
                                       format('transfer authorisation %s used%s', transfer_id,
                                              ': ' || transfer_reason),
                                       naf_id, alt._binding_change(old_row, new_row));
                outcome := 'bound';
                binding_id := held_id;
                EXIT decide;
            END IF;
            refusal := CASE WHEN device_id = held_id THEN 'identity_mismatch'  -- the same device under another name
                            WHEN device_id IS NOT NULL THEN 'both_bound_elsewhere'
                            ELSE 'uicc_bound_elsewhere' END;
            device_binding := device_id;
            uicc_binding := held_id;
            EXIT decide;
        END IF;
    END LOOP;

    IF refusal IS NULL AND outcome IS NULL THEN
        RAISE EXCEPTION 'could not settle the binding decision after 10 attempts'
            USING ERRCODE = 'serialization_failure',
                  DETAIL = 'Concurrent changes to the same binding kept winning.',
                  HINT = 'Retry the request.';
    END IF;

    -- The decision may have waited for locks: a bootstrap that expired
    -- meanwhile gets no key (what was recorded stays).
    IF refusal IS NULL THEN
        clock := clock_timestamp();
        IF ks_int_naf_expiry <= clock THEN
            refusal := 'bootstrap_expired';
            refused_binding := binding_id;
        END IF;
    END IF;

    IF refusal IS NOT NULL THEN
        outcome := 'rejected';
        reason := refusal;
        binding_id := coalesce(refused_binding, uicc_binding, device_binding);
        event_id := alt._log_event('rejected', binding_id, terminal_id, iccid, device_imei, imsi,
                                   NULL, NULL, NULL, refusal, naf_id,
                                   nullif(jsonb_strip_nulls(jsonb_build_object(
                                       'device_binding_id', device_binding,
                                       'uicc_binding_id', uicc_binding,
                                       'block_id', block,
                                       'imeisv', imeisv::text)), '{}'));
        PERFORM pg_notify('alt_rejected',
                          jsonb_build_object('event_id', event_id, 'reason', refusal)::text);
        RETURN NEXT;
        RETURN;
    END IF;

    -- A key: it expires at the earlier of the lifetime from the last
    -- reading of the clock and the bootstrap's expiry.
    expires_at := least(clock + make_interval(secs => lifetime), ks_int_naf_expiry);
    IF log_keys THEN
        PERFORM alt._log_event('key_issued', binding_id, terminal_id, iccid, NULL, NULL,
                               NULL, NULL, expires_at, NULL, naf_id, NULL);
        IF ks_int_naf_expiry <= clock_timestamp() THEN
            RAISE EXCEPTION 'Ks_int_NAF expired while the request waited for the event log'
                USING ERRCODE = 'serialization_failure',
                      DETAIL = 'Nothing was recorded and no key was issued.';
        END IF;
    END IF;
    rands := gen_random_bytes(32);
    rand_x := substring(rands FROM 1 FOR 16);
    rand_y := substring(rands FROM 17 FOR 16);
    ks_local := hmac(kdf_prefix || rand_x || '\x0010'::bytea || rand_y || '\x0010'::bytea,
                     ks_int_naf, 'sha256');
    RETURN NEXT;
END
$request$;

COMMENT ON FUNCTION alt.request_key(bytea, text, bytea, timestamptz, text, mtcbind.iccid,
    mtcbind.imei, mtcbind.imeisv, mtcbind.imsi, text, text) IS
    'mtcbind.request_key written in PL/pgSQL with pgcrypto (benchmark alternative, test/bench)';

-- hmac() and gen_random_bytes() are found in pgcrypto's schema, after
-- pg_catalog; the tables are named with their schema.
SELECT quote_ident(n.nspname) AS alt_pgcrypto_schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'pgcrypto' \gset
ALTER FUNCTION alt.request_key(bytea, text, bytea, timestamptz, text, mtcbind.iccid,
    mtcbind.imei, mtcbind.imeisv, mtcbind.imsi, text, text)
    SET search_path = pg_catalog, :alt_pgcrypto_schema, pg_temp;

-- Privileges as mtcbind's: the NAF's role may call the request, nothing else.
REVOKE ALL ON ALL TABLES IN SCHEMA alt FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA alt FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA alt FROM PUBLIC;
GRANT USAGE ON SCHEMA alt TO mtcbind_naf;
GRANT EXECUTE ON FUNCTION alt.request_key(bytea, text, bytea, timestamptz, text, mtcbind.iccid,
    mtcbind.imei, mtcbind.imeisv, mtcbind.imsi, text, text) TO mtcbind_naf;
RESET client_min_messages;
