-- floor_setup.sql: the floors of scripts/bench/run.sh (docs/performance.md).
--
-- A floor is plain SQL doing the same writes as one mtcbind path, in one
-- statement (one transaction), into plain tables of the same shape without
-- the extension's triggers.  Nothing here names a column of mtcbind's tables:
--
--   1. floor_snapshot() and floor_capture() run around one probed call of a
--      path, in the same transaction of a fresh connection, and record every
--      row it inserted or updated in any table of schema mtcbind (found by
--      xmin, with the before-image of updated rows), every row it only
--      locked (found by xmax), and the statistics counters of that
--      transaction (pg_stat_xact_all_tables);
--   2. floor_make() copies every table a path wrote (LIKE ... INCLUDING ALL,
--      so the indexes, defaults and CHECK constraints of the live catalog,
--      not its triggers), with its current rows, giving id columns
--      sequences of their own;
--   3. floor_statement() writes the floor of a path: for each table, the same
--      number of rows, locked (FOR UPDATE), inserted or updated the same way, with the values the
--      probe saw; a value that was one of the request's identities becomes
--      the same expression of pgbench's :n as in the path's script (so the
--      floor's index entries land as scattered as the path's), a value equal
--      to a column of the same name in a row written before it refers to that
--      row, an id or timestamp with a default is left to the default, and
--      everything else is the probe's value as a literal of the column's type.
--      A NOTIFY seen after the probe is sent with the same channel and payload.
SET client_min_messages = warning;

CREATE TABLE public.floor_probe_row (
    path   text NOT NULL,
    ord    integer NOT NULL,
    rel    regclass NOT NULL,
    op     text NOT NULL CHECK (op IN ('insert', 'update', 'lock')),
    before jsonb,
    after  jsonb NOT NULL
);

CREATE TABLE public.floor_probe_stat (
    path    text NOT NULL,
    rel     regclass NOT NULL,
    ins     bigint NOT NULL,
    upd     bigint NOT NULL,
    hot_upd bigint NOT NULL,
    del     bigint NOT NULL
);

-- Filled by run.sh from what psql printed after the probe committed.
CREATE TABLE public.floor_probe_notify (
    path    text NOT NULL,
    channel text NOT NULL,
    payload text NOT NULL
);

-- The tables of schema mtcbind (day partitions included).
CREATE FUNCTION public.floor_tables() RETURNS SETOF regclass
LANGUAGE sql STABLE AS $$
    SELECT c.oid::regclass FROM pg_class c
     WHERE c.relnamespace = 'mtcbind'::regnamespace AND c.relkind = 'r'
     ORDER BY c.oid
$$;

-- The columns that identify a row of r: its primary key, else its first
-- unique index without predicate or expressions.
CREATE FUNCTION public.floor_key_columns(r regclass) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT array_agg(a.attname::text ORDER BY k.ord)
      FROM (SELECT i.indkey FROM pg_index i
             WHERE i.indrelid = r AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
             ORDER BY i.indisprimary DESC, i.indexrelid LIMIT 1) ix,
           unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
      JOIN pg_attribute a ON a.attrelid = r AND a.attnum = k.attnum
$$;

-- Before the probed call: this transaction's id, and an image of every row
-- of every table of schema mtcbind (the probe runs on a small database).
CREATE FUNCTION public.floor_snapshot() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r regclass;
BEGIN
    CREATE TEMP TABLE floor_xid ON COMMIT DROP AS
        SELECT pg_current_xact_id()::text::bigint % 4294967296 AS xid;
    CREATE TEMP TABLE floor_before (rel regclass, img jsonb) ON COMMIT DROP;
    FOR r IN SELECT * FROM public.floor_tables() LOOP
        EXECUTE format('INSERT INTO floor_before SELECT %L::regclass, to_jsonb(t) FROM %s t', r, r);
    END LOOP;
END
$$;

