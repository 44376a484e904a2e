--
-- plpgsql_check.sql: before alt.request_key (test/bench/plpgsql_contract.sql)
-- is timed against mtcbind.request_key, check that it is the same contract.
--
-- On a database with mtcbind and alt installed, as a superuser (it changes
-- the mtcbind.* settings and the policy), in psql with ON_ERROR_STOP:
--
--     psql -X -v ON_ERROR_STOP=1 -f test/bench/plpgsql_check.sql
--
-- (scripts/bench/check_alt.sh makes a throwaway server, installs both, runs
-- this and also checks the NOTIFY payloads and a concurrent run.)
--
-- One sequence of requests goes through both implementations, each request
-- in a transaction of its own, mtcbind's first.  Administration that alt
-- has no function for (blocks, transfer authorisations, policy) is done with
-- mtcbind's function and mirrored into alt's tables by hand.  After every
-- request it raises an exception unless:
--   - mtcbind answers the outcome and reason the scenario expects, and alt
--     answers the same, naming the same binding (binding ids are compared
--     by the ICCID they bind, as the two sequences differ);
--   - a key is issued by both or neither; each key equals
--     mtcbind.ks_local(ks_int_naf, b_tid, iccid, terminal_id,
--     terminal_appli_id, uicc_appli_id, rand_x, rand_y) with that
--     implementation's own RANDs (16 octets each, fresh);
--   - each expires_at lies between min(clock + lifetime, ks_int_naf_expiry)
--     read just before and just after that call, and equals the bootstrap's
--     expiry when that comes first;
--   - the events written (kind, binding, identities, previous identities,
--     key expiry = the answer's expires_at, reason, actor, NAF_Id, detail
--     with its binding and block ids mapped to what they name) are the
--     same, and of the kinds the scenario expects;
--   - the bindings of the request's card and device, and the card's
--     transfer authorisations, are the same afterwards.
-- Then bad input: the same SQLSTATE and message from both, nothing written.
-- The identities carry a random run number, so it can run again on the
-- same database; what it binds and logs stays there.
--
\set ON_ERROR_STOP on
SET client_min_messages = warning;
LISTEN mtcbind_rejected;
LISTEN alt_rejected;
-- Loads mtcbind's library, which defines its settings.
SELECT '89441000000000000018'::mtcbind.iccid IS NOT NULL AS mtcbind_loaded \gset
RESET mtcbind.first_use;
RESET mtcbind.key_lifetime;
RESET mtcbind.log_key_issue;
DO $$
BEGIN
    IF current_setting('mtcbind.first_use') <> 'bind' OR current_setting('mtcbind.key_lifetime') <> '1 day'
       OR current_setting('mtcbind.log_key_issue') <> 'on'
       OR EXISTS (SELECT FROM mtcbind.policy) OR EXISTS (SELECT FROM alt.policy) THEN
        RAISE EXCEPTION 'plpgsql_check expects the default settings and no policy';
    END IF;
END
$$;

CREATE TEMP TABLE chk_ctx AS
SELECT (100000 + floor(random() * 900000))::int AS run,
       mtcbind.naf_id('naf.example.org', '\x0100000002') AS naf_id,
       'I1U8vpY3qJ0hiuRNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org'::text AS b_tid,
       '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'::bytea AS ks;

CREATE TEMP TABLE chk_log (
    n        serial PRIMARY KEY,
    name     text NOT NULL,
    outcome  text,
    reason   text,
    events   text[]
);

