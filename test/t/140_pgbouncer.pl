# mtcbind behind a real PgBouncer in transaction pooling mode, as a NAF
# front end uses it: a primary and a hot standby, one pgbouncer with a pool
# for each (naf_rw, naf_ro), one server connection per pool so that clients
# really share backends.  Checks that request_key and the administration
# functions work through the pooler, which session state leaks from one
# client to the next (plain SET and SQL PREPARE do; SET LOCAL, per-role
# settings and request_key itself do not), that LISTEN needs a session pool,
# and the read-scaling rule of docs/poolers.md: send a request to the
# standby pool, and on SQLSTATE 25006 send it again to the primary's pool
# (the routing example of docs/poolers.md runs here against both pools).
use strict;
use warnings;
use File::Path qw(make_path);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# Debian's package installs it in /usr/sbin (scripts/setup.sh installs it).
my $pgbouncer_bin = $ENV{PGBOUNCER}
  // (grep { -x $_ } '/usr/sbin/pgbouncer', map { "$_/pgbouncer" } split /:/, $ENV{PATH})[0];
if (!defined $pgbouncer_bin)
{
    fail('pgbouncer is installed (apt-get install pgbouncer)');
    done_testing();
    exit 1;
}
my ($version_out) = run_command([ $pgbouncer_bin, '--version' ]);
note("using $version_out");

my $su = getpwuid($<);    # the clusters' bootstrap superuser

# ---------------------------------------------------------------------------
# A primary and a hot standby.
my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
# pgbouncer keeps a server connection per user and database; the standby
# inherits this (it needs at least the primary's max_connections).
$primary->append_conf('postgresql.conf', 'max_connections = 40');
$primary->start;
$primary->safe_psql('postgres', q{
    CREATE EXTENSION mtcbind;
    SELECT mtcbind.maintain_event_log();
    -- The NAF front end: re-keying writes nothing, so standbys can serve it.
    -- Set on the primary; role settings are replicated to every standby.
    CREATE ROLE naf_app LOGIN IN ROLE mtcbind_naf;
    ALTER ROLE naf_app SET mtcbind.log_key_issue = off;
    -- A NAF key centre that only serves pre-provisioned pairs.
    CREATE ROLE naf_strict LOGIN IN ROLE mtcbind_naf;
    ALTER ROLE naf_strict SET mtcbind.first_use = 'reject';
    -- A NAF role without per-role settings (for the connect_query check).
    CREATE ROLE naf_plain LOGIN IN ROLE mtcbind_naf;
    CREATE ROLE ops LOGIN IN ROLE mtcbind_admin;
    CREATE ROLE audit LOGIN IN ROLE mtcbind_auditor;
    -- Loads SIM vendor files with INSERT, the reason in mtcbind.reason.
    CREATE ROLE loader LOGIN;
    GRANT INSERT ON mtcbind.binding TO loader;
    GRANT USAGE ON SEQUENCE mtcbind.binding_binding_id_seq TO loader;
    SELECT mtcbind.bind('meter-1', '89441000000000000018');
});
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

# ---------------------------------------------------------------------------
# pgbouncer.  A node object that is never initialised gives it a free port
# and the tests' socket directory, and lets psql, background_psql and
# connstr talk to it like to a server.
my $bouncer = PostgreSQL::Test::Cluster->new('pgbouncer');
my $bdir = $bouncer->basedir;
make_path($bdir);
my $sock = $bouncer->host;
my ($pport, $sport, $bport) = ($primary->port, $standby->port, $bouncer->port);

open(my $uf, '>', "$bdir/userlist.txt") or die "userlist: $!";
print $uf qq{"$_" ""\n} for ($su, qw(naf_app naf_strict naf_plain ops audit loader));
close $uf;

open(my $ini, '>', "$bdir/pgbouncer.ini") or die "pgbouncer.ini: $!";
print $ini <<"EOF";
[databases]
naf_rw = host=$sock port=$pport dbname=postgres
naf_ro = host=$sock port=$sport dbname=postgres
; every client logs in to the server as naf_app here: per-role settings are lost
naf_shared = host=$sock port=$pport dbname=postgres user=naf_app
; an attempt to set what per-role settings are for with connect_query
naf_ro_cq = host=$sock port=$sport dbname=postgres connect_query='SET mtcbind.log_key_issue = off'
; for LISTEN: a session pool
naf_listen = host=$sock port=$pport dbname=postgres pool_mode=session

