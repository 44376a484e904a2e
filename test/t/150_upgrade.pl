# Upgrading in place: a 1.0 database with bindings, a block, a transfer
# authorisation, day partitions and events is updated to 1.1 with ALTER
# EXTENSION; every row is still there, 1.1's functions work, and the
# upgraded catalog is the same as a fresh 1.1 install's.  Also: the shared
# library has every C symbol any shipped script names.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'mtcbind'");
$node->start;

# --- every symbol of every shipped script is in the library -------------
my $sharedir = `pg_config --sharedir`;
chomp $sharedir;
my $pkglibdir = `pg_config --pkglibdir`;
chomp $pkglibdir;
my @scripts = glob("$sharedir/extension/mtcbind--*.sql");
ok(scalar(grep { /mtcbind--1\.0\.sql$/ } @scripts) && scalar(grep { /mtcbind--1\.0--1\.1\.sql$/ } @scripts),
   'the 1.0 install script and the 1.0 -> 1.1 upgrade are installed');
my %wanted;
for my $script (@scripts) {
    open my $fh, '<', $script or die "$script: $!";
    local $/;
    my $text = <$fh>;
    $wanted{$1} = 1 while $text =~ /'MODULE_PATHNAME',\s*'([A-Za-z0-9_]+)'/g;
}
my %exported = map { (split ' ')[-1] => 1 } grep { / T / } split /\n/, `nm -D --defined-only $pkglibdir/mtcbind.so`;
my @missing = grep { !$exported{$_} } sort keys %wanted;
ok(scalar(keys %wanted) > 40, 'the scripts name the library\'s functions (' . scalar(keys %wanted) . ')');
is(join(',', @missing), '', 'mtcbind.so exports every symbol a shipped script names');

# --- a 1.0 database in use -----------------------------------------------
$node->safe_psql('postgres', 'CREATE DATABASE old');
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
my $k = q{'\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'};
my $req = sub {
    my ($term, $card) = @_;
    return "SELECT outcome FROM mtcbind.request_key(mtcbind.naf_id('naf.example.org', '\\x0100000002'), "
      . "'b\@bsf.example.org', $k, now() + interval '1 day', '$term', '$card')";
};
$node->safe_psql('old', q{
    CREATE EXTENSION mtcbind VERSION '1.0';
    SELECT mtcbind.maintain_event_log(2);
    SELECT mtcbind.bind('meter-1', '89441000000000000018', imei => '490154203237518');
    SELECT mtcbind.bind('meter-2', '89441000000000000026');
    SELECT mtcbind.bind('meter-3', '89441000000000000034');
    SELECT mtcbind.authorize_transfer('89441000000000000026', 'meter-9', interval '2 days', 'repair');
    SELECT mtcbind.block_uicc('89441000000000000034', 'reported stolen');
    SELECT mtcbind.set_policy('max_key_lifetime', '12 hours', 'audit finding 7');
});
is($node->safe_psql('old', $req->('meter-1', '89441000000000000018')), 'granted', '1.0 grants a bound pair');
is($node->safe_psql('old', $req->('thief', '89441000000000000018')), 'rejected', '1.0 refuses a thief');
is($node->safe_psql('old', q{SELECT extversion FROM pg_extension WHERE extname = 'mtcbind'}), '1.0', 'installed as 1.0');
# The compact key-issue log needs 1.1's table: under 1.0 the request fails
# with a clear error and records nothing.
{
    my ($rc, $out, $err) = $node->psql('old', 'SET mtcbind.key_issue_log = compact; ' . $req->('meter-1', '89441000000000000018'));
    like($err, qr/key_issue_log = compact needs mtcbind 1\.1/, '1.0 with key_issue_log = compact: a clear error');
    my $events = q{SELECT count(*) FROM mtcbind.binding_event WHERE event = 'rejected'};
    my $refusals = $node->safe_psql('old', $events);
    ($rc, $out, $err) = $node->psql('old', 'SET mtcbind.refusal_log = compact; ' . $req->('thief', '89441000000000000018'));
    like($err, qr/refusal_log = compact needs mtcbind 1\.1/, '1.0 with refusal_log = compact: a clear error');
    is($node->safe_psql('old', $events), $refusals, '... and no refusal recorded half');
}

