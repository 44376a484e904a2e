# Drivers that interpolate parameters on the client (psycopg2) put
# Ks_int_NAF into the statement text, and a server that logs statements
# (log_statement = all, the duration and sampling settings, or
# log_min_error_statement on a failure) writes it to its log.  The per-role settings docs/naf-guide.md gives the NAF's login
# keep its statements and parameters out of the log; another role on the
# same server, without them, shows what they prevent.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('logs');
$node->init;
$node->append_conf('postgresql.conf', qq{
log_statement = 'all'
log_min_duration_statement = 0
log_min_duration_sample = 0
log_statement_sample_rate = 1
log_transaction_sample_rate = 1
log_min_error_statement = error
log_parameter_max_length = -1
log_parameter_max_length_on_error = -1
});
$node->start;
$node->safe_psql('postgres', q{
    CREATE EXTENSION mtcbind;
    CREATE ROLE naf_app LOGIN IN ROLE mtcbind_naf;
    CREATE ROLE careless_app LOGIN IN ROLE mtcbind_naf;
    -- docs/naf-guide.md, "Keys and the server log"
    ALTER ROLE naf_app SET log_statement = 'none';
    ALTER ROLE naf_app SET log_min_duration_statement = -1;
    ALTER ROLE naf_app SET log_min_duration_sample = -1;
    ALTER ROLE naf_app SET log_transaction_sample_rate = 0;
    ALTER ROLE naf_app SET log_min_error_statement = 'panic';
    ALTER ROLE naf_app SET log_parameter_max_length = 0;
    ALTER ROLE naf_app SET log_parameter_max_length_on_error = 0;
    ALTER ROLE naf_app SET track_activities = off;
});

my $key_hex = join('', map { sprintf('%02x', $_) } (0xa0 .. 0xbf));
my $script = $ENV{MTCBIND_TEST_DRIVERS} // 'drivers';
my $dsn = sub { my ($user) = @_; return $node->connstr('postgres') . " user=$user"; };

my $log_before = -s $node->logfile;
my $out = `/usr/bin/python3 $script/psycopg2_request.py "@{[ $dsn->('naf_app') ]}" meter-1 89441000000000000018 2>&1`;
is($out, "bound\n22P02\n", 'psycopg2 (client-side parameters) binds, then fails on a bad ICCID, as naf_app');
my $log = slurp_file($node->logfile, $log_before);
unlike($log, qr/\Q$key_hex\E/i, 'the server log has no Ks_int_NAF from naf_app, neither statement nor error');
like($log, qr/invalid input syntax for type iccid/, '... while the error itself is still logged');

$log_before = -s $node->logfile;
$out = `/usr/bin/python3 $script/psycopg2_request.py "@{[ $dsn->('careless_app') ]}" meter-2 89441000000000000026 2>&1`;
is($out, "bound\n22P02\n", 'the same program as careless_app');
$log = slurp_file($node->logfile, $log_before);
like($log, qr/\Q$key_hex\E/i, 'without the settings, the key is in the log: what the settings prevent');

# A prepared statement executed with the key as its argument: the
# statement text holds the key, and is not logged for naf_app either.
$log_before = -s $node->logfile;
$node->safe_psql('postgres', qq{
    PREPARE q(bytea) AS SELECT outcome FROM mtcbind.request_key(mtcbind.naf_id('naf.example.org', '\\x0100000002'),
        'b\@bsf.example.org', \$1, now() + interval '1 day', 'meter-1', '89441000000000000018');
    EXECUTE q('\\x$key_hex');
}, connstr => $node->connstr('postgres') . ' user=naf_app');
$log = slurp_file($node->logfile, $log_before);
unlike($log, qr/\Q$key_hex\E/i, 'nothing of the key from PREPARE and EXECUTE either');

# The settings are the superuser's: the NAF role cannot turn logging back on.
my ($rc, $stdout, $stderr) = $node->psql('postgres', 'SET log_statement = none',
    connstr => $node->connstr('postgres') . ' user=naf_app');
like($stderr, qr/permission denied to set parameter/, 'naf_app cannot change its own log settings');

$node->stop;
done_testing();
