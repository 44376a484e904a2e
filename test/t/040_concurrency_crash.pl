# Random concurrent clients request keys for a small pool of devices and
# cards while administrators unbind and authorise transfers; then the
# server is killed mid-load and restarted.  After each phase the invariant
# and the audit trail are checked offline:
#  - no device, UICC, IMEI or IMSI in two bindings (SQL, and amcheck on
#    every index of mtcbind.binding with heapallindexed);
#  - the audit log accounts for every live binding:
#    bindings = 'bound' events - 'unbound' events;
#  - no client ever saw an error (pgbench counts none).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 40\n");
$node->start;

# A pool of 60 valid ICCIDs (Luhn computed here, independently of the extension).
sub luhn_digit {
    my ($digits) = @_;
    my ($sum, $i) = (0, 0);
    for my $c (reverse split //, $digits) {
        my $d = $c;
        if ($i++ % 2 == 0) { $d *= 2; $d -= 9 if $d > 9; }
        $sum += $d;
    }
    return (10 - $sum % 10) % 10;
}
my @cards = map { my $b = sprintf('894470%012d', $_); $b . luhn_digit($b) } 1 .. 60;
my $values = join(',', map { "($_, '$cards[$_ - 1]')" } 1 .. 60);
$node->safe_psql('postgres', qq{
    CREATE EXTENSION amcheck;
    CREATE EXTENSION mtcbind;
    CREATE TABLE cards (n int PRIMARY KEY, iccid mtcbind.iccid NOT NULL);
    INSERT INTO cards VALUES $values;
    -- What an operator's tool does: unbind a card, or authorise a transfer
    -- of another card (to a named device or to any), accepting the
    -- documented refusals (MB001 device bound elsewhere, MB003 not bound,
    -- MB004 already there) as answers.
    CREATE FUNCTION stress_admin(u int, d int) RETURNS void LANGUAGE plpgsql AS \$\$
    BEGIN
        PERFORM mtcbind.unbind(c.iccid, 'stress') FROM cards c WHERE c.n = u;
        PERFORM mtcbind.authorize_transfer(c.iccid, CASE WHEN d % 2 = 0 THEN 'dev-' || d END)
           FROM cards c WHERE c.n = (u % 60) + 1;
    EXCEPTION WHEN SQLSTATE 'MB001' OR SQLSTATE 'MB003' OR SQLSTATE 'MB004' THEN
        NULL;
    END
    \$\$;
});

my $dir = PostgreSQL::Test::Utils::tempdir;
open(my $fh, '>', "$dir/request.sql") or die;
print $fh q{\set d random(1, 60)
\set u random(1, 60)
SELECT r.outcome FROM cards c,
  LATERAL mtcbind.request_key('\x6e61662e6578616d706c652e6f72670100000002', 'I1U8vpY3qJ0hiuRNrke/NQ==@bsf.example.org',
    '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', now() + interval '1 day',
    'dev-' || :d, c.iccid) r
 WHERE c.n = :u;
};
close $fh;
open($fh, '>', "$dir/admin.sql") or die;
print $fh q{\set u random(1, 60)
\set d random(1, 60)
SELECT stress_admin(:u, :d);
};
close $fh;