my $rows_sql = q{
    SELECT 'binding', count(*), md5(string_agg(b::text, '|' ORDER BY binding_id)) FROM mtcbind.binding b
    UNION ALL SELECT 'event', count(*), md5(string_agg(e::text, '|' ORDER BY event_id)) FROM mtcbind.binding_event e
    UNION ALL SELECT 'blocklist', count(*), md5(string_agg(k::text, '|' ORDER BY block_id)) FROM mtcbind.blocklist k
    UNION ALL SELECT 'transfer', count(*), md5(string_agg(t::text, '|' ORDER BY authorization_id)) FROM mtcbind.transfer_authorization t
    UNION ALL SELECT 'policy', count(*), md5(string_agg(p::text, '|' ORDER BY name)) FROM mtcbind.policy p
    UNION ALL SELECT 'sequence', last_value, '' FROM mtcbind.binding_binding_id_seq
    ORDER BY 1};
my $before = $node->safe_psql('old', $rows_sql);

# A backup taken under 1.0, as docs/dba-guide.md takes one; restored below
# into a server that has 1.1.
my $dump10 = $node->basedir . '/old-1.0.dump';
command_ok(['pg_dump', '-Fc', '-f', $dump10, '-p', $node->port, '-h', $node->host, 'old'],
           'a 1.0 database is dumped');

# --- the update ------------------------------------------------------------
$node->safe_psql('old', 'ALTER EXTENSION mtcbind UPDATE');
# docs/upgrading.md: the update makes no day partition of the compact
# key-issue log (it would belong to the extension and be left out of
# dumps); the next maintenance makes them.
is($node->safe_psql('old', q{SELECT mtcbind.maintain_event_log(2)}), '3',
   'after the update, maintenance makes the key-issue log\'s day partitions');
is($node->safe_psql('old', q{SELECT extversion FROM pg_extension WHERE extname = 'mtcbind'}), '1.1',
   'ALTER EXTENSION mtcbind UPDATE brings it to 1.1');
is($node->safe_psql('old', $rows_sql), $before, 'every binding, event, block, transfer, policy and the sequence are intact');

# --- 1.1 works on the upgraded database ----------------------------------
is($node->safe_psql('old', $req->('meter-1', '89441000000000000018')), 'granted', 'request_key grants after the update');
is($node->safe_psql('old', $req->('meter-9', '89441000000000000026')), 'bound', 'the 1.0 transfer authorisation is used after the update');
is($node->safe_psql('old', $req->('meter-4', '89441000000000000042')), 'bound', 'a first use binds after the update');
is($node->safe_psql('old', q{SELECT event FROM mtcbind.binding_event WHERE terminal_id = 'meter-4' AND event = 'bound'}),
   'bound', '... and the per-statement audit records it');
$node->safe_psql('old', q{
    CREATE TABLE vendor (terminal_id text, iccid text);
    INSERT INTO vendor VALUES ('meter-5', '89441000000000000059'), ('meter-6', '89441000000000000018');
});
is($node->safe_psql('old', q{SELECT line || ':' || sqlstate FROM mtcbind.provision('vendor', 'skip', 'vendor file')}),
   '2:MB002', 'provision binds the good line and reports the card bound elsewhere');
is($node->safe_psql('old', q{SELECT count(*) FROM mtcbind.binding_event WHERE terminal_id = 'meter-5' AND reason = 'vendor file'}),
   '1', '... with its bound event');
is($node->safe_psql('old', q{SELECT sum(requests) FILTER (WHERE outcome = 'granted') FROM mtcbind.request_counts()}),
   '2', 'request_counts counts the grants since the server started (the 1.0 one too: same library)');
