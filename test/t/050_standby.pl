# With mtcbind.log_key_issue off, re-keying a bound pair writes nothing, so
# a hot standby can serve it; everything that must write (first use,
# refusals, key logging) is refused there with an error, never half-done.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->start;
$primary->safe_psql('postgres', q{
    CREATE EXTENSION mtcbind;
    SELECT mtcbind.bind('meter-1', '89441000000000000018', imei => '490154203237518');
});
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

my $request = sub {
    my ($term, $card, $settings) = @_;
    return "$settings SELECT r.outcome, length(r.ks_local), r.ks_local = mtcbind.ks_local("
      . "'\\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'b\@bsf.example.org', "
      . "'$card', '$term', '', '', r.rand_x, r.rand_y) "
      . "FROM mtcbind.request_key(mtcbind.naf_id('naf.example.org', '\\x0100000002'), 'b\@bsf.example.org', "
      . "'\\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', now() + interval '1 day', "
      . "'$term', '$card') r";
};

is($standby->safe_psql('postgres', $request->('meter-1', '89441000000000000018', 'SET mtcbind.log_key_issue = off;')),
   'granted|32|t', 'a standby grants a correct key to a bound pair with log_key_issue off');

my ($rc, $out, $err) = $standby->psql('postgres', $request->('meter-1', '89441000000000000018', ''));
isnt($rc, 0, 'with log_key_issue on, the standby refuses to issue an unlogged key');
like($err, qr/read-only transaction/, '... with PostgreSQL\'s read-only error');

($rc, $out, $err) = $standby->psql('postgres',
    $request->('meter-2', '89441000000000000026', 'SET mtcbind.log_key_issue = off;'));
like($err, qr/read-only transaction/, 'a first use cannot bind on a standby');

($rc, $out, $err) = $standby->psql('postgres',
    $request->('thief', '89441000000000000018', 'SET mtcbind.log_key_issue = off;'));
like($err, qr/read-only transaction/, 'a refusal cannot be recorded on a standby, so it is an error there');

is($primary->safe_psql('postgres', 'SELECT count(*) FROM mtcbind.binding_event'), '1',
   'the primary saw nothing but its own binding');

$standby->stop;
$primary->stop;
done_testing();
