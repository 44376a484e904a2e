# Partition maintenance and retention must not stall the key centre.
# Creating a day partition or dropping an old one needs a strong lock on
# the event log; a session that waited for it in the lock queue would make
# every event insert (refusals, first uses, logged keys) wait behind it.
# maintain_event_log and purge_events therefore never queue: while an
# auditor's long transaction reads the log, requests keep being answered,
# and the maintenance gives up with 55P03 after a few seconds instead.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('locks');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
    CREATE EXTENSION mtcbind;
    SELECT mtcbind.maintain_event_log(1);
    SELECT mtcbind.bind('meter-1', '89441000000000000018');
    -- a day long past, as maintain_event_log would have made it
    CREATE TABLE mtcbind.binding_event_p20200101 PARTITION OF mtcbind.binding_event
        FOR VALUES FROM ('2020-01-01 00:00:00+00') TO ('2020-01-02 00:00:00+00');
    SELECT mtcbind._prepare_event_partition('binding_event_p20200101');
});

my $request = sub {
    my ($term, $card) = @_;
    return "SET statement_timeout = '2s'; SELECT r.outcome || coalesce(' ' || r.reason, '') "
      . "FROM mtcbind.request_key(mtcbind.naf_id('naf.example.org', '\\x0100000002'), "
      . "'b\@bsf.example.org', "
      . "'\\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', "
      . "now() + interval '1 day', '$term', '$card') r";
};

# An auditor reads the whole log and keeps its transaction open for 8 s.
sub start_reader
{
    my $reader = IPC::Run::start(
        ['psql', '-X', '-q', '-d', $node->connstr('postgres'), '-c',
         'BEGIN; SELECT count(*) FROM mtcbind.binding_event; SELECT pg_sleep(8); COMMIT;'],
        '>', \my $out, '2>', \my $err);
    $node->poll_query_until('postgres', q{
        SELECT EXISTS (SELECT FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                        WHERE l.relation = 'mtcbind.binding_event_default'::regclass
                          AND l.granted AND a.query LIKE '%pg_sleep(8)%')})
      or die 'the reader did not start';
    return $reader;
}

# ICCIDs for first uses need a correct Luhn check digit.
sub luhn_iccid
{
    my ($body) = @_;
    my ($sum, $i) = (0, 0);
    for my $d (reverse split //, $body) {
        my $v = $d;
        if ($i++ % 2 == 0) { $v *= 2; $v -= 9 if $v > 9; }
        $sum += $v;
    }
    return $body . ((10 - $sum % 10) % 10);
}

# Runs a maintenance statement in the background while requests are made;
# returns its stderr and the requests' answers.
sub maintain_during_requests
{
    my ($sql, $label) = @_;
    my $reader = start_reader();
    my $maint = IPC::Run::start(
        ['psql', '-X', '-q', '-d', $node->connstr('postgres'), '-c', $sql],
        '>', \my $out, '2>', \my $err);
    sleep 1;    # the maintenance is now retrying for the lock
    my @answers;
    for my $n (1 .. 3) {
        my ($ret, $stdout, $stderr) = $node->psql('postgres', $request->("thief-$label-$n", '89441000000000000018'));
        push @answers, $ret == 0 ? $stdout : "error: $stderr";
        my $card = luhn_iccid(sprintf('8944100000%02d%07d', $label eq 'maintain' ? 1 : 2, $n));
        ($ret, $stdout, $stderr) = $node->psql('postgres', $request->("new-$label-$n", $card));
        push @answers, $ret == 0 ? $stdout : "error: $stderr";
    }
    $maint->finish;
    $reader->finish;
    return ($err, @answers);
}

my ($err, @answers) = maintain_during_requests('SELECT mtcbind.maintain_event_log(30)', 'maintain');
is_deeply(\@answers,
    ['rejected uicc_bound_elsewhere', 'bound', 'rejected uicc_bound_elsewhere', 'bound',
     'rejected uicc_bound_elsewhere', 'bound'],
    'requests are answered while maintain_event_log waits for the reader');
like($err, qr/binding_event_default is in use by other transactions/,
     'maintain_event_log gives up instead of queueing behind the reader');
is($node->safe_psql('postgres', 'SELECT mtcbind.maintain_event_log(30) > 0'), 't',
   'once the reader is gone, the partitions are made');

($err, @answers) = maintain_during_requests(q{SELECT mtcbind.purge_events('365 days', 'retention')}, 'purge');
is(scalar(grep { /^(rejected uicc_bound_elsewhere|bound)$/ } @answers), 6,
   'requests are answered while purge_events waits for the reader')
  or diag(join("\n", @answers));
like($err, qr/binding_event is in use by other transactions/,
     'purge_events gives up instead of queueing behind the reader');
is($node->safe_psql('postgres', q{
    SELECT to_regclass('mtcbind.binding_event_p20200101') IS NOT NULL}), 't',
   'nothing was dropped by the purge that gave up');
$node->safe_psql('postgres', q{SELECT mtcbind.purge_events('365 days', 'retention')});
is($node->safe_psql('postgres', q{
    SELECT to_regclass('mtcbind.binding_event_p20200101') IS NULL}), 't',
   'once the reader is gone, the old partition is dropped');

$node->stop;
done_testing();