[pgbouncer]
listen_addr =
listen_port = $bport
unix_socket_dir = $sock
auth_type = trust
auth_file = $bdir/userlist.txt
admin_users = $su
pool_mode = transaction
default_pool_size = 1
reserve_pool_size = 0
max_client_conn = 100
ignore_startup_parameters = extra_float_digits
logfile = $bdir/pgbouncer.log
pidfile = $bdir/pgbouncer.pid
EOF
close $ini;

my ($pgb_out, $pgb_err) = ('', '');
my $pgb = IPC::Run::start([ $pgbouncer_bin, "$bdir/pgbouncer.ini" ],
    '>', \$pgb_out, '2>', \$pgb_err);
END
{
    # Before the clusters' own END block stops the servers; keeps the exit status.
    local $?;
    if ($pgb && $pgb->pumpable)
    {
        $pgb->signal('INT');
        $pgb->finish;
    }
}
my $ready = 0;
for (1 .. 100)
{
    if (-S "$sock/.s.PGSQL.$bport")
    {
        $ready = 1;
        last;
    }
    select(undef, undef, undef, 0.1);
}
ok($ready, 'pgbouncer is listening') or diag($pgb_err, slurp_file("$bdir/pgbouncer.log"));
is($bouncer->safe_psql('pgbouncer', 'SHOW VERSION', extra_params => [ '-U', $su ]) =~ /PgBouncer/ ? 1 : 0,
    1, 'the admin console answers');

# ---------------------------------------------------------------------------
# Clients.

# Runs $sql as $user through pgbouncer database $db: (rc, stdout, stderr).
# Errors are printed with their SQLSTATE.
sub via
{
    my ($db, $user, $sql, %opts) = @_;
    my ($out, $err) = ('', '');
    my $rc = $bouncer->psql($db, "\\set VERBOSITY verbose\n$sql",
        extra_params => [ '-U', $user ], stdout => \$out, stderr => \$err, %opts);
    return ($rc, $out, $err);
}

# The SQLSTATE of the first error in psql's verbose stderr, or 'ok'.
sub sqlstate
{
    my ($rc, $out, $err) = @_;
    return $err =~ /ERROR:\s+([0-9A-Z]{5}):/ ? $1 : ($rc == 0 ? 'ok' : "rc=$rc: $err");
}

# Output of $sql as $user through $db; fails the test on error.
sub via_ok
{
    my ($db, $user, $sql) = @_;
    my ($rc, $out, $err) = via($db, $user, $sql);
    is($rc, 0, "no error from $user via $db") or diag("$sql\n$err") if $rc;
    return $out;
}

# A client that stays connected (idle between its transactions).
sub session
{
    my ($db, $user) = @_;
    return $bouncer->background_psql($db, extra_params => [ '-U', $user ], on_error_stop => 0);
}

my $ks = '\\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
# request_key's outcome, reason (- for none) and whether ks_local is the
# key TS 33.110 derives from the returned RANDs (f when there is no key).
sub request
{
    my ($term, $card, $more) = @_;
    $more = defined $more ? ", $more" : '';
    return "SELECT r.outcome, coalesce(r.reason, '-'), "
      . "coalesce(r.ks_local = mtcbind.ks_local('$ks', 'b\@bsf.example.org', '$card', '$term', '', '', "
      . "r.rand_x, r.rand_y), false) "
      . "FROM mtcbind.request_key(mtcbind.naf_id('naf.example.org', '\\x0100000002'), "
      . "'b\@bsf.example.org', '$ks', now() + interval '1 day', '$term', '$card'$more) r";
}

my $events = sub {    # on the primary, directly
    my ($where) = @_;
    return $primary->safe_psql('postgres',
        "SELECT string_agg(event || ':' || coalesce(actor, '-') || ':' || coalesce(reason, '-'), ',' "
          . "ORDER BY event_id) FROM mtcbind.binding_event WHERE $where");
};

# ---------------------------------------------------------------------------
# 1. request_key through the primary's pool.
is(via_ok('naf_rw', 'naf_app', request('meter-2', '89441000000000000026')), 'bound|-|t',
    'naf_rw: a first use binds and returns the key derived from its RANDs');
