# Monitoring (docs/monitoring.md): the real prometheus-postgres-exporter,
# given monitoring/queries.yaml and connected as a login role whose only
# membership is mtcbind_auditor, scrapes what an operator puts on a
# dashboard, and every figure is what SQL says after known activity:
# requests by outcome and reason, keys issued, bindings, blocks, pending
# transfers, refusals in the last hour, the event log's size and partitions.
# A request whose transaction rolled back is not counted.  The figures are
# cheap: the plan status() runs reads today's refusals through the partial
# index, prunes older day partitions and reads no binding.  Without
# shared_preload_libraries the status figures stay and the counters go.
# When promtool is installed, the sample alerting rules are checked and
# their unit tests run.
#
# Skipped when the exporter is not installed (Debian:
# prometheus-postgres-exporter).  MTCBIND_EXPORTER names another binary,
# MTCBIND_MONITORING_QUERIES another queries file.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename qw(dirname);
use File::Spec;
use HTTP::Tiny;
use IPC::Run;
use Time::HiRes qw(usleep);

my $exporter = $ENV{MTCBIND_EXPORTER};
if (!defined $exporter) {
    ($exporter) = grep { -x } map { "$_/prometheus-postgres-exporter" } (split(/:/, $ENV{PATH} // ''), '/usr/bin');
}
plan skip_all => 'prometheus-postgres-exporter is not installed' unless defined $exporter && -x $exporter;

# The queries file: next to the test directory (scripts/test.sh copies
# monitoring/ beside t/) or in the source tree (test/t/../../monitoring).
my $here = dirname(File::Spec->rel2abs(__FILE__));
my ($queries) = grep { defined && -f }
  ($ENV{MTCBIND_MONITORING_QUERIES}, "$here/../monitoring/queries.yaml", "$here/../../monitoring/queries.yaml");
die "monitoring/queries.yaml not found beside $here (set MTCBIND_MONITORING_QUERIES)\n" unless defined $queries;
$queries = File::Spec->rel2abs($queries);
note "exporter $exporter, queries $queries";

my $node = PostgreSQL::Test::Cluster->new('monitoring');
$node->init;
# autovacuum off: the event log's size is compared byte for byte with SQL,
# and a vacuum between scrape and query would add a visibility map.
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'mtcbind'\nautovacuum = off\n");
$node->start;

# The day partition ten days back is made by hand (maintain_event_log makes
# today's and later ones), with refusals of its own: history that "the last
# hour" must neither count nor read.
$node->safe_psql('postgres', q{
    CREATE EXTENSION mtcbind;
    SELECT mtcbind.maintain_event_log();
    CREATE ROLE naf_app LOGIN IN ROLE mtcbind_naf;
    CREATE ROLE mtcbind_exporter LOGIN IN ROLE mtcbind_auditor;
    ALTER ROLE mtcbind_exporter SET search_path = pg_catalog;
    CREATE ROLE stranger LOGIN;
    DO $$
    DECLARE
        d date := (now() AT TIME ZONE 'UTC')::date - 10;
        part text := 'binding_event_p' || to_char(d, 'YYYYMMDD');
    BEGIN
        EXECUTE format('CREATE TABLE mtcbind.%I PARTITION OF mtcbind.binding_event FOR VALUES FROM (%L) TO (%L)',
                       part, d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
        PERFORM mtcbind._prepare_event_partition(part);
        INSERT INTO mtcbind.binding_event (occurred_at, event, terminal_id, iccid, reason)
        SELECT (d + time '12:00') AT TIME ZONE 'UTC', 'rejected', 'old-' || g, '89441000000000000091', 'uicc_bound_elsewhere'
          FROM generate_series(1, 500) g;
    END
    $$;
});
my $past = $node->safe_psql('postgres',
    q{SELECT 'binding_event_p' || to_char((now() AT TIME ZONE 'UTC')::date - 10, 'YYYYMMDD')});

# --- activity ---------------------------------------------------------------
my $k = q{'\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'};
my $rq = sub {
    my ($term, $card, $expiry) = @_;
    $expiry //= "now() + interval '1 day'";
    return "SELECT outcome || coalesce('/' || reason, '') FROM mtcbind.request_key("
      . "mtcbind.naf_id('naf.example.org', '\\x0100000002'), 'I1U8vpY3qJ0hiuRNrke/NQ==\@bsf.example.org', $k, "
      . "$expiry, '$term', '$card');\n";
};
my $naf = sub { $node->safe_psql('postgres', join('', @_), extra_params => [ '-U', 'naf_app' ]) };

is($naf->($rq->('meter-1', '89441000000000000018'), $rq->('meter-2', '89441000000000000026'),
          $rq->('meter-3', '89441000000000000034')),
   "bound\nbound\nbound", 'three first uses bind');
$node->safe_psql('postgres', q{SELECT mtcbind.bind('meter-4', '89441000000000000042')});
is($naf->($rq->('meter-1', '89441000000000000018'), $rq->('meter-1', '89441000000000000018'),
          $rq->('meter-4', '89441000000000000042'),
          $rq->('thief-1', '89441000000000000018'), $rq->('thief-2', '89441000000000000018'),
          $rq->('meter-1', '89441000000000000059'), $rq->('meter-3', '89441000000000000042'),
          $rq->('meter-x', '89441000000000000067', "now() - interval '1 hour'")),
   join("\n", 'granted', 'granted', 'granted', 'rejected/uicc_bound_elsewhere', 'rejected/uicc_bound_elsewhere',
        'rejected/device_bound_elsewhere', 'rejected/both_bound_elsewhere', 'rejected/bootstrap_expired'),
   'grants to bound pairs, refusals of four kinds');
$node->safe_psql('postgres', q{SELECT mtcbind.block_uicc('89441000000000000026', 'stolen, police report 4711')});
is($naf->($rq->('meter-2', '89441000000000000026')), 'rejected/uicc_blocked', 'a blocked card is refused');
is($naf->("BEGIN;\n", $rq->('thief-3', '89441000000000000018'), "ROLLBACK;\n"), 'rejected/uicc_bound_elsewhere',
   'a refusal in a transaction that rolls back');
$node->safe_psql('postgres', q{
    SELECT mtcbind.authorize_transfer('89441000000000000018', 'meter-5', reason => 'meter damaged, ticket 4711');
    SELECT mtcbind.authorize_transfer('89441000000000000034', 'meter-9', valid_for => '1 day', reason => 'swap planned');
});
is($naf->($rq->('meter-5', '89441000000000000018')), 'bound', 'an authorised transfer moves a binding');
# Re-keying without writes: a key the event log does not hold, but the
# counters do.
$node->safe_psql('postgres', 'ALTER ROLE naf_app SET mtcbind.log_key_issue = off');
is($naf->($rq->('meter-4', '89441000000000000042')), 'granted', 'a grant with log_key_issue off');

my %expected = (
    'bound/'                          => 4,
    'granted/'                        => 4,
    'rejected/device_bound_elsewhere' => 1,
    'rejected/uicc_bound_elsewhere'   => 2,
    'rejected/both_bound_elsewhere'   => 1,
    'rejected/not_provisioned'        => 0,
    'rejected/identity_mismatch'      => 0,
    'rejected/bootstrap_expired'      => 1,
    'rejected/uicc_blocked'           => 1,
    'rejected/device_blocked'         => 0);
my $refusals = 0;
$refusals += $expected{$_} for grep { /^rejected/ } keys %expected;
my $keys = $expected{'bound/'} + $expected{'granted/'};

# What SQL says: the counters, and the event log for what it records.
my %counts = map { my ($o, $r, $n) = split /\|/, $_, -1; ("$o/$r" => $n) }
  split /\n/, $node->safe_psql('postgres', q{SELECT outcome, coalesce(reason, ''), requests FROM mtcbind.request_counts()});
is_deeply(\%counts, \%expected, 'request_counts(): every outcome and reason, the rolled-back refusal not counted');
my %logged = map { my ($r, $n) = split /\|/; ("rejected/$r" => $n) } split /\n/, $node->safe_psql('postgres', q{
    SELECT reason, count(*) FROM mtcbind.binding_event
     WHERE event = 'rejected' AND occurred_at > now() - interval '1 hour' GROUP BY reason});
is_deeply(\%logged, { map { ($_ => $expected{$_}) } grep { /^rejected/ && $expected{$_} } keys %expected },
          'the event log holds the same refusals');
is($node->safe_psql('postgres', q{SELECT count(*) FROM mtcbind.binding_event WHERE event = 'key_issued'}), $keys - 1,
   'the event log holds a key_issued per key but the one issued with log_key_issue off');

# --- the least-privileged role ----------------------------------------------
is($node->safe_psql('postgres', q{
    SELECT string_agg(g.rolname, ',' ORDER BY g.rolname) || ' super=' || r.rolsuper
      FROM pg_roles r JOIN pg_auth_members m ON m.member = r.oid JOIN pg_roles g ON g.oid = m.roleid
     WHERE r.rolname = 'mtcbind_exporter' GROUP BY r.rolsuper}),
   'mtcbind_auditor super=false', "the exporter's role is a member of mtcbind_auditor only");
my ($rc, $out, $err) = $node->psql('postgres', 'SELECT * FROM mtcbind.status()', extra_params => [ '-U', 'stranger' ]);
like($err, qr/permission denied for function status/, 'a role outside the mtcbind roles cannot read the figures');

# --- the exporter -----------------------------------------------------------
my $port = PostgreSQL::Test::Cluster::get_free_port();
my $explog = "$PostgreSQL::Test::Utils::tmp_check/exporter.log";
my $exp;
{
    local $ENV{DATA_SOURCE_NAME} =
      'host=' . $node->host . ' port=' . $node->port . ' user=mtcbind_exporter dbname=postgres sslmode=disable';
    delete local $ENV{PG_EXPORTER_EXTEND_QUERY_PATH};
    $exp = IPC::Run::start([ $exporter, "--web.listen-address=127.0.0.1:$port", "--extend.query-path=$queries" ],
                           '<', \undef, '>', $explog, '2>&1');
}
END { $exp->kill_kill if $exp && $exp->pumpable; }

my $http = HTTP::Tiny->new(timeout => 10);
my %type;

# One scrape: metric name{labels without "server"} => value.
sub scrape {
    my $res = $http->get("http://127.0.0.1:$port/metrics");
    return undef unless $res->{success};
    my %m;
    for (split /\n/, $res->{content}) {
        if (/^# TYPE (\S+) (\S+)/) { $type{$1} = $2; next; }
        next if /^#/ || !/^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/;
        my ($name, $labels, $value) = ($1, $2 // '', $3);
        my %l = $labels =~ /(\w+)="((?:[^"\\]|\\.)*)"/g;
        delete $l{server};
        my $key = %l ? $name . '{' . join(',', map { "$_=\"$l{$_}\"" } sort keys %l) . '}' : $name;
        $m{$key} = $value eq 'NaN' ? 'NaN' : 0 + $value;
    }
    return \%m;
}

# Scrapes until $ready->(metrics) holds (the exporter starts, a backend's
# statistics reach shared memory at its exit); the last scrape otherwise.
sub scrape_until {
    my ($ready) = @_;
    my $m;
    for (1 .. 100) {
        $m = scrape();
        return $m if $m && $ready->($m);
        usleep(200_000);
    }
    return $m // {};
}

my $sql = sub { $node->safe_psql('postgres', shift) };
my $m = scrape_until(sub { ($_[0]{pg_up} // 0) == 1 && ($_[0]{mtcbind_bindings} // -1) == 4 });
is($m->{pg_up}, 1, 'the exporter connects as mtcbind_exporter');
is($m->{pg_exporter_last_scrape_error}, 0, 'no query of the scrape fails, the built-in ones included');
my @load = grep { /^pg_exporter_user_queries_load_error/ } keys %$m;
is(scalar(@load) == 1 && $m->{ $load[0] }, 0, 'the queries file loads');

for my $key (sort keys %expected) {
    my ($o, $r) = split m{/}, $key, -1;
    is($m->{"mtcbind_requests_total{outcome=\"$o\",reason=\"$r\"}"}, $expected{$key},
       "mtcbind_requests_total{outcome=\"$o\",reason=\"$r\"} = $expected{$key}");
}
is(scalar(grep { /^mtcbind_requests_total\{/ } keys %$m), 10, 'one series per outcome and reason, zeros included');
is($m->{mtcbind_keys_issued_total}, $keys, "mtcbind_keys_issued_total = $keys (bound + granted, log_key_issue off too)");
is($type{mtcbind_requests_total} . ',' . $type{mtcbind_keys_issued_total}, 'counter,counter', 'both are counters');
is($m->{mtcbind_bindings}, $sql->('SELECT count(*) FROM mtcbind.binding'), 'mtcbind_bindings = count of bindings (4)');
is($m->{mtcbind_blocklist_entries}, 1, 'mtcbind_blocklist_entries = 1');
is($m->{mtcbind_blocklist_entries}, $sql->('SELECT count(*) FROM mtcbind.blocklist'), '... = the blocklist');
is($m->{mtcbind_pending_transfers}, 1, 'mtcbind_pending_transfers = 1 (the used authorisation is not pending)');
is($m->{mtcbind_pending_transfers},
   $sql->('SELECT count(*) FROM mtcbind.bindings WHERE transfer_pending'), '... = the bindings view');
is($m->{mtcbind_refusals_last_hour}, $refusals, "mtcbind_refusals_last_hour = $refusals (not the 500 of ten days ago)");
is($m->{mtcbind_refusals_last_hour},
   $sql->(q{SELECT count(*) FROM mtcbind.binding_event WHERE event = 'rejected' AND occurred_at > now() - interval '1 hour'}),
   '... = the event log');
is($m->{mtcbind_event_log_bytes},
   $sql->(q{SELECT (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('mtcbind.binding_event'))}
          . q{ + (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('mtcbind.key_issue'))}
          . q{ + pg_total_relation_size('mtcbind.key_issuer')}
          . q{ + (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('mtcbind.refusal'))}
          . q{ + pg_total_relation_size('mtcbind.refusal_subject')}),
   'mtcbind_event_log_bytes = the size of every partition of the three logs with its indexes');
is($m->{mtcbind_event_partitions}, 10, 'mtcbind_event_partitions = 10 (default, ten days ago, today and 7 ahead)');
is($m->{mtcbind_counters_available}, 1, 'mtcbind_counters_available = 1');
is($m->{mtcbind_in_recovery}, 0, 'mtcbind_in_recovery = 0 on the primary');
is($m->{mtcbind_event_log_oldest_day_timestamp_seconds},
   $sql->(q{SELECT extract(epoch FROM ((now() AT TIME ZONE 'UTC')::date - 10)::timestamp AT TIME ZONE 'UTC')::bigint}),
   'the oldest day partition: ten days ago');
is($m->{mtcbind_event_log_newest_day_timestamp_seconds},
   $sql->(q{SELECT extract(epoch FROM ((now() AT TIME ZONE 'UTC')::date + 7)::timestamp AT TIME ZONE 'UTC')::bigint}),
   'the newest day partition: a week ahead');
is($m->{mtcbind_event_log_default_partition_bytes},
   $sql->(q{SELECT pg_total_relation_size('mtcbind.binding_event_default') + pg_total_relation_size('mtcbind.key_issue_default')}
          . q{ + pg_total_relation_size('mtcbind.refusal_default')}),
   'the default partitions\' size (event log, key-issue log, refusal log)');
is(join(',', map { $type{$_} // 'none' } qw(mtcbind_bindings mtcbind_refusals_last_hour mtcbind_event_log_bytes)),
   'gauge,gauge,gauge', 'the others are gauges');

# --- cheap to read ----------------------------------------------------------
# A day's worth of other events in today's partition, then the plan that
# status() itself executes (auto_explain of nested statements): refusals
# through the partial index, older days pruned, no binding read.
$sql->(q{
    INSERT INTO mtcbind.binding_event (occurred_at, event, terminal_id)
    SELECT clock_timestamp(), 'key_issued', 'filler-' || g FROM generate_series(1, 20000) g;
    ANALYZE mtcbind.binding_event;
    ANALYZE mtcbind.binding;
});
my $today = $sql->(q{SELECT tableoid::regclass::text FROM mtcbind.binding_event WHERE terminal_id = 'filler-1'});
$today =~ s/^mtcbind\.//;
($rc, $out, $err) = $node->psql('postgres', q{
    LOAD 'auto_explain';
    SET auto_explain.log_min_duration = 0;
    SET auto_explain.log_nested_statements = on;
    SET auto_explain.log_level = 'notice';
    SELECT refusals_last_hour FROM mtcbind.status();
});
is($out, $refusals, 'status() counts the same refusals among 20 000 other events');
like($err, qr/Index (Only )?Scan using ${today}_rejected_idx on $today\b/, "today's refusals are read through $today\_rejected_idx");
unlike($err, qr/Seq Scan on $today\b/, "today's partition is not scanned");
like($err, qr/occurred_at > '[^']+'::timestamp with time zone/, 'the cutoff is a constant, so older day partitions are pruned when planning');
unlike($err, qr/\b$past\b/, "... $past among them");
unlike($err, qr/ on binding\b(?!_)/, 'no binding is read: the count is the planner\'s estimate, scaled to the table\'s size');

# --- without shared_preload_libraries --------------------------------------
$node->adjust_conf('postgresql.conf', 'shared_preload_libraries', "''");
$node->restart;
($rc, $out, $err) = $node->psql('postgres', 'SELECT * FROM mtcbind.request_counts()');
like($err, qr/request counters are not available.*HINT:.*shared_preload_libraries/s,
     'request_counts() without the preload: an error that says what to do');
$m = scrape_until(sub { ($_[0]{pg_up} // 0) == 1 && defined $_[0]{mtcbind_counters_available}
                        && $_[0]{mtcbind_counters_available} == 0 });
is($m->{mtcbind_counters_available}, 0, 'mtcbind_counters_available = 0 without the preload');
is($m->{mtcbind_bindings}, 4, 'the status figures are still scraped');
is($m->{mtcbind_refusals_last_hour}, $refusals, '... refusals in the last hour among them');
is(scalar(grep { /^mtcbind_(requests|keys_issued)_total/ } keys %$m), 0, 'the counters are absent');
is($m->{pg_exporter_last_scrape_error}, 1, 'the exporter reports the failing counter queries as a scrape error');

$exp->kill_kill;
like(slurp_file($explog), qr/mtcbind_requests pq: mtcbind's request counters are not available/,
     "the exporter's log names the block and the reason");

$node->stop;

# --- the sample alerting rules ----------------------------------------------
my ($promtool) = grep { -x } map { "$_/promtool" } (split(/:/, $ENV{PATH} // ''), '/usr/bin');
SKIP: {
    skip 'promtool (Debian: prometheus) is not installed', 2 unless defined $promtool;
    my $dir = dirname($queries);
    my $log = '';
    ok(IPC::Run::run([ $promtool, 'check', 'rules', "$dir/alerts.yaml" ], '<', \undef, '>&', \$log),
       'promtool accepts monitoring/alerts.yaml') or diag $log;
    ok(IPC::Run::run([ $promtool, 'test', 'rules', "$dir/alerts_test.yaml" ], '<', \undef, '>&', \$log, init => sub { chdir $dir }),
       'the alerts fire as monitoring/alerts_test.yaml expects') or diag $log;
}

done_testing();