# An answer rolled back to a savepoint, or with its transaction, is not counted.
my $counted = q{SELECT sum(requests) FROM mtcbind.request_counts()};
my $before_rollbacks = $node->safe_psql('old', $counted);
$node->safe_psql('old', 'BEGIN; SAVEPOINT s; ' . $req->('meter-1', '89441000000000000018') . '; ROLLBACK TO s; COMMIT;');
$node->safe_psql('old', 'BEGIN; ' . $req->('meter-1', '89441000000000000018') . '; ROLLBACK;');
is($node->safe_psql('old', $counted), $before_rollbacks, 'answers rolled back (to a savepoint, or entirely) are not counted');
$node->safe_psql('old', 'BEGIN; SAVEPOINT s; ' . $req->('meter-1', '89441000000000000018') . '; RELEASE s; ' . $req->('meter-1', '89441000000000000018') . '; COMMIT;');
is($node->safe_psql('old', $counted), $before_rollbacks + 2, '... and answers committed through a released savepoint are');
is($node->safe_psql('old', q{SELECT pending_transfers, blocklist_entries, refusals_last_hour, event_partitions FROM mtcbind.status()}),
   '0|1|1|4', 'status reads the upgraded tables (the refusal made under 1.0 included)');

# --- upgraded catalog = fresh 1.1 catalog -------------------------------
$node->safe_psql('fresh', q{CREATE EXTENSION mtcbind; SELECT mtcbind.maintain_event_log(2);});
is($node->safe_psql('fresh', q{SELECT extversion FROM pg_extension WHERE extname = 'mtcbind'}), '1.1', 'a fresh install is 1.1');

# What the extension is made of: its member objects with their definitions,
# privileges and comments, and the tables and indexes of schema mtcbind
# (day partitions are not members).  No OIDs, so two databases compare.
my $catalog_sql = q{
    WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'mtcbind'),
    members AS (
        SELECT d.classid, d.objid, d.objsubid FROM pg_depend d, ext
         WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e')
    SELECT 'member ' || pg_describe_object(classid, objid, objsubid) FROM members
    UNION ALL
    SELECT 'function ' || p.oid::regprocedure || ' ' || pg_get_functiondef(p.oid) || ' acl ' || coalesce(p.proacl::text, '')
          || ' comment ' || coalesce(obj_description(p.oid, 'pg_proc'), '')
      FROM pg_proc p WHERE p.pronamespace = 'mtcbind'::regnamespace AND p.prokind IN ('f', 'p')
    UNION ALL
    SELECT 'relation ' || c.relname || ' ' || c.relkind::text || ' acl ' || coalesce(c.relacl::text, '')
          || ' comment ' || coalesce(obj_description(c.oid, 'pg_class'), '')
      FROM pg_class c WHERE c.relnamespace = 'mtcbind'::regnamespace
    UNION ALL
    SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
          || ' ' || a.attnotnull || ' ' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '') || ' ' || a.attnum
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
     WHERE c.relnamespace = 'mtcbind'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
      FROM pg_constraint WHERE connamespace = 'mtcbind'::regnamespace
    UNION ALL
    SELECT 'index ' || pg_get_indexdef(indexrelid)
      FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = 'mtcbind'::regnamespace
    UNION ALL
    SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     WHERE c.relnamespace = 'mtcbind'::regnamespace AND NOT t.tgisinternal
    UNION ALL
    SELECT 'event trigger ' || evtname || ' ' || evtevent || ' ' || evtenabled::text || ' ' || evtfoid::regproc
          || ' ' || coalesce(evttags::text, '') FROM pg_event_trigger
    UNION ALL
    SELECT 'operator ' || o.oid::regoperator || ' ' || o.oprcode::regproc FROM pg_operator o
     WHERE o.oprcode::regproc::text LIKE 'mtcbind.%'
    UNION ALL
    SELECT 'config ' || coalesce(extconfig::regclass[]::text, '') || ' ' || coalesce(extcondition::text, '')
      FROM pg_extension WHERE extname = 'mtcbind'
    ORDER BY 1};
# The CHECK constraints replaced by 1.1 stay NOT VALID where rows were
# stored under 1.0; the DBA's optional step in docs/upgrading.md validates
# them, and then nothing differs from a fresh install.
my $not_valid = q{SELECT string_agg(DISTINCT conname, ',' ORDER BY conname) FROM pg_constraint
                   WHERE connamespace = 'mtcbind'::regnamespace AND NOT convalidated};