is(via_ok('naf_rw', 'naf_app', request('meter-2', '89441000000000000026')), 'granted|-|t',
    'naf_rw: the bound pair is granted a correct key');
is(via_ok('naf_rw', 'naf_app', request('thief-2', '89441000000000000026')),
    'rejected|uicc_bound_elsewhere|f', 'naf_rw: the card in another device is refused');
is($events->("iccid = '89441000000000000026'"),
    'bound:naf_app:first use (mtcbind.first_use = bind),rejected:naf_app:uicc_bound_elsewhere',
    'recorded with the client\'s role as actor; no key_issued event (log_key_issue off for naf_app)');

# ---------------------------------------------------------------------------
# 2. Administration through the pooler, as a member of mtcbind_admin.
is(via_ok('naf_rw', 'ops', q{SELECT mtcbind.bind('meter-3', '89441000000000000034') > 0}), 't',
    'bind through the pooler');
via_ok('naf_rw', 'ops',
    q{SELECT mtcbind.authorize_transfer('89441000000000000034', 'meter-3b', reason => 'meter damaged')});
is(via_ok('naf_rw', 'naf_app', request('meter-3b', '89441000000000000034')), 'bound|-|t',
    'authorize_transfer through the pooler: the next request moves the binding');
like(via_ok('naf_rw', 'ops', q{SELECT mtcbind.block_uicc('89441000000000000034', 'stolen')}), qr/^\d+$/,
    'block_uicc through the pooler');
is(via_ok('naf_rw', 'naf_app', request('meter-3b', '89441000000000000034')), 'rejected|uicc_blocked|f',
    '... the blocked card is refused');
is(via_ok('naf_rw', 'ops', q{SELECT mtcbind.unblock_uicc('89441000000000000034', 'found');
    SELECT mtcbind.unbind('89441000000000000034', 'card returned')}), "t\nt",
    'unblock_uicc and unbind through the pooler');
like(via_ok('naf_rw', 'ops', q{SELECT mtcbind.rebind('89441000000000000026', 'meter-2b', 'field swap');
    SELECT mtcbind.block_device('meter-99', 'stolen from site 12')}), qr/^\d+\n\d+$/,
    'rebind and block_device through the pooler');
is(via_ok('naf_rw', 'naf_app', request('meter-2b', '89441000000000000026')), 'granted|-|t',
    '... the rebound pair is granted');
is($primary->safe_psql('postgres',
        "SELECT string_agg(DISTINCT event::text, ',' ORDER BY event::text) FROM mtcbind.binding_event WHERE actor = 'ops'"),
    'blocked,bound,rebound,transfer_authorized,unblocked,unbound',
    'every administration event names the admin\'s own role (per-user pools)');
is(sqlstate(via('naf_ro', 'ops', q{SELECT mtcbind.bind('meter-4', '89441000000000000042')})), '25006',
    'administration through the standby pool fails with 25006');