-- The identities of pair k of this run.
CREATE FUNCTION pg_temp.luhn(body text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT body || ((10 - sum(CASE WHEN i % 2 = 1
                                   THEN (2 * substr(reverse(body), i, 1)::int) / 10
                                        + (2 * substr(reverse(body), i, 1)::int) % 10
                                   ELSE substr(reverse(body), i, 1)::int END) % 10) % 10)::text
      FROM generate_series(1, length(body)) i
$$;
CREATE FUNCTION pg_temp.card(k int) RETURNS mtcbind.iccid LANGUAGE sql STABLE AS $$
    SELECT pg_temp.luhn('8949' || run || lpad(k::text, 8, '0'))::mtcbind.iccid FROM chk_ctx
$$;
CREATE FUNCTION pg_temp.dev(k int) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT 'chk' || run || '-dev-' || k FROM chk_ctx
$$;
CREATE FUNCTION pg_temp.imei(k int) RETURNS mtcbind.imei LANGUAGE sql STABLE AS $$
    SELECT ('35' || run || lpad(k::text, 6, '0'))::mtcbind.imei FROM chk_ctx   -- 14 digits: the type adds the check digit
$$;
CREATE FUNCTION pg_temp.imeisv(k int, svn int) RETURNS mtcbind.imeisv LANGUAGE sql STABLE AS $$
    SELECT ('35' || run || lpad(k::text, 6, '0') || lpad(svn::text, 2, '0'))::mtcbind.imeisv FROM chk_ctx
$$;
CREATE FUNCTION pg_temp.imsi(k int) RETURNS mtcbind.imsi LANGUAGE sql STABLE AS $$
    SELECT ('00101' || run || lpad(k::text, 4, '0'))::mtcbind.imsi FROM chk_ctx
$$;

-- What a binding id of implementation impl ('mtcbind' or 'alt') names: its ICCID.
CREATE FUNCTION pg_temp.binding_name(impl text, id bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    name text;
BEGIN
    IF id IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT iccid::text FROM %I.binding WHERE binding_id = $1', impl) INTO name USING id;
    RETURN coalesce(name, 'missing binding ' || id);
END
$$;

-- What a block id names: the blocked identities and the reason.
CREATE FUNCTION pg_temp.block_name(impl text, id bigint) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    name jsonb;
BEGIN
    EXECUTE format('SELECT jsonb_build_object(''iccid'', iccid::text, ''terminal_id'', terminal_id,
                                              ''imei'', imei::text, ''reason'', reason)
                      FROM %I.blocklist WHERE block_id = $1', impl) INTO name USING id;
    RETURN coalesce(name, to_jsonb('missing block ' || id));
END
$$;

-- The events impl wrote after event since, comparable across implementations.
CREATE FUNCTION pg_temp.events(impl text, since bigint, answer_expires timestamptz) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    e record;
    detail jsonb;
    transfer_ok boolean;
    result jsonb := '[]';
BEGIN
    FOR e IN EXECUTE format('SELECT * FROM %I.binding_event WHERE event_id > $1 ORDER BY event_id', impl)
        USING since
    LOOP
        detail := e.detail;
        IF detail ? 'device_binding_id' THEN
            detail := jsonb_set(detail, '{device_binding_id}',
                                to_jsonb(pg_temp.binding_name(impl, (detail ->> 'device_binding_id')::bigint)));
        END IF;
        IF detail ? 'uicc_binding_id' THEN
            detail := jsonb_set(detail, '{uicc_binding_id}',
                                to_jsonb(pg_temp.binding_name(impl, (detail ->> 'uicc_binding_id')::bigint)));
        END IF;
        IF detail ? 'block_id' THEN
            detail := jsonb_set(detail, '{block_id}',
                                pg_temp.block_name(impl, (detail ->> 'block_id')::bigint));
        END IF;
        -- "transfer authorisation N used": N must be the authorisation this
        -- implementation spent on this binding for this device.
        transfer_ok := NULL;
        IF e.reason ~ '^transfer authorisation [0-9]+ used' THEN
            EXECUTE format('SELECT EXISTS (SELECT FROM %I.transfer_authorization
                                            WHERE authorization_id = $1 AND binding_id = $2
                                              AND used_by_terminal = $3 AND used_at IS NOT NULL)', impl)
               INTO transfer_ok
              USING substring(e.reason FROM '^transfer authorisation ([0-9]+)')::bigint,
                    e.binding_id, e.terminal_id;
        END IF;
        result := result || jsonb_build_array(jsonb_build_object(
            'event', e.event,
            'binding', pg_temp.binding_name(impl, e.binding_id),
            'terminal_id', e.terminal_id,
            'iccid', e.iccid::text,
            'imei', e.imei::text,
            'imsi', e.imsi::text,
            'previous_terminal_id', e.previous_terminal_id,
            'previous_iccid', e.previous_iccid::text,
            'key_expires_at', CASE WHEN e.key_expires_at IS NOT NULL
                                   THEN CASE WHEN e.key_expires_at = answer_expires
                                             THEN 'the answer''s expires_at'
                                             ELSE 'not the answer''s expires_at: ' || e.key_expires_at END
                              END,
            'reason', regexp_replace(e.reason, '^transfer authorisation [0-9]+', 'transfer authorisation #'),
            'transfer_authorisation_spent', transfer_ok,
            'actor', e.actor,
            'naf_id', encode(e.naf_id, 'hex'),
            'detail', detail));
    END LOOP;
    RETURN result;
END
$$;

-- The bindings of a card and of a device, and the card's authorisations.
CREATE FUNCTION pg_temp.state(impl text, card mtcbind.iccid, terminal text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    bindings jsonb;
    transfers jsonb;
BEGIN
    EXECUTE format($q$
        SELECT jsonb_agg(jsonb_build_object(
                   'terminal_id', terminal_id, 'iccid', iccid::text, 'imei', imei::text,
                   'imeisv', imeisv::text, 'imsi', imsi::text, 'terminal_appli_id', terminal_appli_id,
                   'uicc_appli_id', uicc_appli_id, 'note', note, 'key_count', key_count,
                   'has_last_key_at', last_key_at IS NOT NULL, 'has_updated_at', updated_at IS NOT NULL,
                   'created_by', created_by)
                 ORDER BY iccid)
          FROM %I.binding WHERE iccid = $1 OR terminal_id = $2$q$, impl)
      INTO bindings USING card, terminal;
    EXECUTE format($q$
        SELECT jsonb_agg(jsonb_build_object(
                   'new_terminal_id', new_terminal_id, 'reason', reason, 'used', used_at IS NOT NULL,
                   'used_by_terminal', used_by_terminal, 'revoked', revoked_at IS NOT NULL)
                 ORDER BY created_at, authorization_id)
          FROM %I.transfer_authorization WHERE iccid = $1$q$, impl)
      INTO transfers USING card;
    RETURN jsonb_build_object('bindings', bindings, 'transfers', transfers);
END
$$;

CREATE FUNCTION pg_temp.fail(step text, what text, mtcbind_side anyelement, alt_side anyelement)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'plpgsql_check, step "%": %', step, what
        USING DETAIL = format('mtcbind: %s%salt:     %s', mtcbind_side, chr(10), alt_side);
END
$$;

-- Is a key answer right?  Returns a complaint, or NULL.
CREATE FUNCTION pg_temp.key_problem(answer record, ks bytea, b_tid text, card mtcbind.iccid,
                                    terminal text, tappli text, uappli text,
                                    clock_before timestamptz, clock_after timestamptz,
                                    expiry timestamptz, lifetime interval)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    seconds float8 := extract(epoch FROM lifetime);
    earliest timestamptz := least(clock_before + make_interval(secs => seconds), expiry);
    latest timestamptz := least(clock_after + make_interval(secs => seconds), expiry);
BEGIN
    IF answer.outcome NOT IN ('bound', 'granted') THEN
        IF answer.ks_local IS NOT NULL OR answer.rand_x IS NOT NULL OR answer.rand_y IS NOT NULL
           OR answer.expires_at IS NOT NULL THEN
            RETURN 'a refusal carries key columns';
        END IF;
        RETURN NULL;
    END IF;
    IF octet_length(answer.ks_local) IS DISTINCT FROM 32 OR octet_length(answer.rand_x) IS DISTINCT FROM 16
       OR octet_length(answer.rand_y) IS DISTINCT FROM 16 THEN
        RETURN 'key or RANDs of the wrong length';
    END IF;
    IF answer.rand_x = answer.rand_y THEN
        RETURN 'RANDx equals RANDy';
    END IF;
    IF answer.ks_local IS DISTINCT FROM mtcbind.ks_local(ks, b_tid, card, terminal, tappli, uappli,
                                                         answer.rand_x, answer.rand_y) THEN
        RETURN 'Ks_local is not mtcbind.ks_local(...) of its RANDs';
    END IF;
    IF answer.expires_at IS NULL OR answer.expires_at < earliest OR answer.expires_at > latest THEN
        RETURN format('expires_at %s outside [%s, %s]', answer.expires_at, earliest, latest);
    END IF;
    IF expiry <= earliest AND answer.expires_at <> expiry THEN
        RETURN 'expires_at is not the bootstrap''s expiry, which comes first';
    END IF;
    RETURN NULL;
END
$$;

-- One request through both implementations, then every comparison.
CREATE PROCEDURE pg_temp.step(
    name            text,
    expect_outcome  text,
    expect_reason   text,
    expect_events   text[],
    terminal        text,
    card            mtcbind.iccid,
    imei            mtcbind.imei   DEFAULT NULL,
    imeisv          mtcbind.imeisv DEFAULT NULL,
    imsi            mtcbind.imsi   DEFAULT NULL,
    tappli          text           DEFAULT '',
    uappli          text           DEFAULT '',
    expires_in      interval       DEFAULT '7 days',
    lifetime        interval       DEFAULT '1 day',
    naf             bytea          DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    ctx chk_ctx;
    m record;
    a record;
    m_since bigint;
    a_since bigint;
    expiry timestamptz;
    t0 timestamptz;
    t1 timestamptz;
    t2 timestamptz;
    t3 timestamptz;
    m_events jsonb;
    a_events jsonb;
    problem text;
BEGIN
    SELECT * INTO ctx FROM chk_ctx;
    naf := coalesce(naf, ctx.naf_id);
    SELECT coalesce(max(event_id), 0) INTO m_since FROM mtcbind.binding_event;
    SELECT coalesce(max(event_id), 0) INTO a_since FROM alt.binding_event;
    COMMIT;
    expiry := clock_timestamp() + expires_in;

    t0 := clock_timestamp();
    SELECT * INTO m FROM mtcbind.request_key(naf, ctx.b_tid, ctx.ks, expiry, terminal, card,
                                             imei, imeisv, imsi, tappli, uappli);
    t1 := clock_timestamp();
    COMMIT;
    t2 := clock_timestamp();
    SELECT * INTO a FROM alt.request_key(naf, ctx.b_tid, ctx.ks, expiry, terminal, card,
                                         imei, imeisv, imsi, tappli, uappli);
    t3 := clock_timestamp();
    COMMIT;

    -- The scenario reached the path it is about.
    IF m.outcome IS DISTINCT FROM expect_outcome OR m.reason IS DISTINCT FROM expect_reason THEN
        PERFORM pg_temp.fail(name, format('mtcbind did not answer %s/%s', expect_outcome, expect_reason),
                             m.outcome || '/' || coalesce(m.reason, ''), a.outcome || '/' || coalesce(a.reason, ''));
    END IF;
    -- The same answer.
    IF a.outcome IS DISTINCT FROM m.outcome OR a.reason IS DISTINCT FROM m.reason THEN
        PERFORM pg_temp.fail(name, 'outcome or reason differs',
                             m.outcome || '/' || coalesce(m.reason, ''), a.outcome || '/' || coalesce(a.reason, ''));
    END IF;
    IF pg_temp.binding_name('alt', a.binding_id) IS DISTINCT FROM pg_temp.binding_name('mtcbind', m.binding_id) THEN
        PERFORM pg_temp.fail(name, 'binding_id names another binding',
                             pg_temp.binding_name('mtcbind', m.binding_id), pg_temp.binding_name('alt', a.binding_id));
    END IF;
    -- The keys, each by its own RANDs, and the expiry.
    problem := pg_temp.key_problem(m, ctx.ks, ctx.b_tid, card, terminal, tappli, uappli, t0, t1, expiry, lifetime);
    IF problem IS NOT NULL THEN
        PERFORM pg_temp.fail(name, 'mtcbind: ' || problem, m::text, a::text);
    END IF;
    problem := pg_temp.key_problem(a, ctx.ks, ctx.b_tid, card, terminal, tappli, uappli, t2, t3, expiry, lifetime);
    IF problem IS NOT NULL THEN
        PERFORM pg_temp.fail(name, 'alt: ' || problem, m::text, a::text);
    END IF;
    IF a.rand_x = m.rand_x OR a.rand_y = m.rand_y THEN
        PERFORM pg_temp.fail(name, 'RANDs repeat across requests', m::text, a::text);
    END IF;
    -- The same events.
    m_events := pg_temp.events('mtcbind', m_since, m.expires_at);
    a_events := pg_temp.events('alt', a_since, a.expires_at);
    IF a_events IS DISTINCT FROM m_events THEN
        PERFORM pg_temp.fail(name, 'events differ', jsonb_pretty(m_events), jsonb_pretty(a_events));
    END IF;
    IF ARRAY(SELECT e ->> 'event' FROM jsonb_array_elements(m_events) e) IS DISTINCT FROM expect_events THEN
        PERFORM pg_temp.fail(name, format('events are not %s', expect_events), jsonb_pretty(m_events), jsonb_pretty(a_events));
    END IF;
    -- The same tables afterwards.
    IF pg_temp.state('alt', card, terminal) IS DISTINCT FROM pg_temp.state('mtcbind', card, terminal) THEN
        PERFORM pg_temp.fail(name, 'bindings or transfer authorisations differ afterwards',
                             jsonb_pretty(pg_temp.state('mtcbind', card, terminal)),
                             jsonb_pretty(pg_temp.state('alt', card, terminal)));
    END IF;
    INSERT INTO chk_log (name, outcome, reason, events) VALUES (name, m.outcome, m.reason, expect_events);
    COMMIT;
END
$$;

-- Administration alt has no function for: mtcbind's function, mirrored by hand.
CREATE PROCEDURE pg_temp.block(what text, card mtcbind.iccid, terminal text, imei mtcbind.imei, why text)
LANGUAGE plpgsql AS $$
DECLARE
    since bigint;
BEGIN
    SELECT coalesce(max(block_id), 0) INTO since FROM mtcbind.blocklist;
    COMMIT;                                  -- block_* comes first in its transaction
    IF what = 'uicc' THEN
        PERFORM mtcbind.block_uicc(card, why);
    ELSE
        PERFORM mtcbind.block_device(terminal, why, imei);
    END IF;
    COMMIT;
    INSERT INTO alt.blocklist (iccid, terminal_id, imei, reason)
    SELECT b.iccid, b.terminal_id, b.imei, b.reason FROM mtcbind.blocklist b
     WHERE b.block_id > since ORDER BY b.block_id;
    COMMIT;
END
$$;

CREATE PROCEDURE pg_temp.authorize_transfer(card mtcbind.iccid, new_terminal text, why text)
LANGUAGE plpgsql AS $$
DECLARE
    id bigint;
BEGIN
    id := mtcbind.authorize_transfer(card, new_terminal, '1 day', why);
    UPDATE alt.transfer_authorization SET revoked_at = now()
     WHERE iccid = card AND used_at IS NULL AND revoked_at IS NULL;
    INSERT INTO alt.transfer_authorization (binding_id, iccid, new_terminal_id, valid_until, reason)
    SELECT ab.binding_id, t.iccid, t.new_terminal_id, t.valid_until, t.reason
      FROM mtcbind.transfer_authorization t JOIN alt.binding ab ON ab.iccid = t.iccid
     WHERE t.authorization_id = id;
    COMMIT;
END
$$;

CREATE PROCEDURE pg_temp.set_policy(policy_name text, setting text)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mtcbind.set_policy(policy_name, setting, 'plpgsql_check');
    IF setting IS NULL THEN
        DELETE FROM alt.policy p WHERE p.name = policy_name;
    ELSE
        INSERT INTO alt.policy (name, value, reason) VALUES (policy_name, setting, 'plpgsql_check')
        ON CONFLICT (name) DO UPDATE SET value = excluded.value;
    END IF;
    COMMIT;
END
$$;

-- The sequence.  Pair k is pg_temp.dev(k) with pg_temp.card(k).
CREATE PROCEDURE pg_temp.scenario()
LANGUAGE plpgsql AS $$
BEGIN
    ---- first use, re-key, drift
    CALL pg_temp.step('first use', 'bound', NULL, '{bound,key_issued}', pg_temp.dev(1), pg_temp.card(1),
                      imei => pg_temp.imei(1), imsi => pg_temp.imsi(1),
                      tappli => 'metering-app', uappli => 'A0000000871002');
    CALL pg_temp.step('re-key', 'granted', NULL, '{key_issued}', pg_temp.dev(1), pg_temp.card(1),
                      imei => pg_temp.imei(1), imsi => pg_temp.imsi(1),
                      tappli => 'metering-app', uappli => 'A0000000871002');
    CALL pg_temp.step('re-key without IMEI, IMSI, application ids', 'granted', NULL, '{key_issued}',
                      pg_temp.dev(1), pg_temp.card(1));
    CALL pg_temp.step('IMEISV recorded (software version)', 'granted', NULL, '{attribute_changed,key_issued}',
                      pg_temp.dev(1), pg_temp.card(1), imeisv => pg_temp.imeisv(1, 1));
    CALL pg_temp.step('IMEISV changed, with IMEI and IMSI', 'granted', NULL, '{attribute_changed,key_issued}',
                      pg_temp.dev(1), pg_temp.card(1), imei => pg_temp.imei(1),
                      imeisv => pg_temp.imeisv(1, 2), imsi => pg_temp.imsi(1));
    CALL pg_temp.step('IMSI changed (multi-IMSI card)', 'granted', NULL, '{attribute_changed,key_issued}',
                      pg_temp.dev(1), pg_temp.card(1), imsi => pg_temp.imsi(101));
    CALL pg_temp.step('a NAF_Id with a non-ASCII FQDN', 'granted', NULL, '{key_issued}',
                      pg_temp.dev(1), pg_temp.card(1),
                      naf => mtcbind.naf_id('nāf.exämple.org', '\x0100000002'));

    ---- mtcbind.log_key_issue = off
    SET mtcbind.log_key_issue = off;
    CALL pg_temp.step('re-key, log off: nothing written', 'granted', NULL, '{}',
                      pg_temp.dev(1), pg_temp.card(1), imei => pg_temp.imei(1));
    CALL pg_temp.step('first use, log off', 'bound', NULL, '{bound}', pg_temp.dev(2), pg_temp.card(2));
    CALL pg_temp.step('IMEI recorded, log off', 'granted', NULL, '{attribute_changed}',
                      pg_temp.dev(2), pg_temp.card(2), imei => pg_temp.imei(2));
    CALL pg_temp.step('refusal, log off', 'rejected', 'uicc_bound_elsewhere', '{rejected}',
                      pg_temp.dev(3), pg_temp.card(2));
    RESET mtcbind.log_key_issue;

    ---- refusals
    CALL pg_temp.step('the card in another device', 'rejected', 'uicc_bound_elsewhere', '{rejected}',
                      pg_temp.dev(3), pg_temp.card(1), imeisv => pg_temp.imeisv(3, 1));
    CALL pg_temp.step('another card in a bound device', 'rejected', 'device_bound_elsewhere', '{rejected}',
                      pg_temp.dev(1), pg_temp.card(3));
    CALL pg_temp.step('both bound, not to each other', 'rejected', 'both_bound_elsewhere', '{rejected}',
                      pg_temp.dev(2), pg_temp.card(1));
    CALL pg_temp.step('the bound pair with another IMEI', 'rejected', 'identity_mismatch', '{rejected}',
                      pg_temp.dev(1), pg_temp.card(1), imei => pg_temp.imei(9));
    CALL pg_temp.step('the bound device under another terminal_id', 'rejected', 'identity_mismatch', '{rejected}',
                      pg_temp.dev(4), pg_temp.card(1), imei => pg_temp.imei(1));
    CALL pg_temp.step('a bound IMEI with a free card', 'rejected', 'device_bound_elsewhere', '{rejected}',
                      pg_temp.dev(5), pg_temp.card(5), imei => pg_temp.imei(1));
    CALL pg_temp.step('first use with a bound IMSI', 'rejected', 'uicc_bound_elsewhere', '{rejected}',
                      pg_temp.dev(6), pg_temp.card(6), imsi => pg_temp.imsi(101));
    CALL pg_temp.step('a new IMSI that is another binding''s', 'rejected', 'identity_mismatch', '{rejected}',
                      pg_temp.dev(2), pg_temp.card(2), imei => pg_temp.imei(2), imsi => pg_temp.imsi(101));
    CALL pg_temp.step('first use without IMEI', 'bound', NULL, '{bound,key_issued}',
                      pg_temp.dev(7), pg_temp.card(7));
    CALL pg_temp.step('a first IMEI that is another binding''s', 'rejected', 'identity_mismatch', '{rejected}',
                      pg_temp.dev(7), pg_temp.card(7), imei => pg_temp.imei(1));

    ---- bootstrap expiry and key lifetime
    CALL pg_temp.step('expired bootstrap, bound pair', 'rejected', 'bootstrap_expired', '{rejected}',
                      pg_temp.dev(1), pg_temp.card(1), expires_in => '-1 second');
    CALL pg_temp.step('expired bootstrap, unknown pair (nothing bound)', 'rejected', 'bootstrap_expired', '{rejected}',
                      pg_temp.dev(8), pg_temp.card(8), imeisv => pg_temp.imeisv(8, 0), expires_in => '-1 hour');
    CALL pg_temp.step('key capped by the bootstrap''s expiry', 'granted', NULL, '{key_issued}',
                      pg_temp.dev(1), pg_temp.card(1), expires_in => '1 hour');
    SET mtcbind.key_lifetime = '30 min';
    CALL pg_temp.step('mtcbind.key_lifetime = 30 min', 'granted', NULL, '{key_issued}',
                      pg_temp.dev(1), pg_temp.card(1), lifetime => '30 min');
    CALL pg_temp.set_policy('max_key_lifetime', '10 min');
    CALL pg_temp.step('policy max_key_lifetime = 10 min', 'granted', NULL, '{key_issued}',
                      pg_temp.dev(1), pg_temp.card(1), lifetime => '10 min');
    CALL pg_temp.set_policy('max_key_lifetime', NULL);
    RESET mtcbind.key_lifetime;

    ---- first use refused
    SET mtcbind.first_use = reject;
    CALL pg_temp.step('mtcbind.first_use = reject', 'rejected', 'not_provisioned', '{rejected}',
                      pg_temp.dev(9), pg_temp.card(9));
    CALL pg_temp.step('first_use = reject: a conflict comes first', 'rejected', 'device_bound_elsewhere', '{rejected}',
                      pg_temp.dev(1), pg_temp.card(9));
    CALL pg_temp.step('first_use = reject: re-key', 'granted', NULL, '{key_issued}',
                      pg_temp.dev(1), pg_temp.card(1));
    RESET mtcbind.first_use;
    CALL pg_temp.set_policy('first_use', 'reject');
    CALL pg_temp.step('policy first_use = reject', 'rejected', 'not_provisioned', '{rejected}',
                      pg_temp.dev(9), pg_temp.card(9));
    CALL pg_temp.set_policy('first_use', NULL);

    ---- blocks
    CALL pg_temp.block('uicc', pg_temp.card(2), NULL, NULL, 'stolen, police report 4711');
    CALL pg_temp.step('blocked card in its own device', 'rejected', 'uicc_blocked', '{rejected}',
                      pg_temp.dev(2), pg_temp.card(2));
    SET mtcbind.log_key_issue = off;
    CALL pg_temp.step('blocked card in its own device, log off', 'rejected', 'uicc_blocked', '{rejected}',
                      pg_temp.dev(2), pg_temp.card(2), imei => pg_temp.imei(2));
    RESET mtcbind.log_key_issue;
    CALL pg_temp.step('blocked card in another device', 'rejected', 'uicc_blocked', '{rejected}',
                      pg_temp.dev(10), pg_temp.card(2));
    CALL pg_temp.step('first use with an IMEI to be blocked', 'bound', NULL, '{bound,key_issued}',
                      pg_temp.dev(11), pg_temp.card(11), imei => pg_temp.imei(11));
    CALL pg_temp.block('device', NULL, NULL, pg_temp.imei(11), 'IMEI on a deny list');
    CALL pg_temp.step('device blocked by its recorded IMEI, request without IMEI', 'rejected', 'device_blocked', '{rejected}',
                      pg_temp.dev(11), pg_temp.card(11));
    SET mtcbind.log_key_issue = off;
    CALL pg_temp.step('device blocked by its recorded IMEI, log off', 'rejected', 'device_blocked', '{rejected}',
                      pg_temp.dev(11), pg_temp.card(11));
    RESET mtcbind.log_key_issue;
    CALL pg_temp.step('first use of a device to be stolen', 'bound', NULL, '{bound,key_issued}',
                      pg_temp.dev(12), pg_temp.card(12), imei => pg_temp.imei(12));
    CALL pg_temp.block('device', NULL, pg_temp.dev(12), NULL, 'stolen from site 12');
    CALL pg_temp.step('stolen device with its card', 'rejected', 'device_blocked', '{rejected}',
                      pg_temp.dev(12), pg_temp.card(12));
    CALL pg_temp.step('stolen device''s IMEI under another terminal_id', 'rejected', 'device_blocked', '{rejected}',
                      pg_temp.dev(13), pg_temp.card(13), imei => pg_temp.imei(12));
    CALL pg_temp.step('stolen device with a new card', 'rejected', 'device_blocked', '{rejected}',
                      pg_temp.dev(12), pg_temp.card(13));

    ---- transfers
    CALL pg_temp.step('first use of a device to be replaced', 'bound', NULL, '{bound,key_issued}',
                      pg_temp.dev(14), pg_temp.card(14), imei => pg_temp.imei(14), imsi => pg_temp.imsi(14),
                      tappli => 'metering-app');
    CALL pg_temp.authorize_transfer(pg_temp.card(14), pg_temp.dev(15), 'meter damaged, ticket 4711');
    CALL pg_temp.step('transfer authorised for another device', 'rejected', 'uicc_bound_elsewhere', '{rejected}',
                      pg_temp.dev(16), pg_temp.card(14));
    CALL pg_temp.step('transfer used', 'bound', NULL, '{rebound,key_issued}',
                      pg_temp.dev(15), pg_temp.card(14), imeisv => pg_temp.imeisv(15, 3), uappli => 'A0000000871002');
    CALL pg_temp.step('the old device after the transfer', 'rejected', 'uicc_bound_elsewhere', '{rejected}',
                      pg_temp.dev(14), pg_temp.card(14), imei => pg_temp.imei(14));
    CALL pg_temp.step('a used authorisation is not used again', 'rejected', 'uicc_bound_elsewhere', '{rejected}',
                      pg_temp.dev(16), pg_temp.card(14));
    CALL pg_temp.authorize_transfer(pg_temp.card(14), NULL, NULL);
    CALL pg_temp.step('open authorisation: a bound device', 'rejected', 'both_bound_elsewhere', '{rejected}',
                      pg_temp.dev(1), pg_temp.card(14));
    CALL pg_temp.step('open authorisation: another card''s IMSI', 'rejected', 'identity_mismatch', '{rejected}',
                      pg_temp.dev(17), pg_temp.card(14), imsi => pg_temp.imsi(101));
    SET mtcbind.log_key_issue = off;
    CALL pg_temp.step('open authorisation used by an unbound device, log off', 'bound', NULL, '{rebound}',
                      pg_temp.dev(17), pg_temp.card(14), imei => pg_temp.imei(17));
    RESET mtcbind.log_key_issue;
    CALL pg_temp.step('re-key after the transfer', 'granted', NULL, '{key_issued}',
                      pg_temp.dev(17), pg_temp.card(14), imei => pg_temp.imei(17), imsi => pg_temp.imsi(14));
END
$$;

CALL pg_temp.scenario();

---- Bad input: the same SQLSTATE and message from both, and nothing written.
CREATE FUNCTION pg_temp.error_of(impl text, args text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SELECT * FROM %I.request_key(%s)', impl, args);
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END
$$;

CREATE TEMP TABLE chk_error (name text, args text, expect text);
INSERT INTO chk_error
SELECT name, format(args, quote_literal(c.naf_id), quote_literal(c.b_tid), quote_literal(c.ks),
                    quote_literal(pg_temp.dev(1)), quote_literal(pg_temp.card(1)::text)), expect
  FROM chk_ctx c, (VALUES
    ('NULL naf_id', 'NULL, %2$s, %3$s, now() + interval ''1 day'', %4$s, %5$s', '22004'),
    ('NULL b_tid', '%1$s, NULL, %3$s, now() + interval ''1 day'', %4$s, %5$s', '22004'),
    ('NULL ks_int_naf', '%1$s, %2$s, NULL, now() + interval ''1 day'', %4$s, %5$s', '22004'),
    ('NULL ks_int_naf_expiry', '%1$s, %2$s, %3$s, NULL, %4$s, %5$s', '22004'),
    ('NULL terminal_id', '%1$s, %2$s, %3$s, now() + interval ''1 day'', NULL, %5$s', '22004'),
    ('NULL iccid', '%1$s, %2$s, %3$s, now() + interval ''1 day'', %4$s, NULL', '22004'),
    ('NULL terminal_appli_id', '%1$s, %2$s, %3$s, now() + interval ''1 day'', %4$s, %5$s, terminal_appli_id => NULL', '22004'),
    ('NULL uicc_appli_id', '%1$s, %2$s, %3$s, now() + interval ''1 day'', %4$s, %5$s, uicc_appli_id => NULL', '22004'),
    ('NULL first: naf_id before a bad key', 'NULL, %2$s, ''\x00'', now() + interval ''1 day'', '''', %5$s', '22004'),
    ('naf_id of 5 octets', '''\x0100000002'', %2$s, %3$s, now() + interval ''1 day'', %4$s, %5$s', '22023'),
    ('naf_id of 261 octets', 'convert_to(repeat(''n'', 256), ''UTF8'') || ''\x0100000002''::bytea, %2$s, %3$s, now() + interval ''1 day'', %4$s, %5$s', '22023'),
    ('naf_id whose FQDN is not UTF-8', '''\x6eff660100000002'', %2$s, %3$s, now() + interval ''1 day'', %4$s, %5$s', '22023'),
    ('naf_id whose FQDN has a NUL', '''\x6e00660100000002'', %2$s, %3$s, now() + interval ''1 day'', %4$s, %5$s', '22023'),
    ('naf_id with a UTF-16 surrogate', '''\x6eeda080660100000002'', %2$s, %3$s, now() + interval ''1 day'', %4$s, %5$s', '22023'),
    ('empty b_tid', '%1$s, '''', %3$s, now() + interval ''1 day'', %4$s, %5$s', '22023'),
    ('b_tid of 1025 octets', '%1$s, repeat(''b'', 1025), %3$s, now() + interval ''1 day'', %4$s, %5$s', '22023'),
    ('ks_int_naf of 31 octets', '%1$s, %2$s, substring(%3$s::bytea FROM 2), now() + interval ''1 day'', %4$s, %5$s', '22023'),
    ('empty terminal_id', '%1$s, %2$s, %3$s, now() + interval ''1 day'', '''', %5$s', '22023'),
    ('terminal_id of 256 octets', '%1$s, %2$s, %3$s, now() + interval ''1 day'', repeat(''t'', 256), %5$s', '22023'),
    ('terminal_appli_id of 256 octets', '%1$s, %2$s, %3$s, now() + interval ''1 day'', %4$s, %5$s, terminal_appli_id => repeat(''a'', 256)', '22023'),
    ('uicc_appli_id of 256 octets', '%1$s, %2$s, %3$s, now() + interval ''1 day'', %4$s, %5$s, uicc_appli_id => repeat(''a'', 256)', '22023'),
    ('IMEISV of another device', '%1$s, %2$s, %3$s, now() + interval ''1 day'', %4$s, %5$s, imei => ''49015420323751'', imeisv => ''3512345600000301''', '22023'),
    ('a bad IMEI', '%1$s, %2$s, %3$s, now() + interval ''1 day'', %4$s, %5$s, imei => ''12345''', '22P02'),
    ('an ICCID with a bad check digit', '%1$s, %2$s, %3$s, now() + interval ''1 day'', %4$s, ''89441000000000000019''', '22P02')
  ) v(name, args, expect);

CREATE TEMP TABLE chk_error_since AS
SELECT (SELECT coalesce(max(event_id), 0) FROM mtcbind.binding_event) AS m_events,
       (SELECT coalesce(max(event_id), 0) FROM alt.binding_event) AS a_events,
       (SELECT count(*) FROM mtcbind.binding) AS m_bindings,
       (SELECT count(*) FROM alt.binding) AS a_bindings;

DO $$
DECLARE
    e record;
    m text;
    a text;
BEGIN
    FOR e IN SELECT * FROM chk_error LOOP
        m := pg_temp.error_of('mtcbind', e.args);
        a := pg_temp.error_of('alt', e.args);
        IF left(m, 5) <> e.expect THEN
            PERFORM pg_temp.fail(e.name, 'mtcbind did not raise ' || e.expect, m, a);
        END IF;
        IF a IS DISTINCT FROM m THEN
            PERFORM pg_temp.fail(e.name, 'the error differs', m, a);
        END IF;
        INSERT INTO chk_log (name, outcome, reason) VALUES ('error: ' || e.name, 'error', m);
    END LOOP;
END
$$;

-- Not the request's fault: a policy value written by hand that is not valid.
INSERT INTO mtcbind.policy (name, value, reason) VALUES ('max_key_lifetime', 'forever', 'plpgsql_check');
INSERT INTO alt.policy (name, value, reason) VALUES ('max_key_lifetime', 'forever', 'plpgsql_check');
DO $$
DECLARE
    args text := (SELECT format('%L, %L, %L, now() + interval ''1 day'', %L, %L', naf_id, b_tid, ks,
                                pg_temp.dev(1), pg_temp.card(1)::text) FROM chk_ctx);
    m text := pg_temp.error_of('mtcbind', args);
    a text := pg_temp.error_of('alt', args);
BEGIN
    IF left(m, 5) <> '55000' OR left(a, 5) <> '55000' THEN
        PERFORM pg_temp.fail('invalid policy', 'not 55000 from both', m, a);
    END IF;
    INSERT INTO chk_log (name, outcome, reason) VALUES ('error: a policy value that is not valid', 'error', m);
END
$$;
DELETE FROM mtcbind.policy WHERE name = 'max_key_lifetime';
DELETE FROM alt.policy WHERE name = 'max_key_lifetime';

-- Only a READ COMMITTED transaction gets an answer.
BEGIN ISOLATION LEVEL REPEATABLE READ;
CREATE TEMP TABLE chk_isolation AS
SELECT pg_temp.error_of('mtcbind', args) AS m, pg_temp.error_of('alt', args) AS a
  FROM (SELECT format('%L, %L, %L, now() + interval ''1 day'', %L, %L', naf_id, b_tid, ks,
                      pg_temp.dev(1), pg_temp.card(1)::text) AS args FROM chk_ctx) x;
COMMIT;
DO $$
DECLARE
    r record := (SELECT i FROM chk_isolation i);
BEGIN
    IF left(r.m, 5) <> '0A000' OR left(r.a, 5) <> '0A000' THEN
        PERFORM pg_temp.fail('REPEATABLE READ', 'not 0A000 from both', r.m, r.a);
    END IF;
    INSERT INTO chk_log (name, outcome, reason) VALUES ('error: REPEATABLE READ', 'error', r.m);
END
$$;

DO $$
DECLARE
    s chk_error_since := (SELECT x FROM chk_error_since x);
BEGIN
    IF EXISTS (SELECT FROM mtcbind.binding_event WHERE event_id > s.m_events AND event <> 'policy_changed')
       OR EXISTS (SELECT FROM alt.binding_event WHERE event_id > s.a_events)
       OR (SELECT count(*) FROM mtcbind.binding) <> s.m_bindings
       OR (SELECT count(*) FROM alt.binding) <> s.a_bindings THEN
        RAISE EXCEPTION 'plpgsql_check: bad input wrote something';
    END IF;
END
$$;

-- Lets psql print the notifications of the last transactions.
SELECT pg_sleep(0.2) \gset
SELECT count(*) FILTER (WHERE outcome <> 'error') AS steps,
       count(*) FILTER (WHERE outcome = 'rejected') AS refusals,
       count(*) FILTER (WHERE outcome = 'error') AS errors,
       (SELECT run FROM chk_ctx) AS run
  FROM chk_log \gset
\echo plpgsql_check: run :run: :steps requests and :errors bad inputs through mtcbind and alt, same answers, keys, expiries, events and tables; :refusals refusals
