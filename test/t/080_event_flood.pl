# A rogue NAF client floods request_key with refusals (each one an event
# and a NOTIFY).  The key centre keeps answering, each refusal costs a
# bounded number of bytes, and an administrator removes the flood with
# mtcbind.purge_events without touching the rest of the history; the purge
# itself is recorded.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $flood = 100_000;

my $node = PostgreSQL::Test::Cluster->new('flood');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
    CREATE EXTENSION mtcbind;
    SELECT mtcbind.maintain_event_log(1);
    CREATE ROLE rogue LOGIN IN ROLE mtcbind_naf;
    SELECT mtcbind.bind('meter-1', '89441000000000000018', imei => '490154203237518',
                        imsi => '001010123456789');
});

my $request = sub {
    my ($term, $card) = @_;
    return "mtcbind.request_key(mtcbind.naf_id('naf.example.org', '\\x0100000002'), "
      . "'I1U8vpY3qJ0hiuRNrke/NQ==\@bsf.example.org', "
      . "'\\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', "
      . "now() + interval '1 day', $term, $card)";
};

# The flood: one device name after another tries the bound card.
my $refused = $node->safe_psql('postgres',
    "SET ROLE rogue; SELECT count(*) FROM generate_series(1, $flood) g, LATERAL "
      . $request->("'rogue-' || g", "'89441000000000000018'") . " r WHERE r.outcome = 'rejected'");
is($refused, $flood, "$flood refusals answered as refusals, not errors");

is($node->safe_psql('postgres', q{SELECT count(*) FROM mtcbind.binding_event WHERE event = 'rejected'}),
   $flood, 'each refusal is one event');

# Bytes on disk per refusal, heap and indexes together, in the partition
# that took them.
my $per_event = $node->safe_psql('postgres', q{
    SELECT round(sum(pg_total_relation_size(i.inhrelid))::numeric
                 / (SELECT count(*) FROM mtcbind.binding_event))
      FROM pg_inherits i WHERE i.inhparent = 'mtcbind.binding_event'::regclass});
cmp_ok($per_event, '<', 400, "a refusal costs $per_event bytes with its indexes (under 400)");
diag("event log: $per_event bytes per event, heap and indexes");

# The key centre still answers the legitimate device.
is($node->safe_psql('postgres', 'SELECT outcome FROM ' . $request->("'meter-1'", "'89441000000000000018'")),
   'granted', 'the bound pair is still granted after the flood');

# Clean-up: the refusals go, the binding's history stays, the purge is recorded.
is($node->safe_psql('postgres',
    q{SELECT mtcbind.purge_events('0', 'flood from rogue NAF client', '{rejected}')}),
   $flood, 'purge_events with kinds removes exactly the refusals');
is($node->safe_psql('postgres', q{
    SELECT string_agg(event, ',' ORDER BY event_id) FROM mtcbind.binding_event}),
   'bound,key_issued,events_purged', 'the binding, its key issue and the purge remain');
is($node->safe_psql('postgres', q{
    SELECT detail->>'events_removed' || ' ' || reason || ' ' || actor FROM mtcbind.binding_event
     WHERE event = 'events_purged'}),
   "$flood flood from rogue NAF client postgres", 'the purge names its count, reason and actor');

# The rogue client cannot purge, and cannot touch the log at all.
my ($rc, $out, $err) = $node->psql('postgres',
    q{SET ROLE rogue; SELECT mtcbind.purge_events('0', 'cover tracks')});
like($err, qr/permission denied for function purge_events/, 'a NAF client cannot purge');
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE rogue; DELETE FROM mtcbind.binding_event});
like($err, qr/permission denied/, 'a NAF client cannot delete events');

$node->stop;
done_testing();
