# Real drivers that type their parameters reach request_key and bind:
# psycopg 3 with binary parameters (str typed text) and pgjdbc with
# setString (typed varchar).  Each prints what the database answered.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('drivers');
$node->init;
# pgjdbc speaks TCP only: listen on the loopback too (initdb -A trust).
$node->append_conf('postgresql.conf', "listen_addresses = '127.0.0.1'");
$node->start;
$node->safe_psql('postgres', q{
    CREATE EXTENSION mtcbind;
    CREATE ROLE naf_app LOGIN IN ROLE mtcbind_naf, mtcbind_admin;
});
my $script = $ENV{MTCBIND_TEST_DRIVERS} // 'drivers';
my ($host) = $node->connstr('postgres') =~ /host=(\S+)/;
my $port = $node->port;

my $out = `/usr/bin/python3 $script/psycopg3_request.py "host=$host port=$port dbname=postgres user=naf_app" 2>&1`;
is($out, join("\n",
    'binary-first-use bound - 32',
    'binary-rekey granted - 32',
    'text-rekey granted - 32',
    'binary-thief rejected uicc_bound_elsewhere 0',
    'binary-bind bound - 0',
    'binary-bad-iccid 22P02 - 0', ''), 'psycopg 3: identifiers as str, binary and text parameters');

$out = `java -cp /usr/share/java/postgresql.jar $script/JdbcRequest.java "jdbc:postgresql://127.0.0.1:$port/postgres" naf_app 2>&1`;
is($out, join("\n",
    'jdbc-first-use bound - 32',
    'jdbc-rekey granted - 32',
    'jdbc-thief rejected uicc_bound_elsewhere 0',
    'jdbc-bind bound - 0',
    'jdbc-bad-iccid 22P02 - 0', ''), 'pgjdbc: identifiers with setString (varchar)');

$node->stop;
done_testing();