is($node->safe_psql('old', $not_valid),
   'binding_appli_id_check,binding_imeisv_check,binding_terminal_id_check',
   'after the update, the three replaced CHECK constraints of a binding table that held rows are NOT VALID');
is($node->safe_psql('fresh', $not_valid), '', 'a fresh install has every constraint validated');
# A backup of the updated database, taken before the DBA validates them,
# restores (NOT VALID constraints of extension tables are not in a dump).
my $dump11 = $node->basedir . '/updated-1.1.dump';
command_ok(['pg_dump', '-Fc', '-f', $dump11, '-p', $node->port, '-h', $node->host, 'old'],
           'the updated database is dumped before the VALIDATE step');
$node->safe_psql('postgres', 'CREATE DATABASE restored11');
{
    local $ENV{PGOPTIONS} = '-c session_replication_role=replica';
    command_ok(['pg_restore', '--exit-on-error', '--single-transaction', '-p', $node->port, '-h', $node->host,
                '-d', 'restored11', $dump11],
               '... and restores into a new database');
}
is($node->safe_psql('restored11', $rows_sql), $node->safe_psql('old', $rows_sql), '... with every row');
$node->safe_psql('old', q{
    ALTER TABLE mtcbind.binding VALIDATE CONSTRAINT binding_terminal_id_check;
    ALTER TABLE mtcbind.binding VALIDATE CONSTRAINT binding_appli_id_check;
    ALTER TABLE mtcbind.binding VALIDATE CONSTRAINT binding_imeisv_check;});
my $upgraded = $node->safe_psql('old', $catalog_sql);
my $fresh = $node->safe_psql('fresh', $catalog_sql);
ok(length($fresh) > 10000, 'the catalog description is substantial (' . length($fresh) . ' characters)');
if ($upgraded eq $fresh) {
    pass('the upgraded catalog equals a fresh 1.1 install');
} else {
    my %f = map { $_ => 1 } split /\n/, $fresh;
    my %u = map { $_ => 1 } split /\n/, $upgraded;
    diag("only upgraded: $_") for grep { !$f{$_} } sort keys %u;
    diag("only fresh: $_") for grep { !$u{$_} } sort keys %f;
    fail('the upgraded catalog equals a fresh 1.1 install');
}

# pg_dump's view of the schema (day partitions, which belong to no
# extension, and the CREATE EXTENSION line) is the same too.
$node->safe_psql('old', 'DROP TABLE vendor');
my $dump = sub {
    my ($db) = @_;
    my $out = `pg_dump --schema-only --no-owner -p ${\ $node->port} -h ${\ $node->host} $db`;
    $out =~ s/^--.*\n//mg;
    $out =~ s/^\\(un)?restrict .*\n//mg;    # a random key per run
    return join("\n", grep { /\S/ } split /\n/, $out);
};
is($dump->('old'), $dump->('fresh'), 'pg_dump --schema-only: the same schema after update and after a fresh install');

# The 1.0 backup restores into a new database of this 1.1 server, the way
# docs/dba-guide.md restores: its CREATE EXTENSION names no version, so the
# restore creates 1.1 and attaches the dumped day partitions to 1.1's event
# log.  Every row comes back, and the bindings are checked by 1.1's rules.
$node->safe_psql('postgres', 'CREATE DATABASE restored10');
{
    local $ENV{PGOPTIONS} = '-c session_replication_role=replica';
    command_ok(['pg_restore', '--exit-on-error', '--single-transaction', '-p', $node->port, '-h', $node->host,
                '-d', 'restored10', $dump10],
               'a 1.0 dump restores into a server with 1.1');
}
is($node->safe_psql('restored10', q{SELECT extversion FROM pg_extension WHERE extname = 'mtcbind'}), '1.1',
   '... as version 1.1');
is($node->safe_psql('restored10', $rows_sql), $before, '... with every binding, event, block, transfer, policy and the sequence');
is($node->safe_psql('restored10', $req->('meter-1', '89441000000000000018')), 'granted', '... and grants a bound pair');

$node->stop;
done_testing();
