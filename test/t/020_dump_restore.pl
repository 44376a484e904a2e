# pg_dump of a database using mtcbind keeps every binding, event and
# pending transfer, and a restore into a new database carries on from there.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE naf');
$node->safe_psql('naf', q{
    CREATE EXTENSION mtcbind;
    SELECT mtcbind.bind('meter-1', '89441000000000000018', imei => '490154203237518');
    SELECT mtcbind.bind('meter-2', '89441000000000000026');
    SELECT mtcbind.unbind('89441000000000000026', 'card retired');
    SELECT mtcbind.bind('meter-3', '89441000000000000034');
    SELECT mtcbind.authorize_transfer('89441000000000000034', 'meter-4');
    SELECT * FROM mtcbind.request_key(mtcbind.naf_id('naf.example.org', '\x0100000002'),
        'I1U8vpY3qJ0hiuRNrke/NQ==@bsf.example.org',
        '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
        now() + interval '1 day', 'meter-9', '89441000000000000018');
});

my $snapshot = q{
    SELECT 'b', binding_id::text, terminal_id, iccid::text, coalesce(imei::text, '-') FROM mtcbind.binding
    UNION ALL
    SELECT 'e', event_id::text, event, coalesce(iccid::text, '-'), coalesce(reason, '-') FROM mtcbind.binding_event
    UNION ALL
    SELECT 't', authorization_id::text, coalesce(new_terminal_id, '-'), iccid::text, (used_at IS NULL)::text
      FROM mtcbind.transfer_authorization
    ORDER BY 1, 2
};
my $before = $node->safe_psql('naf', $snapshot);
ok($before =~ /meter-1/ && $before =~ /rejected/, 'source database has bindings and events');

my $dumpfile = $node->basedir . '/naf.dump';
my $plainfile = $node->basedir . '/naf.sql';

# Custom format, restored with pg_restore --disable-triggers (docs/dba-guide.md).
$node->command_ok(['pg_dump', '-Fc', '-f', $dumpfile, '-d', $node->connstr('naf')], 'pg_dump -Fc');
$node->safe_psql('postgres', 'CREATE DATABASE naf_restored');
$node->command_ok(['pg_restore', '--disable-triggers', '-d', $node->connstr('naf_restored'), $dumpfile],
    'pg_restore --disable-triggers');
is($node->safe_psql('naf_restored', $snapshot), $before,
   'custom-format restore keeps bindings, events and transfers exactly');

# A plain-format dump replayed with psql (what many DBAs do) also works.
$node->command_ok(['pg_dump', '-f', $plainfile, '-d', $node->connstr('naf')], 'pg_dump plain');
$node->safe_psql('postgres', 'CREATE DATABASE naf_plain');
$node->command_ok(['psql', '-X', '-v', 'ON_ERROR_STOP=1', '-q', '-f', $plainfile, '-d', $node->connstr('naf_plain')],
    'plain dump replays without error');
is($node->safe_psql('naf_plain', $snapshot), $before,
   'plain-format restore keeps bindings, events and transfers exactly');

# The restored database carries on: sequences continue, constraints hold,
# the pending transfer still works.
my $next = $node->safe_psql('naf_restored', q{
    SELECT mtcbind.bind('meter-5', '89441000000000000042') > max(binding_id)
      FROM (SELECT binding_id FROM mtcbind.binding WHERE terminal_id <> 'meter-5') b
});
is($next, 't', 'binding ids continue after the restored ones');
my ($rc, $out, $err) = $node->psql('naf_restored',
    q{SELECT mtcbind.bind('meter-6', '89441000000000000018')});
like($err, qr/bound elsewhere/, 'restored bindings still block conflicting binds');
is($node->safe_psql('naf_restored', q{
    SELECT outcome FROM mtcbind.request_key(mtcbind.naf_id('naf.example.org', '\x0100000002'),
        'I1U8vpY3qJ0hiuRNrke/NQ==@bsf.example.org',
        '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
        now() + interval '1 day', 'meter-4', '89441000000000000034')}),
   'bound', 'a transfer authorised before the dump is honoured after the restore');
is($node->safe_psql('naf_restored', q{
    SELECT count(*) FROM mtcbind.binding_event e1 JOIN mtcbind.binding_event e2 USING (event_id)
     WHERE e1.ctid <> e2.ctid}), '0', 'no duplicated events');

$node->stop;
done_testing();
