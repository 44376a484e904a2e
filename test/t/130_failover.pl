# Failover without loss.  A primary with one synchronous standby; four
# clients make first binds of new pairs, re-key pairs they bound before and
# race each other for shared pairs; the primary's postmaster is killed with
# SIGKILL in the middle of that load (a hard kill: no shutdown checkpoint,
# no signal to the backends, nothing flushed or sent on the way out); the
# standby is promoted.  On the new primary:
#  - every request whose COMMIT returned to its client is there: the pair's
#    binding has the binding_id the client was given;
#  - nothing is duplicated: one binding per device and per UICC (SQL and
#    amcheck), one binding_id per pair across all answers;
#  - the audit log accounts for every binding: each binding has exactly one
#    'bound' event naming it, and every 'bound' event names a live binding
#    (bindings whose acknowledgement was lost in the crash included: row
#    and event came or went together);
#  - at most one binding per client is not accounted for by an
#    acknowledgement, and it is that client's request in flight at the kill;
#  - request_key answers there: a correct key to an acknowledged pair, a
#    first bind with a fresh binding_id, and retrying each request in
#    flight at the kill gives 'bound' or 'granted' for that same pair.
#
# fsync is off in these test clusters.  That does not weaken the test: a
# killed process loses no page cache, and what is proved here is the order
# of the protocol (a commit is acknowledged only after the standby reported
# its WAL flushed), not the durability of a disk.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Test::More;

my $clients = 4;
my $steps   = 4000;    # per client; far more than runs before the kill
my $kill_at = 1500;    # kill once this many bindings are on the primary

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
max_connections = 20
log_statement = none
});
$primary->start;
$primary->safe_psql('postgres', q{
    CREATE EXTENSION amcheck;
    CREATE EXTENSION mtcbind;
    SELECT mtcbind.maintain_event_log();
});
$primary->backup('base');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
# The name the primary waits for; set here, not left to cluster_name.
$standby->append_conf('postgresql.conf',
    "primary_conninfo = '" . $primary->connstr . " application_name=failover_standby'\n");
$standby->start;

# synchronous_commit = on means remote_flush: COMMIT returns once the
# standby has written and flushed the commit's WAL.  That is what failover
# needs: promotion replays all WAL the standby has, so every acknowledged
# commit is on the new primary.  remote_apply would also wait for the
# standby to replay it, which only matters for reads on the standby, and
# it is not what an operator is expected to set for this guarantee.
$primary->append_conf('postgresql.conf', q{
synchronous_standby_names = 'failover_standby'
synchronous_commit = on
});
$primary->reload;
$primary->poll_query_until('postgres', q{
    SELECT sync_state = 'sync' AND state = 'streaming' FROM pg_stat_replication
     WHERE application_name = 'failover_standby'})
  or BAIL_OUT('the standby did not become synchronous');
is($primary->safe_psql('postgres', 'SHOW synchronous_commit'), 'on', 'the primary commits synchronously');

