# A session's planner settings and mtcbind's own statements
# (docs/security.md, "Planner settings"): a NAF that connects with JIT
# made to compile every statement and with index scans turned off, and
# has the backend's plans made anew, gets requests whose statements
# inside mtcbind are neither compiled nor planned with its settings, as
# pg_stat_statements (track = all) counts them; its own top-level
# statements are compiled, which shows JIT works on this machine.  A
# later session on the same backend gets the same plans.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('planner_settings');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'mtcbind, pg_stat_statements'
pg_stat_statements.track = all
jit = on
});
$node->start;
$node->safe_psql('postgres', q{
    CREATE DATABASE naf;
    CREATE ROLE naf_login LOGIN;
});
$node->safe_psql('naf', q{
    CREATE EXTENSION mtcbind;
    CREATE EXTENSION pg_stat_statements;
    GRANT mtcbind_naf TO naf_login;
    SELECT mtcbind.bind('meter-1', '89441000000000003012');
    SELECT mtcbind.block_uicc('89441000000000000125', 'the blocklist is not empty');
});

my $request = sub {
    my ($device, $card, $imsi) = @_;
    $imsi = defined $imsi ? "'$imsi'" : 'NULL';
    return "SELECT outcome FROM mtcbind.request_key("
      . "mtcbind.naf_id('naf.example.org', '\\x0100000002'), 'b\@bsf.example.org', "
      . "'\\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', "
      . "now() + interval '1 day', '$device', '$card', imsi => $imsi);\n";
};
# eight re-keyings (PostgreSQL then makes generic plans too), a first use,
# an IMSI recorded, a refusal
my $script = sub {
    my ($new_device, $new_card) = @_;
    return "DISCARD PLANS;\n"
  . ($request->('meter-1', '89441000000000003012') x 8)
  . $request->($new_device, $new_card)
  . $request->('meter-1', '89441000000000003012', '001010000000301')
  . $request->('thief-1', '89441000000000003012');
};

$node->safe_psql('naf', 'SELECT pg_stat_statements_reset()');
my $poisoned = $node->connstr('naf') . ' user=naf_login options=\''
  . '-c jit_above_cost=0 -c jit_inline_above_cost=0 -c jit_optimize_above_cost=0 '
  . '-c enable_indexscan=off -c enable_bitmapscan=off -c enable_indexonlyscan=off\'';
my ($rc, $out, $err) = $node->psql('naf', $script->('meter-2', '89441000000000003020'), connstr => $poisoned);
is($rc, 0, 'the NAF with odd planner settings gets its answers');
like($out, qr/\A(granted\n){8}bound\ngranted\nrejected\z/, 'the answers are the usual ones');

my $client_compiled = $node->safe_psql('naf', q{
    SELECT coalesce(sum(jit_functions), 0) FROM pg_stat_statements
     WHERE toplevel AND query ~ 'request_key'});
my $inner = $node->safe_psql('naf', q{
    SELECT count(*) FROM pg_stat_statements
     WHERE NOT toplevel AND query ~ '(INSERT INTO|UPDATE|DELETE FROM|FROM) mtcbind\.'});
cmp_ok($inner, '>=', 4, "pg_stat_statements saw mtcbind's statements ($inner)");
SKIP:
{
    skip 'JIT is not available on this server', 1 unless $client_compiled > 0;
    is($node->safe_psql('naf', q{SELECT coalesce(sum(jit_functions), 0) FROM pg_stat_statements WHERE NOT toplevel}), 0,
        "mtcbind's statements were not compiled (the client's were: $client_compiled functions)");
}

# The same backend, later: a pooler hands one backend to many clients.
# Here one connection sets the same settings, has the plans made anew,
# sends the same requests, sets its settings back and sends three more:
# nothing of those is compiled, top-level or inside mtcbind.
$node->safe_psql('naf', q{
    GRANT EXECUTE ON FUNCTION pg_stat_statements_reset(oid, oid, bigint) TO naf_login;
});
my $later = "SET jit_above_cost = 0; SET jit_inline_above_cost = 0; SET jit_optimize_above_cost = 0;\n"
  . "SET enable_indexscan = off; SET enable_bitmapscan = off;\n"
  . $script->('meter-3', '89441000000000003038')
  . "RESET ALL;\n"
  . "SELECT pg_stat_statements_reset() IS NULL;\n"
  . ($request->('meter-1', '89441000000000003012') x 3);
($rc, $out, $err) = $node->psql('naf', $later, connstr => $node->connstr('naf') . ' user=naf_login');
is($rc, 0, 'the second connection ran');
like($out, qr/\A(granted\n){8}bound\ngranted\nrejected\n[tf]\n(granted\n){2}granted\z/, 'with the usual answers');
my $after = $node->safe_psql('naf', q{
    SELECT sum(calls) FILTER (WHERE query ~ 'request_key') || ' ' || count(*) FILTER (WHERE NOT toplevel)
      FROM pg_stat_statements});
like($after, qr/\A3 [1-9]/, "the three requests and mtcbind's statements were counted ($after)");
SKIP:
{
    skip 'JIT is not available on this server', 1 unless $client_compiled > 0;
    is($node->safe_psql('naf', 'SELECT sum(jit_functions) FROM pg_stat_statements'), 0,
        'after RESET ALL, nothing of a request is compiled in that backend');
}

# The PL/pgSQL functions others than a superuser call keep their plans for
# the connection as well: an auditor's connection with the same settings,
# plans made anew, status() three times, then its settings back and
# status() three times more.  Nothing inside status() is compiled, while
# the auditor's own statements were, as long as its settings said so.
$node->safe_psql('naf', q{
    CREATE ROLE auditor_login LOGIN IN ROLE mtcbind_auditor;
    SELECT pg_stat_statements_reset();
});
my $status = "SELECT bindings >= 0 FROM mtcbind.status();\n";
($rc, $out, $err) = $node->psql('naf', "DISCARD PLANS;\n" . ($status x 3) . "RESET ALL;\n" . ($status x 3),
    connstr => $node->connstr('naf') . ' user=auditor_login options=\''
      . '-c jit_above_cost=0 -c jit_inline_above_cost=0 -c jit_optimize_above_cost=0 '
      . '-c enable_indexscan=off -c enable_bitmapscan=off\'');
is($rc, 0, 'the auditor called status()');
like($out, qr/\A(t\n){5}t\z/, 'status() answered six times');
SKIP:
{
    skip 'JIT is not available on this server', 2 unless $client_compiled > 0;
    cmp_ok($node->safe_psql('naf', q{SELECT coalesce(sum(jit_functions), 0) FROM pg_stat_statements WHERE toplevel}),
        '>', 0, "the auditor's own statements were compiled");
    is($node->safe_psql('naf', q{SELECT coalesce(sum(jit_functions), 0) FROM pg_stat_statements WHERE NOT toplevel}), 0,
        'nothing inside status() was compiled');
}

$node->stop;
done_testing();
