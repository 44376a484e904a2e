--
-- Settings and the database's own policy: what request_key runs with, how
-- a policy stored with the data tightens the settings, and the key
-- lifetime written as PostgreSQL writes intervals.
--
SET client_min_messages = warning;
\set test_db regress_mtcbind_policy
\i sql/include/own_database.sql

-- Requests a key; returns outcome, reason and the key's lifetime.
CREATE FUNCTION pg_temp.req(term text, card text)
RETURNS text LANGUAGE sql AS $$
    SELECT r.outcome || coalesce(' ' || r.reason, '')
           || coalesce(' ' || date_trunc('second', r.expires_at - now())::text, '')
      FROM mtcbind.request_key(mtcbind.naf_id('naf.example.org', '\x0100000002'),
                               'b@bsf.example.org',
                               '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
                               now() + interval '30 days', term, card) r
$$;

-- With no policy, the settings decide.
SELECT * FROM mtcbind.settings();
SELECT pg_temp.req('dev-1', '89441000000000000018');

-- Rule: mtcbind.key_lifetime takes PostgreSQL's interval syntax, also the
-- short units of time settings and ISO 8601; anything else, anything not
-- positive, and anything over ten years is refused naming the setting.
SET mtcbind.key_lifetime = '12h';
SELECT pg_temp.req('dev-1', '89441000000000000018');
SET mtcbind.key_lifetime = '2d';
SELECT pg_temp.req('dev-1', '89441000000000000018');
SET mtcbind.key_lifetime = 'PT30M';
SELECT pg_temp.req('dev-1', '89441000000000000018');
SET mtcbind.key_lifetime = '1 mon';
SELECT pg_temp.req('dev-1', '89441000000000000018');
SELECT pg_temp.try($$SET mtcbind.key_lifetime = '0'$$);
SELECT pg_temp.try($$SET mtcbind.key_lifetime = '1 day -2 days'$$);
SELECT pg_temp.try($$SET mtcbind.key_lifetime = '3651 days'$$);
SELECT pg_temp.try($$SET mtcbind.key_lifetime = 'one day'$$);
SELECT left(pg_temp.try(format('SET mtcbind.key_lifetime = %L', repeat('1', 200))), 5) AS over_long;
RESET mtcbind.key_lifetime;

-- Rule: a database policy of first_use = reject refuses first use whatever
-- the setting says; it is recorded with who set it and why.
SELECT mtcbind.set_policy('first_use', 'reject', 'pre-provisioned fleet only');
SELECT * FROM mtcbind.settings();
SELECT pg_temp.req('dev-2', '89441000000000000026');
SET mtcbind.first_use = bind;
SELECT pg_temp.req('dev-2', '89441000000000000026');
RESET mtcbind.first_use;
-- A pre-provisioned pair still gets keys.
SELECT mtcbind.bind('dev-2', '89441000000000000026') > 0 AS provisioned;
SELECT pg_temp.req('dev-2', '89441000000000000026');

-- Rule: a database policy of max_key_lifetime caps mtcbind.key_lifetime,
-- never lengthens it.
SELECT mtcbind.set_policy('max_key_lifetime', '6 hours', 'short keys for field devices');
SELECT pg_temp.req('dev-2', '89441000000000000026');
SET mtcbind.key_lifetime = '1 hour';
SELECT pg_temp.req('dev-2', '89441000000000000026');
RESET mtcbind.key_lifetime;
SELECT * FROM mtcbind.settings();

-- Rule: a policy is removed with NULL; bad names and values are refused.
SELECT mtcbind.set_policy('first_use', NULL, 'trust on first use again');
SELECT pg_temp.req('dev-3', '89441000000000000034');
SELECT pg_temp.try($$SELECT mtcbind.set_policy('first_use', 'maybe', 'x')$$);
SELECT pg_temp.try($$SELECT mtcbind.set_policy('max_key_lifetime', '-1 day', 'x')$$);
SELECT pg_temp.try($$SELECT mtcbind.set_policy('colour', 'blue', 'x')$$);
SELECT pg_temp.try($$SELECT mtcbind.set_policy('first_use', 'reject', '')$$);
SELECT name, value FROM mtcbind.policy ORDER BY name;

-- Rule: every change of policy is an event, whoever makes it.
SELECT event, reason, detail FROM mtcbind.binding_event WHERE event = 'policy_changed' ORDER BY event_id;

-- Rule: a value written into the table by hand that is not a valid policy
-- fails closed: request_key refuses to guess.
UPDATE mtcbind.policy SET value = 'soon' WHERE name = 'max_key_lifetime';
SELECT pg_temp.try($$SELECT pg_temp.req('dev-3', '89441000000000000034')$$);
DELETE FROM mtcbind.policy WHERE name = 'max_key_lifetime';
SELECT pg_temp.req('dev-3', '89441000000000000034');

-- Rule: only a superuser sets policy, as only a superuser changes the settings.
SELECT has_function_privilege('mtcbind_admin', 'mtcbind.set_policy(text, text, text)', 'EXECUTE') AS admin_sets_policy,
       has_function_privilege('mtcbind_admin', 'mtcbind.settings()', 'EXECUTE') AS admin_reads_settings;

\c :regress_db
DROP DATABASE :"test_db";