# ---------------------------------------------------------------------------
# 3. Session state under transaction pooling.  Clients of one user and
# database share the pool's single server connection.
# (The first line loads mtcbind's library, which defines its settings.)
my $fresh_state_sql = q{SELECT mtcbind.naf_id('naf.example.org', '\x0100000002') IS NOT NULL;
    SELECT current_setting('mtcbind.first_use'), current_setting('mtcbind.log_key_issue'),
    current_setting('mtcbind.key_lifetime'), current_setting('mtcbind.reason'),
    current_setting('transaction_isolation'), current_setting('search_path'),
    (SELECT count(*) FROM pg_prepared_statements), (SELECT count(*) FROM pg_cursors),
    (SELECT count(*) FROM pg_listening_channels()),
    (SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()),
    (SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory')};

# 3a. A plain SET by one client changes the answers another client gets.
my $first = session('naf_rw', $su);
my $pid = $first->query('SELECT pg_backend_pid()');
$first->query(q{SET mtcbind.first_use = 'reject'});
is(via_ok('naf_rw', $su, q{SELECT pg_backend_pid(), current_setting('mtcbind.first_use')}), "$pid|reject",
    'plain SET leaks: the next client on the same server connection inherits first_use = reject');
is(via_ok('naf_rw', $su, request('meter-4', '89441000000000000042')), 'rejected|not_provisioned|f',
    '... and its first use is refused because of another client\'s SET');
$first->query('RESET mtcbind.first_use');

# 3b. SET LOCAL ends with its transaction.
is($first->query(qq{BEGIN;
    SET LOCAL mtcbind.first_use = 'reject';
    @{[ request('meter-5', '89441000000000000059') ]};
    COMMIT}), 'rejected|not_provisioned|f', 'SET LOCAL applies inside the client\'s transaction');
is(via_ok('naf_rw', $su, q{SELECT pg_backend_pid(), current_setting('mtcbind.first_use')}), "$pid|bind",
    'SET LOCAL does not leak to the next client on the same server connection');
is(via_ok('naf_rw', $su, request('meter-4', '89441000000000000042')), 'bound|-|t',
    '... whose first use binds');
$first->quit;

# 3c. mtcbind.reason: a plain SET is recorded for someone else's change.
my $l = session('naf_rw', 'loader');
$l->query(q{SET mtcbind.reason = 'vendor file 7'});
via_ok('naf_rw', 'loader',
    q{INSERT INTO mtcbind.binding (terminal_id, iccid) VALUES ('meter-6', '89441000000000000067')});
is($events->("terminal_id = 'meter-6'"), 'bound:loader:vendor file 7',
    'plain SET mtcbind.reason leaks: another client\'s INSERT is recorded with it');
$l->query('RESET mtcbind.reason');
$l->query(q{BEGIN;
    SET LOCAL mtcbind.reason = 'vendor file 8';
    INSERT INTO mtcbind.binding (terminal_id, iccid) VALUES ('meter-7', '89441000000000000075');
    COMMIT});
via_ok('naf_rw', 'loader',
    q{INSERT INTO mtcbind.binding (terminal_id, iccid) VALUES ('meter-8', '89441000000000000083')});
is($events->("terminal_id IN ('meter-7', 'meter-8')"), 'bound:loader:vendor file 8,bound:loader:-',
    'SET LOCAL mtcbind.reason is recorded for its own transaction only');
$l->quit;

# 3d. Per-role settings come with the server connection's role.
is(via_ok('naf_rw', 'naf_strict', request('meter-9', '89441000000000000091')), 'rejected|not_provisioned|f',
    'ALTER ROLE naf_strict SET mtcbind.first_use = reject applies through its own pool');
is(sqlstate(via('naf_rw', 'naf_strict', q{SET mtcbind.first_use = 'bind'})), '42501',
    '... and the NAF role cannot SET it back (superuser-only setting)');
is(via_ok('naf_rw', 'naf_app', q{SELECT current_setting('mtcbind.first_use')}), 'bind',
    '... while naf_app\'s pool keeps the default');
is(via_ok('naf_shared', 'naf_strict', 'SELECT session_user; ' . request('meter-9', '89441000000000000091')),
    "naf_app\nbound|-|t",
    'a pool with a fixed user= logs everyone in as that user: naf_strict\'s setting is lost');
is($events->("terminal_id = 'meter-9' AND event = 'bound'"), 'bound:naf_app:first use (mtcbind.first_use = bind)',
    '... and the audit log names the pool\'s user');

# 3e. request_key leaves nothing behind for the next client.
my $fresh = $primary->safe_psql('postgres', $fresh_state_sql, extra_params => [ '-U', 'naf_app' ]);
$first = session('naf_rw', 'naf_app');
$pid = $first->query('SELECT pg_backend_pid()');
is($first->query(request('meter-10', '89441000000000001016') . ';' . request('meter-10', '89441000000000001016')
      . ';' . request('thief-10', '89441000000000001016')
      . ";BEGIN;" . request('meter-10', '89441000000000001016') . ";ROLLBACK"),
    "bound|-|t\ngranted|-|t\nrejected|uicc_bound_elsewhere|f\ngranted|-|t",
    'one client: first use, re-key, refusal, a rolled back re-key');
$first->query(q{SELECT * FROM mtcbind.request_key('\x00', 'b', '\x00', now(), 't', '89441000000000001016')});
is(via_ok('naf_rw', 'naf_app', "SELECT pg_backend_pid(); $fresh_state_sql"), "$pid\n$fresh",
    'the next client on the same server connection sees the state of a fresh session');
is(via_ok('naf_rw', 'ops', q{SELECT current_setting('mtcbind.reason')}), '',
    'the administration functions\' reasons do not stay in mtcbind.reason');

# 3f. The policy cache of a pooled backend follows changes made elsewhere.
via_ok('naf_rw', $su, q{SELECT mtcbind.set_policy('first_use', 'reject', 'pooler test')});
is(via_ok('naf_rw', 'naf_app', 'SELECT pg_backend_pid(); ' . request('meter-11', '89441000000000001024')),
    "$pid\nrejected|not_provisioned|f",
    'a policy set by another client applies at once on the pooled backend that cached the old one');
via_ok('naf_rw', $su, q{SELECT mtcbind.set_policy('first_use', NULL, 'pooler test done')});
is(via_ok('naf_rw', 'naf_app', request('meter-11', '89441000000000001024')), 'bound|-|t',
    '... and its removal too');

# 3g. SQL-level PREPARE belongs to the server connection, not the client.
$first->query('PREPARE whoami AS SELECT current_user');
is(via_ok('naf_rw', 'naf_app', 'SELECT name FROM pg_prepared_statements; EXECUTE whoami'),
    "whoami\nnaf_app", 'PREPARE leaks: another client sees and executes it');
$first->query('DEALLOCATE whoami');
$first->quit;

# Protocol-level prepared statements (psycopg 3): pgbouncer 1.18 does not
# track them, so two clients' statements meet on one server connection.
open(my $py, '>', "$bdir/prepared.py") or die;
print $py <<'EOF';
import sys
import psycopg

def run(threshold, prepare):
    # Starts from a server connection without prepared statements.
    with psycopg.connect(sys.argv[1], autocommit=True) as c:
        c.execute("DEALLOCATE ALL")
    a = psycopg.connect(sys.argv[1], autocommit=True, prepare_threshold=threshold)
    b = psycopg.connect(sys.argv[1], autocommit=True, prepare_threshold=threshold)
    try:
        for conn in (a, b, a, b):
            for _ in range(6):
                conn.execute("SELECT mtcbind.naf_id('naf.example.org', %s)",
                             (b"\x01\x00\x00\x00\x02",), prepare=prepare)
        return "ok"
    except psycopg.Error as e:
        return e.sqlstate
    finally:
        a.close()
        b.close()


print(run(5, True), run(5, None), run(None, None))
with psycopg.connect(sys.argv[1], autocommit=True) as c:
    c.execute("DEALLOCATE ALL")
EOF
close $py;
my $rw_dsn = "host=$sock port=$bport dbname=naf_rw user=naf_app";
my $ro_dsn = "host=$sock port=$bport dbname=naf_ro user=naf_app";
my ($pyout, $pyerr) = run_command([ '/usr/bin/python3', "$bdir/prepared.py", $rw_dsn ]);
is($pyout, '42P05 42P05 ok',
    'psycopg 3: prepare=True and the default prepare_threshold collide on the shared connection; '
      . 'prepare_threshold=None works') or diag($pyerr);

# 3h. LISTEN through a transaction pool: the server connection listens, not
# the client.  pgbouncer drops what arrives while no client is linked, and
# the next client of the pool gets the rest.  A session pool works.
my $tl = session('naf_rw', 'audit');
my $sl = session('naf_listen', 'audit');
$tl->query('LISTEN mtcbind_rejected');
$sl->query('LISTEN mtcbind_rejected');
is(via_ok('naf_rw', 'naf_app', request('thief-11', '89441000000000001024')),
    'rejected|uicc_bound_elsewhere|f', 'a refusal is announced');
my $dropped = 0;
for (1 .. 100)
{
    last if ($dropped = () = slurp_file("$bdir/pgbouncer.log") =~ /got packet 'A' from server when not linked/g);
    select(undef, undef, undef, 0.1);
}
is($dropped, 1, 'pgbouncer drops the notification that reaches the idle server connection');
unlike($tl->query('SELECT 1'), qr/Asynchronous notification/, 'the client that ran LISTEN never hears it');
like($sl->query('SELECT 1'), qr/Asynchronous notification "mtcbind_rejected" with payload "\{"reason": "uicc_bound_elsewhere"/,
    'LISTEN through a session pool (pool_mode=session): the refusal arrives');
my $other = session('naf_rw', 'audit');
is($other->query(q{BEGIN; SELECT string_agg(c, ',') FROM pg_listening_channels() c}), 'mtcbind_rejected',
    'another client of the transaction pool is listening without having asked');
via_ok('naf_rw', 'naf_app', request('thief-11', '89441000000000001024'));
like($other->query('COMMIT'), qr/Asynchronous notification "mtcbind_rejected"/,
    '... and receives the next refusal\'s notification');
$other->quit;
$tl->quit;
$sl->quit;

# 3i. What a superuser SETs stays on the server connection after the client
# has gone: the drop guard's opt-in too.
via_ok('naf_rw', $su, 'SET mtcbind.allow_drop_with_data = on');
is(via_ok('naf_rw', $su, q{SELECT current_setting('mtcbind.allow_drop_with_data')}), 'on',
    'SET mtcbind.allow_drop_with_data outlives its client: the next superuser client has it on');
via_ok('naf_rw', $su, 'RESET mtcbind.allow_drop_with_data');
# SET LOCAL in the DROP's own transaction is the form that cannot leak.
$primary->safe_psql('postgres', 'CREATE DATABASE scratch');
$primary->safe_psql('scratch', q{SET client_min_messages = error; CREATE EXTENSION mtcbind;
    SELECT mtcbind.bind('meter-x', '89441000000000000018')});
is(sqlstate($primary->psql('scratch', "\\set VERBOSITY verbose\nDROP EXTENSION mtcbind")), 'MB009',
    'scratch database: the drop guard refuses');
is($primary->psql('scratch', q{BEGIN; SET LOCAL mtcbind.allow_drop_with_data = on; DROP EXTENSION mtcbind; COMMIT}),
    0, '... and BEGIN; SET LOCAL ...; DROP EXTENSION; COMMIT opts in for that transaction only');

# ---------------------------------------------------------------------------
# 4. Read scaling: re-keying on the standby, everything that writes on the
# primary, chosen by one SQLSTATE.
$primary->wait_for_catchup($standby);
is(via_ok('naf_ro', 'naf_app', 'SELECT pg_is_in_recovery(); ' . request('meter-1', '89441000000000000018')),
    "t\ngranted|-|t", 'naf_ro: the standby grants a bound pair a correct key (log_key_issue off for naf_app)');
is(sqlstate(via('naf_ro', 'naf_app', request('meter-12', '89441000000000001032'))), '25006',
    'naf_ro: a first use fails with 25006');
is(via_ok('naf_rw', 'naf_app', request('meter-12', '89441000000000001032')), 'bound|-|t',
    '... sent again to naf_rw, it binds');
is(sqlstate(via('naf_ro', 'naf_app', request('thief-12', '89441000000000001032'))), '25006',
    'naf_ro: a refusal must be recorded, so it fails with 25006 too');
$primary->wait_for_catchup($standby);
is(sqlstate(via('naf_ro', 'naf_app', request('meter-12', '89441000000000001032', "imei => '351234560000028'"))),
    '25006', 'naf_ro: a bound device that reports an IMEI not recorded yet (drift) fails with 25006');
is(via_ok('naf_rw', 'naf_app', request('meter-12', '89441000000000001032', "imei => '351234560000028'")),
    'granted|-|t', '... naf_rw grants it and records the IMEI');
$primary->wait_for_catchup($standby);
is(via_ok('naf_ro', 'naf_app', request('meter-12', '89441000000000001032', "imei => '351234560000028'")),
    'granted|-|t', '... after which naf_ro serves its re-keys');
via_ok('naf_rw', 'ops', q{SELECT mtcbind.authorize_transfer('89441000000000001032', 'meter-12b', reason => 'swap')});
$primary->wait_for_catchup($standby);
is(sqlstate(via('naf_ro', 'naf_app', request('meter-12b', '89441000000000001032'))), '25006',
    'naf_ro: an authorised transfer fails with 25006');
is(via_ok('naf_rw', 'naf_app', request('meter-12b', '89441000000000001032')), 'bound|-|t',
    '... naf_rw moves the binding');
is(sqlstate(via('naf_ro', 'naf_plain', request('meter-1', '89441000000000000018'))), '25006',
    'naf_ro: a role that logs key issues (the default) cannot re-key on the standby');

# The example of docs/poolers.md, run against both pools.
my $docs = ($ENV{MTCBIND_DOCS_ROOT} // '.') . '/docs/poolers.md';
my ($example) = slurp_file($docs) =~ /^```python[ \t]*\n(.*?)^```[ \t]*$/ms;
ok(defined $example, "found the routing example in $docs");
open($py, '>', "$bdir/route.py") or die;
print $py $example // '';
close $py;
{
    local $ENV{NAF_RW_DSN} = $rw_dsn;
    local $ENV{NAF_RO_DSN} = $ro_dsn;
    ($pyout, $pyerr) = run_command([ '/usr/bin/python3', "$bdir/route.py" ]);
    is($pyout, "meter-0100 bound - naf_rw\ntracker-0666 rejected uicc_bound_elsewhere naf_rw",
        'docs example, first run: the first use and the refusal fail over from naf_ro to naf_rw')
      or diag($pyerr);
    $primary->wait_for_catchup($standby);
    ($pyout, $pyerr) = run_command([ '/usr/bin/python3', "$bdir/route.py" ]);
    is($pyout, "meter-0100 granted - naf_ro\ntracker-0666 rejected uicc_bound_elsewhere naf_rw",
        'docs example, second run: the re-key is served by naf_ro, the refusal by naf_rw')
      or diag($pyerr);
}

# A standby answers from what it has replayed: a block that has not reached
# it yet does not stop a re-key there.
$standby->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
via_ok('naf_rw', 'ops', q{SELECT mtcbind.block_uicc('89441000000000000018', 'stolen, report 4711')});
is(via_ok('naf_ro', 'naf_app', request('meter-1', '89441000000000000018')), 'granted|-|t',
    'a standby that has not replayed a block still grants (replication lag)');
$standby->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
$primary->wait_for_catchup($standby);
is(sqlstate(via('naf_ro', 'naf_app', request('meter-1', '89441000000000000018'))), '25006',
    'once replayed, the refusal must be recorded: 25006 on the standby');
is(via_ok('naf_rw', 'naf_app', request('meter-1', '89441000000000000018')), 'rejected|uicc_blocked|f',
    '... and the primary refuses it');

# Where log_key_issue = off can come from.  connect_query runs as the pool's
# non-superuser role: its SET of a superuser-only setting does not hold.
$primary->wait_for_catchup($standby);
my ($rc, $out, $err) = via('naf_ro_cq', 'naf_plain', request('meter-12b', '89441000000000001032'));
is(sqlstate($rc, $out, $err), '25006', 'connect_query cannot turn key logging off for a NAF role');
like($err, qr/permission denied to set parameter "mtcbind.log_key_issue"/, '... PostgreSQL says why');
# Connection options do not pass through pgbouncer.
($rc, $out, $err) = via('naf_ro', 'naf_app', 'SELECT 1',
    connstr => $bouncer->connstr('naf_ro') . q{ options='-c mtcbind.first_use=reject'});
like($err, qr/unsupported startup parameter: options/, 'pgbouncer refuses libpq options (PGOPTIONS)');

# libpq without a pooler: a multi-host connection string with
# target_session_attrs picks the server by its role.
my $hosts = "host=$sock,$sock port=$sport,$pport dbname=postgres user=naf_app";
is($primary->safe_psql('postgres', 'SELECT pg_is_in_recovery()',
        connstr => "$hosts target_session_attrs=read-write"), 'f',
    'libpq target_session_attrs=read-write (standby listed first) lands on the primary');
is($primary->safe_psql('postgres', 'SELECT pg_is_in_recovery()',
        connstr => "host=$sock,$sock port=$pport,$sport dbname=postgres user=naf_app target_session_attrs=prefer-standby"),
    't', 'libpq target_session_attrs=prefer-standby (primary listed first) lands on the standby');

# ---------------------------------------------------------------------------
my @trouble = grep { /pooler error|login failed|FATAL|ERROR/ && !/unsupported startup parameter/ }
  split /\n/, slurp_file("$bdir/pgbouncer.log");
is(join("\n", @trouble), '', 'pgbouncer logged no other errors');

$pgb->signal('INT');
$pgb->finish;
$standby->stop;
$primary->stop;
done_testing();