-- After the probed call, in the same transaction: the rows it wrote (xmin at
-- or after this transaction's id: its own and its subtransactions'), each
-- with its before-image if it existed, and the statistics counters.
CREATE FUNCTION public.floor_capture(probe text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r regclass;
    keys text[];
    match text;
    my_xid bigint := (SELECT x.xid FROM floor_xid x);
BEGIN
    FOR r IN SELECT * FROM public.floor_tables() LOOP
        keys := public.floor_key_columns(r);
        IF keys IS NULL THEN
            match := 'false';
        ELSE
            SELECT string_agg(format('b.img -> %L = to_jsonb(t) -> %L', k, k), ' AND ') INTO match
              FROM unnest(keys) k;
        END IF;
        EXECUTE format($q$
            INSERT INTO public.floor_probe_row (path, ord, rel, op, before, after)
            SELECT %L, (SELECT coalesce(max(p.ord), 0) FROM public.floor_probe_row p WHERE p.path = %L)
                       + row_number() OVER (),
                   %L::regclass, CASE WHEN b.img IS NULL THEN 'insert' ELSE 'update' END, b.img, to_jsonb(t)
              FROM %s t LEFT JOIN floor_before b ON b.rel = %L::regclass AND %s
             WHERE t.xmin::text::bigint >= %s$q$,
            probe, probe, r, r, r, match, my_xid);
        -- Rows it locked without changing them (SELECT ... FOR UPDATE): their
        -- xmax is this transaction's.
        EXECUTE format($q$
            INSERT INTO public.floor_probe_row (path, ord, rel, op, before, after)
            SELECT %L, (SELECT coalesce(max(p.ord), 0) FROM public.floor_probe_row p WHERE p.path = %L)
                       + row_number() OVER (),
                   %L::regclass, 'lock', to_jsonb(t), to_jsonb(t)
              FROM %s t
             WHERE t.xmin::text::bigint < %s AND t.xmax::text::bigint >= %s$q$,
            probe, probe, r, r, my_xid, my_xid);
    END LOOP;
    INSERT INTO public.floor_probe_stat
    SELECT probe, s.relid::regclass, s.n_tup_ins, s.n_tup_upd, s.n_tup_hot_upd, s.n_tup_del
      FROM pg_stat_xact_all_tables s
     WHERE s.relid IN (SELECT public.floor_tables())
       AND s.n_tup_ins + s.n_tup_upd + s.n_tup_del > 0;
END
$$;

-- The floor table of r: floor_<table>, or floor_<parent> for a partition.
CREATE FUNCTION public.floor_name(r regclass) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT 'floor_' || coalesce((SELECT p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
                                  WHERE i.inhrelid = r LIMIT 1),
                                 (SELECT c.relname FROM pg_class c WHERE c.oid = r))
$$;

-- A plain copy of table src named public.<name>: LIKE ... INCLUDING ALL
-- (columns, defaults, CHECK constraints, indexes; never triggers), its
-- storage parameters (LIKE copies none; the binding's fillfactor makes a
-- re-key's update HOT, which the floor must match), its rows
-- if with_rows, and a sequence of its own for every integer column whose
-- default draws an id from mtcbind.
CREATE FUNCTION public.floor_copy_table(src regclass, name text, with_rows boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    c record;
    seq text;
    options text;
BEGIN
    EXECUTE format('CREATE TABLE public.%I (LIKE %s INCLUDING ALL)', name, src);
    SELECT array_to_string(pc.reloptions, ', ') INTO options FROM pg_class pc WHERE pc.oid = src;
    IF options IS NOT NULL THEN
        EXECUTE format('ALTER TABLE public.%I SET (%s)', name, options);
    END IF;
    IF with_rows THEN
        EXECUTE format('INSERT INTO public.%I SELECT * FROM %s', name, src);
    END IF;
    FOR c IN SELECT a.attname::text AS col
               FROM pg_attribute a JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
              WHERE a.attrelid = ('public.' || quote_ident(name))::regclass
                AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
                AND pg_get_expr(d.adbin, d.adrelid) ~ '(nextval\(|mtcbind\.)' LOOP
        seq := name || '_' || c.col || '_seq';
        EXECUTE format('CREATE SEQUENCE public.%I', seq);
        EXECUTE format('SELECT setval(%L, coalesce((SELECT max(%I) FROM public.%I), 0) + 1, false)',
                       'public.' || quote_ident(seq), c.col, name);
        EXECUTE format('ALTER TABLE public.%I ALTER COLUMN %I SET DEFAULT nextval(%L::regclass)',
                       name, c.col, 'public.' || quote_ident(seq));
    END LOOP;
    EXECUTE format('ANALYZE public.%I', name);
END
$$;

-- Makes the floor copy of every table a probed path wrote, with its rows.
CREATE FUNCTION public.floor_make() RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    r regclass;
    t text;
BEGIN
    FOR r IN SELECT DISTINCT s.rel FROM public.floor_probe_stat s
             UNION SELECT DISTINCT p.rel FROM public.floor_probe_row p LOOP
        t := public.floor_name(r);
        CONTINUE WHEN to_regclass('public.' || quote_ident(t)) IS NOT NULL;
        PERFORM public.floor_copy_table(r, t, true);
        RETURN NEXT t;
    END LOOP;
END
$$;

-- The SQL expression for one value of column col (type typ) in the floor of
-- a path.  idmap: [{"value": text, "expr": pgbench expression, "column":
-- optional column name}, ...]; anchors: [{"cte": name, "row": jsonb}, ...],
-- rows written earlier in the same statement.
CREATE FUNCTION public.floor_value(col text, typ text, val jsonb, idmap jsonb, anchors jsonb,
                                   OUT expr text, OUT anchor text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    a jsonb;
    m jsonb;
BEGIN
    IF val IS NULL OR jsonb_typeof(val) = 'null' THEN
        expr := format('NULL::%s', typ);
        RETURN;
    END IF;
    FOR a IN SELECT * FROM jsonb_array_elements(anchors) LOOP
        IF a -> 'row' -> col = val THEN
            expr := format('%I.%I::%s', a ->> 'cte', col, typ);
            anchor := a ->> 'cte';
            RETURN;
        END IF;
    END LOOP;
    FOR m IN SELECT * FROM jsonb_array_elements(idmap) LOOP
        IF (m ->> 'column' IS NULL OR m ->> 'column' = col) AND val #>> '{}' = m ->> 'value' THEN
            expr := format('(%s)::%s', m ->> 'expr', typ);
            RETURN;
        END IF;
    END LOOP;
    expr := format('%s::%s', quote_literal(val #>> '{}'), typ);
END
$$;

-- True when column col of floor table t is left to its default: an id drawn
-- from a sequence (or an identity column), or a timestamp with a default.
CREATE FUNCTION public.floor_by_default(t text, col text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(bool_or(a.attidentity <> ''
                            OR (d.adbin IS NOT NULL AND pg_get_expr(d.adbin, d.adrelid) ~ 'nextval\(')
                            OR (d.adbin IS NOT NULL AND a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype))),
                    false)
      FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE a.attrelid = ('public.' || quote_ident(t))::regclass AND a.attname = col
$$;

-- The floor of a probed path: one SQL statement for pgbench.
CREATE FUNCTION public.floor_statement(probe text, idmap jsonb) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    g record;
    pr record;
    c record;
    k integer := 0;
    t text;
    cte text;
    anchors jsonb := '[]';
    used text[] := '{}';
    bodies text[] := '{}';
    names text[] := '{}';
    cols text[];
    sel text[];
    branches text[];
    froms text[];
    v record;
    sets text[];
    where_col text;
    where_expr text;
    m jsonb;
    notify text;
    result text;
    locks text[] := '{}';
BEGIN
    -- Locks and updates first (the row the rest refers to), then tables
    -- before partitions, then in the order written.
    FOR g IN SELECT p.rel, p.op, count(*) AS n, min(p.ord) AS first
               FROM public.floor_probe_row p
               JOIN pg_class cl ON cl.oid = p.rel
              WHERE p.path = probe
              GROUP BY p.rel, p.op, cl.relispartition
              ORDER BY (p.op = 'lock') DESC, (p.op = 'update') DESC, cl.relispartition, min(p.ord) LOOP
        k := k + 1;
        cte := 'w' || k;
        t := public.floor_name(g.rel);
        IF g.op IN ('update', 'lock') THEN
            IF g.n <> 1 THEN
                RAISE EXCEPTION 'path %: % % rows of %; the floor mirrors one', probe, g.op, g.n, g.rel;
            END IF;
            SELECT * INTO pr FROM public.floor_probe_row p WHERE p.path = probe AND p.rel = g.rel AND p.op = g.op;
            -- Find the row as the path does: by the first request identity held
            -- in a column with a one-column unique index.
            where_col := NULL;
            FOR m IN SELECT * FROM jsonb_array_elements(idmap) LOOP
                SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) AS typ INTO c
                  FROM pg_attribute a
                 WHERE a.attrelid = ('public.' || quote_ident(t))::regclass AND a.attnum > 0 AND NOT a.attisdropped
                   AND pr.before ->> a.attname::text = m ->> 'value'
                   AND m ->> 'column' IS NULL
                   AND EXISTS (SELECT FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisunique
                                  AND i.indnatts = 1 AND i.indkey[0] = a.attnum AND i.indpred IS NULL)
                 ORDER BY a.attnum LIMIT 1;
                IF FOUND THEN
                    where_col := c.attname;
                    where_expr := format('(%s)::%s', m ->> 'expr', c.typ);
                    EXIT;
                END IF;
            END LOOP;
            IF where_col IS NULL THEN
                RAISE EXCEPTION 'path %: no request identity finds the row of % (%)', probe, g.rel, g.op;
            END IF;
        END IF;
        IF g.op = 'lock' THEN
            bodies := bodies || format('SELECT * FROM public.%I WHERE %I = %s FOR UPDATE', t, where_col, where_expr);
            names := names || cte;
            locks := locks || cte;
            anchors := anchors || jsonb_build_array(jsonb_build_object('cte', cte, 'row', pr.after));
        ELSIF g.op = 'update' THEN
            sets := '{}';
            FOR c IN SELECT a.attname::text AS col, format_type(a.atttypid, a.atttypmod) AS typ, a.atttypid
                       FROM pg_attribute a
                      WHERE a.attrelid = ('public.' || quote_ident(t))::regclass AND a.attnum > 0 AND NOT a.attisdropped
                        AND pr.before -> a.attname::text IS DISTINCT FROM pr.after -> a.attname::text
                      ORDER BY a.attnum LOOP
                IF jsonb_typeof(pr.after -> c.col) = 'number' AND jsonb_typeof(pr.before -> c.col) = 'number' THEN
                    sets := sets || format('%I = %I + %s', c.col, c.col,
                                           (pr.after ->> c.col)::numeric - (pr.before ->> c.col)::numeric);
                ELSIF c.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype) AND pr.after -> c.col <> 'null' THEN
                    sets := sets || format('%I = now()', c.col);
                ELSE
                    SELECT * INTO v FROM public.floor_value(c.col, c.typ, pr.after -> c.col, '[]', '[]');
                    sets := sets || format('%I = %s', c.col, v.expr);
                END IF;
            END LOOP;
            IF cardinality(sets) = 0 THEN
                RAISE EXCEPTION 'path %: the updated row of % has no changed column', probe, g.rel;
            END IF;
            bodies := bodies || format('UPDATE public.%I SET %s WHERE %I = %s', t,
                                       array_to_string(sets, ', '), where_col, where_expr);
            names := names || cte;
            anchors := anchors || jsonb_build_array(jsonb_build_object('cte', cte, 'row', pr.after));
        ELSE
            -- The columns the floor writes: every column but those left to their defaults.
            SELECT array_agg(a.attname::text ORDER BY a.attnum) INTO cols
              FROM pg_attribute a
             WHERE a.attrelid = ('public.' || quote_ident(t))::regclass AND a.attnum > 0 AND NOT a.attisdropped
               AND a.attgenerated = ''
               AND NOT (public.floor_by_default(t, a.attname::text)
                        AND NOT EXISTS (SELECT FROM public.floor_probe_row p
                                         WHERE p.path = probe AND p.rel = g.rel AND p.op = 'insert'
                                           AND jsonb_typeof(coalesce(p.after -> a.attname::text, 'null')) = 'null'));
            branches := '{}';
            FOR pr IN SELECT * FROM public.floor_probe_row p
                        WHERE p.path = probe AND p.rel = g.rel AND p.op = 'insert' ORDER BY p.ord LOOP
                sel := '{}';
                froms := '{}';
                FOR c IN SELECT a.attname::text AS col, format_type(a.atttypid, a.atttypmod) AS typ
                           FROM pg_attribute a
                          WHERE a.attrelid = ('public.' || quote_ident(t))::regclass AND a.attname = ANY (cols)
                          ORDER BY a.attnum LOOP
                    SELECT * INTO v FROM public.floor_value(c.col, c.typ, pr.after -> c.col, idmap, anchors);
                    sel := sel || v.expr;
                    IF v.anchor IS NOT NULL AND NOT v.anchor = ANY (froms) THEN
                        froms := froms || v.anchor;
                        used := used || v.anchor;
                    END IF;
                END LOOP;
                branches := branches || (format('SELECT %s', array_to_string(sel, ', '))
                                         || CASE WHEN cardinality(froms) > 0
                                                 THEN ' FROM ' || array_to_string(froms, ', ') ELSE '' END);
            END LOOP;
            bodies := bodies || format('INSERT INTO public.%I (%s) %s', t,
                                       (SELECT string_agg(quote_ident(x), ', ') FROM unnest(cols) x),
                                       array_to_string(branches, ' UNION ALL '));
            names := names || cte;
            IF g.n = 1 THEN
                SELECT p.* INTO pr FROM public.floor_probe_row p
                 WHERE p.path = probe AND p.rel = g.rel AND p.op = 'insert';
                anchors := anchors || jsonb_build_array(jsonb_build_object('cte', cte, 'row', pr.after));
            END IF;
        END IF;
    END LOOP;

    SELECT string_agg(format('pg_notify(%L, %L)', n.channel, n.payload), ', ') INTO notify
      FROM public.floor_probe_notify n WHERE n.path = probe;

    IF k = 0 THEN
        RETURN NULL;
    END IF;
    result := 'WITH ';
    FOR i IN 1 .. k LOOP
        result := result || CASE WHEN i > 1 THEN E',\n     ' ELSE '' END
                  || format(E'%s AS (%s%s)', names[i], bodies[i],
                            CASE WHEN names[i] = ANY (used) AND NOT names[i] = ANY (locks) THEN ' RETURNING *' ELSE '' END);
    END LOOP;
    -- A SELECT ... FOR UPDATE in WITH runs only if read: the final SELECT reads it.
    RETURN result || E'\nSELECT ' || coalesce(notify, '1')
           || coalesce((SELECT string_agg(format(', (SELECT count(*) FROM %I)', l), '') FROM unnest(locks) l), '') || ';';
END
$$;

-- The request identities of a probe of kind first_use, rekey or refusal for
-- pair n, each with the expression of pgbench's :n that the path's script
-- sends (test/bench/fleet_*.sql), ICCID first: the key an update finds its
-- row by.  A refusal's event names the binding that holds the card: its id
-- becomes :n (pair n is the n-th binding loaded, and no value repeats).
CREATE FUNCTION public.floor_idmap(kind text, n bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_array(
        jsonb_build_object('value', public.fleet_iccid(n)::text,
                           'expr', $e$'8949' || lpad(:n::text, 14, '0') || :cd$e$),
        jsonb_build_object('value', (CASE kind WHEN 'first_use' THEN 'new-' WHEN 'refusal' THEN 'thief-' ELSE 'dev-' END) || n,
                           'expr', format('%L || :n', CASE kind WHEN 'first_use' THEN 'new-' WHEN 'refusal' THEN 'thief-' ELSE 'dev-' END)),
        jsonb_build_object('value', public.fleet_imei(n, CASE kind WHEN 'refusal' THEN '4' ELSE '3' END)::text,
                           'expr', format($e$%L || lpad(:n::text, 13, '0')$e$, CASE kind WHEN 'refusal' THEN '4' ELSE '3' END)),
        jsonb_build_object('value', public.fleet_imsi(n)::text,
                           'expr', $e$'00' || lpad(:n::text, 13, '0')$e$))
        || CASE WHEN kind = 'refusal' THEN
               (SELECT jsonb_build_array(jsonb_build_object('value', b.binding_id::text, 'expr', ':n',
                                                            'column', 'binding_id'))
                  FROM mtcbind.binding b WHERE b.iccid = public.fleet_iccid(n))
           ELSE '[]' END
$$;