# Checks the invariant and the audit trail; returns nothing, records tests.
sub check_state {
    my ($phase) = @_;
    is($node->safe_psql('postgres', q{
        SELECT count(*) FROM (
          SELECT terminal_id FROM mtcbind.binding GROUP BY 1 HAVING count(*) > 1
          UNION ALL SELECT iccid::text FROM mtcbind.binding GROUP BY iccid HAVING count(*) > 1
          UNION ALL SELECT imei::text FROM mtcbind.binding WHERE imei IS NOT NULL GROUP BY imei HAVING count(*) > 1
          UNION ALL SELECT imsi::text FROM mtcbind.binding WHERE imsi IS NOT NULL GROUP BY imsi HAVING count(*) > 1) d}),
       '0', "$phase: no identity in two bindings");
    my ($rc, $out, $err) = $node->psql('postgres', q{
        SELECT bt_index_check(i.indexrelid, heapallindexed => true)
          FROM pg_index i WHERE i.indrelid = 'mtcbind.binding'::regclass});
    is($rc, 0, "$phase: amcheck finds every binding index consistent") or diag($err);
    is($node->safe_psql('postgres', q{
        SELECT (SELECT count(*) FROM mtcbind.binding)
             = (SELECT count(*) FILTER (WHERE event = 'bound') - count(*) FILTER (WHERE event = 'unbound')
                  FROM mtcbind.binding_event)}),
       't', "$phase: the audit log accounts for every live binding");
    is($node->safe_psql('postgres', q{
        SELECT count(*) FROM mtcbind.transfer_authorization
         WHERE used_at IS NULL AND revoked_at IS NULL GROUP BY iccid HAVING count(*) > 1}),
       '', "$phase: at most one open transfer per UICC");
    # Each live binding's history ends in its current state: its last
    # 'bound' or 'rebound' event names the device and card it has now.
    is($node->safe_psql('postgres', q{
        SELECT count(*) FROM mtcbind.binding b
         WHERE NOT EXISTS (
            SELECT FROM (SELECT e.terminal_id, e.iccid FROM mtcbind.binding_event e
                          WHERE e.binding_id = b.binding_id AND e.event IN ('bound', 'rebound')
                          ORDER BY e.event_id DESC LIMIT 1) last
             WHERE last.terminal_id = b.terminal_id
               AND last.iccid OPERATOR(mtcbind.=) b.iccid)}),
       '0', "$phase: every binding's last recorded change matches it");
    # Every key issued was issued to a pair that was bound at the time:
    # a key_issued event names the binding's device and card as of then.
    is($node->safe_psql('postgres', q{
        SELECT count(*) FROM mtcbind.binding_event k
         WHERE k.event = 'key_issued'
           AND NOT EXISTS (
            SELECT FROM (SELECT e.terminal_id, e.iccid FROM mtcbind.binding_event e
                          WHERE e.binding_id = k.binding_id AND e.event_id < k.event_id
                            AND e.event IN ('bound', 'rebound')
                          ORDER BY e.event_id DESC LIMIT 1) last
             WHERE last.terminal_id = k.terminal_id
               AND last.iccid OPERATOR(mtcbind.=) k.iccid)}),
       '0', "$phase: every key went to the pair bound at the time");
}

# Phase 1: 6 clients for 6 seconds, requests and administration mixed.
my ($out, $err) = ('', '');
my $ok = IPC::Run::run(
    ['pgbench', '-n', '-c', '6', '-j', '2', '-T', '6',
     '-f', "$dir/request.sql\@20", '-f', "$dir/admin.sql\@1", $node->connstr('postgres')],
    '>', \$out, '2>', \$err);
ok($ok, 'pgbench load finished') or diag($err);
like($out, qr/number of failed transactions: 0 /, 'no client saw an error');
unlike($err, qr/error/i, 'pgbench reports no error') or diag($err);
my ($done) = $out =~ /number of transactions actually processed: (\d+)/;
ok(($done // 0) > 100, "a real load ran (" . ($done // 0) . " transactions)");
like($node->safe_psql('postgres', q{SELECT string_agg(DISTINCT event, ',' ORDER BY event) FROM mtcbind.binding_event}),
     qr/bound.*rejected/, 'the load bound, refused and rebound');
check_state('after concurrent load');

# Phase 2: kill the server in the middle of the same load, restart, check.
my $bg = IPC::Run::start(
    ['pgbench', '-n', '-c', '6', '-j', '2', '-T', '20',
     '-f', "$dir/request.sql\@20", '-f', "$dir/admin.sql\@1", $node->connstr('postgres')],
    '>', \my $bg_out, '2>', \my $bg_err);
sleep 3;
$node->kill9;
$bg->finish;
# After kill9 a restart may briefly fail on the old lock file: retry.
my $started = 0;
for my $try (1 .. 50) {
    if ($node->start(fail_ok => 1)) { $started = 1; last; }
    # forget the failed attempt (its stale pid file) before the next one
    $node->stop('fast', fail_ok => 1);
    select(undef, undef, undef, 0.2);
}
ok($started, 'server restarts after kill -9');
check_state('after crash recovery');
is($node->safe_psql('postgres', q{
    SELECT outcome FROM mtcbind.request_key('\x6e61662e6578616d706c652e6f72670100000002', 'b@bsf.example.org',
      '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', now() + interval '1 day',
      'fresh-device', '8944700000000000996')}), 'bound', 'requests are served after recovery');

$node->stop;
done_testing();