# Valid ICCIDs: prefix and number, then the Luhn check digit computed here.
sub iccid
{
    my ($prefix, $n) = @_;
    my $body = sprintf('%s%012d', $prefix, $n);
    my ($sum, $double) = (0, 1);
    for my $d (reverse split //, $body)
    {
        my $v = $double ? 2 * $d : $d;
        $v -= 9 if $v > 9;
        $sum += $v;
        $double = !$double;
    }
    return $body . ((10 - $sum % 10) % 10);
}

my $ks   = '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
my $btid = 'failover@bsf.example.org';
my $naf  = "mtcbind.naf_id('naf.example.org', '\\x0100000002')";

# One request: the answer and whether its key is right, tagged with the
# request's id.  Prepared once per session.
my $prepare = qq{PREPARE rk(text, text, text) AS
SELECT 'REQ', \$1, r.outcome, coalesce(r.reason, ''), r.binding_id,
       r.ks_local = mtcbind.ks_local('$ks', '$btid', \$3::mtcbind.iccid, \$2, '', '', r.rand_x, r.rand_y)
  FROM mtcbind.request_key($naf, '$btid', '$ks', now() + interval '1 day', \$2, \$3) r;
};

# Each client's plan, in order: step k binds its new pair k, re-keys its
# pair k/2 (bound earlier by itself), and every 4th step asks for shared
# pair k/4, which all clients race for.  The client prints the answer
# (REQ line) after the request, and "ACK id" only after COMMIT returned:
# an ACK is what a NAF front end would have passed on to the device.
my $dir = PostgreSQL::Test::Utils::tempdir;
my %request;    # id -> [client, terminal_id, iccid]
my %plan;       # client -> [ids in order]
for my $c (1 .. $clients)
{
    my @pairs;
    for my $k (1 .. $steps)
    {
        push @pairs, [ "m$c-$k", iccid("894471$c", $k) ];
        push @pairs, [ "m$c-" . int($k / 2), iccid("894471$c", int($k / 2)) ] if $k >= 2;
        push @pairs, [ 's-' . ($k / 4), iccid('8944729', $k / 4) ] if $k % 4 == 0;
    }
    open(my $fh, '>', "$dir/client$c.sql") or die;
    print $fh "\\set ON_ERROR_STOP 1\n$prepare";
    my $n = 0;
    for my $p (@pairs)
    {
        my $id = "$c:" . ++$n;
        $request{$id} = [ $c, @$p ];
        push @{ $plan{$c} }, $id;
        print $fh "BEGIN;\nEXECUTE rk('$id', '$p->[0]', '$p->[1]');\nCOMMIT;\n\\echo ACK $id\n";
    }
    close $fh;
}

my @handles;
for my $c (1 .. $clients)
{
    push @handles, IPC::Run::start(
        [ 'psql', '-X', '-q', '-A', '-t', '-f', "$dir/client$c.sql", '-d', $primary->connstr('postgres') ],
        '<', '/dev/null', '>', "$dir/client$c.out", '2>', "$dir/client$c.err");
}

# Let the load run until the primary holds $kill_at bindings, then kill the
# postmaster with SIGKILL.  (stop('immediate') would be a shutdown the
# server takes part in; kill9 is PostgreSQL::Test::Cluster's kill -9 of
# the postmaster's pid.)  Orphaned backends find their postmaster gone and
# exit; one waiting for the standby's confirmation exits without answering.
# The wait is bounded, and ends early if every client has stopped.
my $reached = 0;
for my $try (1 .. 10 * $PostgreSQL::Test::Utils::timeout_default)
{
    if ($primary->safe_psql('postgres', "SELECT count(*) >= $kill_at FROM mtcbind.binding") eq 't')
    {
        $reached = 1;
        last;
    }
    last unless grep { $_->pumpable } @handles;
    select(undef, undef, undef, 0.1);
}
ok($reached, "the clients made $kill_at bindings under synchronous commit");
$primary->kill9;

# psql exits with 2 when its connection is lost, 3 on an SQL error, 0 at
# the end of its script.
my $timer = IPC::Run::timer($PostgreSQL::Test::Utils::timeout_default);
for my $c (1 .. $clients)
{
    my $h = $handles[ $c - 1 ];
    $timer->start;
    if (eval { $h->finish($timer); 1 })
    {
        like($h->result, qr/^[02]$/, "client $c ended with the lost connection or its script");
    }
    else
    {
        fail("client $c ended: $@");
        $h->kill_kill;
    }
}

# What each client was told.
my %answer;     # id -> [outcome, reason, binding_id, key_ok]
my %acked;      # id -> 1
my %in_flight;  # client -> id of its first request not acknowledged
my $cut = 0;
for my $c (1 .. $clients)
{
    my $err = slurp_file("$dir/client$c.err");
    unlike($err, qr/ERROR|WARNING/, "client $c saw no error or warning, only the lost connection")
      or diag($err);
    note("client $c: " . join(' / ', grep { /\S/ } split /\n/, $err));
    for my $line (split /\n/, slurp_file("$dir/client$c.out"))
    {
        if ($line =~ /^REQ\|([^|]+)\|([^|]*)\|([^|]*)\|([^|]*)\|([^|]*)$/)
        {
            $answer{$1} = [ $2, $3, $4, $5 ];
        }
        elsif ($line =~ /^ACK (\S+)$/)
        {
            $acked{$1} = 1;
        }
        else
        {
            fail("client $c printed only answers: '$line'");
        }
    }
    my ($next) = grep { !$acked{$_} } @{ $plan{$c} };
    if (defined $next)
    {
        $in_flight{$c} = $next;
        $cut++;
    }
}
my @acked = sort keys %acked;
note(scalar(@acked) . " requests acknowledged; in flight at the kill: "
     . join(', ', map { "$_ (" . ($answer{$_} ? "answered $answer{$_}[0], no ACK" : 'no answer') . ')' }
            sort values %in_flight));
ok($cut >= 1, 'the kill cut at least one client off in mid-stream');
is(scalar(grep { !$answer{$_} } @acked), 0, 'every acknowledged request had its answer printed');
my $show = sub {    # up to 10 requests, with what they asked and were told
    my @ids = @_;
    splice(@ids, 10);
    return join("\n", map { "$_ $request{$_}[1] $request{$_}[2]: " . join('|', @{ $answer{$_} // [] }) } @ids);
};
my @odd = grep { $answer{$_}[0] !~ /^(bound|granted)$/ } @acked;
is(scalar(@odd), 0, 'every acknowledged request was bound or granted') or diag($show->(@odd));
@odd = grep { $answer{$_}[3] ne 't' } @acked;
is(scalar(@odd), 0, 'every acknowledged key was right') or diag($show->(@odd));

# The promotion.  The old primary stays dead.
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or BAIL_OUT('the standby was not promoted');
my $new = $standby;

# The bindings on the new primary, by pair.
my %binding;    # "terminal|iccid" -> binding_id
my %by_term;
my %by_card;
my %ids;
for my $row (split /\n/, $new->safe_psql('postgres',
        'SELECT binding_id, terminal_id, iccid::text FROM mtcbind.binding'))
{
    my ($id, $term, $card) = split /\|/, $row;
    $binding{"$term|$card"} = $id;
    $by_term{$term}++;
    $by_card{$card}++;
    $ids{$id}++;
}

my %promoted = %binding;    # as promotion left it, before any retry

# Every acknowledged answer is on the new primary, with the id it named;
# and all answers for one pair named the same binding.
my @lost = grep {
    my ($c, $term, $card) = @{ $request{$_} };
    ($binding{"$term|$card"} // '') ne $answer{$_}[2]
} @acked;
is(scalar(@lost), 0, 'every acknowledged binding is on the new primary with the binding_id its client got')
  or diag($show->(@lost));
my %pair_id;
for my $id (grep { $answer{$_}[2] ne '' } keys %answer)
{
    my $pair = "$request{$id}[1]|$request{$id}[2]";
    $pair_id{$pair}{ $answer{$id}[2] } = 1;
}
is(scalar(grep { keys %{ $pair_id{$_} } > 1 } keys %pair_id), 0, 'no pair was ever given two binding ids');

# Nothing duplicated.
is(scalar(grep { $by_term{$_} > 1 } keys %by_term), 0, 'one binding per device');
is(scalar(grep { $by_card{$_} > 1 } keys %by_card), 0, 'one binding per UICC');
is(scalar(grep { $ids{$_} > 1 } keys %ids), 0, 'one binding per binding_id');
my ($rc, $out, $err) = $new->psql('postgres', q{
    SELECT bt_index_check(i.indexrelid, heapallindexed => true)
      FROM pg_index i WHERE i.indrelid = 'mtcbind.binding'::regclass});
is($rc, 0, 'amcheck finds every binding index consistent on the new primary') or diag($err);

# Bindings no acknowledgement accounts for: only requests in flight at the
# kill, at most one per client.
my %acked_pair = map { ("$request{$_}[1]|$request{$_}[2]" => 1) } @acked;
my %flight_pair = map { ("$request{$_}[1]|$request{$_}[2]" => 1) } values %in_flight;
my @unacked = grep { !$acked_pair{$_} } keys %binding;
note(scalar(keys %binding) . ' bindings on the new primary, ' . scalar(@unacked)
     . ' of them with the acknowledgement lost: ' . join(', ', sort @unacked));
ok(@unacked <= $clients, 'at most one unacknowledged binding per client');
is(join(', ', grep { !$flight_pair{$_} } @unacked), '',
   'each unacknowledged binding is a request that was in flight at the kill');

# The audit log accounts for every binding, and for nothing else.
my $audit = q{
    SELECT (SELECT count(*) FROM mtcbind.binding b
             WHERE (SELECT count(*) FROM mtcbind.binding_event e
                     WHERE e.event = 'bound' AND e.binding_id = b.binding_id
                       AND e.terminal_id = b.terminal_id AND e.iccid = b.iccid) <> 1)
           || '|' ||
           (SELECT count(*) FROM mtcbind.binding_event e
             WHERE e.event = 'bound'
               AND NOT EXISTS (SELECT FROM mtcbind.binding b
                                WHERE b.binding_id = e.binding_id AND b.terminal_id = e.terminal_id
                                  AND b.iccid = e.iccid))
           || '|' ||
           (SELECT count(*) FROM mtcbind.binding_event e
             WHERE e.event NOT IN ('bound', 'key_issued'))};
my $audit_detail = q{
    SELECT 'binding without its one bound event: ' || b.binding_id || ' ' || b.terminal_id
      FROM mtcbind.binding b
     WHERE (SELECT count(*) FROM mtcbind.binding_event e
             WHERE e.event = 'bound' AND e.binding_id = b.binding_id
               AND e.terminal_id = b.terminal_id AND e.iccid = b.iccid) <> 1
    UNION ALL
    SELECT 'event without its binding or not expected: ' || e.event || ' ' || e.binding_id || ' ' || e.terminal_id
      FROM mtcbind.binding_event e
     WHERE e.event NOT IN ('bound', 'key_issued')
        OR (e.event = 'bound'
            AND NOT EXISTS (SELECT FROM mtcbind.binding b
                             WHERE b.binding_id = e.binding_id AND b.terminal_id = e.terminal_id
                               AND b.iccid = e.iccid))
     LIMIT 10};
is($new->safe_psql('postgres', $audit), '0|0|0',
   "each binding has exactly one 'bound' event naming it, no 'bound' event lacks its binding, no other changes")
  or diag($new->safe_psql('postgres', $audit_detail));

# Acknowledged re-keys are there too: each binding counts at least the keys
# its clients were acknowledged.
my %acked_keys;
$acked_keys{ $answer{$_}[2] }++ for @acked;
my %key_count = map { split /\|/ } split /\n/,
  $new->safe_psql('postgres', 'SELECT binding_id, key_count FROM mtcbind.binding');
@odd = grep { ($key_count{$_} // 0) < $acked_keys{$_} } sort keys %acked_keys;
is(scalar(@odd), 0, 'every binding counts at least the keys acknowledged for it')
  or diag(join("\n", map { "binding $_: key_count " . ($key_count{$_} // 'none') . ", acknowledged $acked_keys{$_}" } @odd[0 .. ($#odd < 9 ? $#odd : 9)]));

# request_key answers on the new primary.
my $ask = sub {
    my ($term, $card) = @_;
    return $new->safe_psql('postgres', qq{
        SELECT r.outcome, r.binding_id,
               r.ks_local = mtcbind.ks_local('$ks', '$btid', '$card', '$term', '', '', r.rand_x, r.rand_y)
          FROM mtcbind.request_key($naf, '$btid', '$ks', now() + interval '1 day', '$term', '$card') r});
};
my ($first) = grep { $answer{$_}[0] eq 'bound' } sort { $a cmp $b } @acked;
is($ask->(@{ $request{$first} }[ 1, 2 ]), "granted|$answer{$first}[2]|t",
   "an acknowledged pair ($request{$first}[1]) is granted a correct key by the new primary");

my @new_ids;    # ids the new primary's sequence handed out
# Retrying each request in flight at the kill is safe: the same pair is
# bound now (by the retry, or already by the lost commit) and keyed.
for my $id (sort values %in_flight)
{
    my ($c, $term, $card) = @{ $request{$id} };
    my $before = $binding{"$term|$card"};
    my ($outcome, $bid, $key_ok) = split /\|/, $ask->($term, $card);
    is(defined $before ? "$outcome|$bid|$key_ok" : "$outcome|$key_ok",
       defined $before ? "granted|$before|t" : 'bound|t',
       "retrying request $id ($term), in flight at the kill, on the new primary: "
       . (defined $before ? 'the pair is bound there, granted with its binding' : 'the pair was not bound there, bound now'));
    $binding{"$term|$card"} = $bid;
    push @new_ids, $bid if !defined $before;
}

# The binding id sequence survived the failover: a fresh bind draws an id
# no binding, event or acknowledged answer has used (nextval is WAL-logged
# ahead of its use, and replicated before the commit that used it).
my $max_used = $new->safe_psql('postgres', q{
    SELECT greatest((SELECT max(binding_id) FROM mtcbind.binding),
                    (SELECT max(binding_id) FROM mtcbind.binding_event))});
my ($outcome, $fresh_id, $key_ok) = split /\|/, $ask->('fresh-after-failover', iccid('8944739', 1));
is("$outcome|$key_ok", 'bound|t', 'the new primary binds a fresh pair with a correct key');
ok($fresh_id > $max_used, "its binding_id $fresh_id is above every id recorded ($max_used)");
push @new_ids, $fresh_id;
my %acked_id = map { ($answer{$_}[2] => 1) } @acked;
is(join(',', grep { $acked_id{$_} } @new_ids), '', 'no id the new primary drew was in an acknowledged answer');
# An id drawn by a transaction the failover lost may be drawn again (its
# nextval was WAL-logged in that lost transaction); nothing refers to it.
my %new_id = map { ($_ => 1) } @new_ids;
my @reused = grep { $new_id{ $answer{$_}[2] } } grep { !$acked{$_} } keys %answer;
note("ids drawn again: " . join(', ', map { "$answer{$_}[2] (answered to $_, never acknowledged)" } @reused))
  if @reused;

is($new->safe_psql('postgres', $audit), '0|0|0', 'after the retries the audit log still accounts for every binding')
  or diag($new->safe_psql('postgres', $audit_detail));

# The other side of the window: restart the old primary's data directory on
# its own (it is no one's primary now; nothing connects to it) and compare.
# Whatever it committed that the new primary lacks was committed locally
# but never confirmed by the standby, so it must never have been
# acknowledged; and the new primary had nothing the old one did not have.
$primary->append_conf('postgresql.conf', "synchronous_standby_names = ''\n");
my $restarted = 0;
for my $try (1 .. 50)
{
    # the killed postmaster's backends may still hold its shared memory
    if ($primary->start(fail_ok => 1)) { $restarted = 1; last; }
    $primary->stop('fast', fail_ok => 1);
    select(undef, undef, undef, 0.2);
}
ok($restarted, 'the old primary\'s data directory starts again after kill -9');
my %old;
for my $row (split /\n/, $primary->safe_psql('postgres',
        'SELECT binding_id, terminal_id, iccid::text FROM mtcbind.binding'))
{
    my ($id, $term, $card) = split /\|/, $row;
    $old{"$term|$card"} = $id;
}
my @only_old = sort grep { !exists $promoted{$_} } keys %old;
note('committed on the old primary but not on the standby at the kill: ' . (join(', ', @only_old) || 'none'));
is(join(', ', grep { $acked_pair{$_} } @only_old), '',
   'nothing the failover lost was ever acknowledged');
is(join(', ', grep { !$flight_pair{$_} } @only_old), '',
   'what the failover lost was in flight at the kill');
is(join(', ', grep { ($old{$_} // '') ne $promoted{$_} } sort keys %promoted), '',
   'every binding the new primary started with was committed on the old one, with the same id');
$primary->stop;

$new->stop;
done_testing();
