# Rejections are announced with NOTIFY on channel mtcbind_rejected, with a
# payload that names the refusal and carries no key material.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('notify');
$node->init;
$node->append_conf('postgresql.conf', "log_min_messages = debug1\nlog_statement = none\n");
$node->start;
$node->safe_psql('postgres', q{
    CREATE EXTENSION mtcbind;
    SELECT mtcbind.bind('meter-1', '89441000000000000018');
});

my $ks = '5f3a9c0e11d2b7a4c8e6f0913d2a7b5c4e8f1a2b3c4d5e6f708192a3b4c5d6e7';
my $btid = 'Zm9vYmFyYmF6cXV4cXV1eA==@bsf.example.org';
my $request = sub {
    my ($term, $card) = @_;
    return "SELECT outcome, reason FROM mtcbind.request_key(mtcbind.naf_id('naf.example.org', '\\x0100000002'), "
      . "'$btid', '\\x$ks', now() + interval '1 day', '$term', '$card')";
};

# One psql session: LISTEN, then a refused and a granted request; psql
# prints the notifications it received.
my ($stdout, $stderr);
$node->psql('postgres',
    "LISTEN mtcbind_rejected;\n" . $request->('meter-2', '89441000000000000018') . ";\n"
      . $request->('meter-1', '89441000000000000018') . ";\nSELECT 1;\n",
    stdout => \$stdout, stderr => \$stderr);
like($stdout, qr/rejected\|uicc_bound_elsewhere/, 'the refused request answers rejected');
like($stdout, qr/granted\|/, 'the bound pair is granted');
my @notes = ($stdout =~ /Asynchronous notification "mtcbind_rejected" with payload "(.*?)" received/g);
is(scalar(@notes), 1, 'exactly one notification, for the refusal only');
like($notes[0] // '', qr/^\{"reason": "uicc_bound_elsewhere", "event_id": \d+\}$/,
     'payload names the event and the reason, nothing else (a jsonb object)');
unlike($notes[0] // '', qr/meter-2|89441000000000000018/,
       'payload has no identities (any database user may LISTEN)');
my ($event_id) = ($notes[0] // '') =~ /"event_id": (\d+)/;
is($node->safe_psql('postgres',
    "SELECT reason || ' ' || terminal_id || ' ' || iccid FROM mtcbind.binding_event WHERE event_id = " . ($event_id // 0)),
   'uicc_bound_elsewhere meter-2 89441000000000000018', 'the event row named by the payload has the details');
unlike($notes[0] // '', qr/\Q$ks\E|Zm9vYmFy|bsf\.example/i, 'payload has no key, RAND or B-TID');

# Nothing the extension wrote to the server log contains key material.
my $log = slurp_file($node->logfile);
unlike($log, qr/\Q$ks\E/i, 'server log has no Ks_int_NAF');

# In the compact refusal log (1.1) the payload names the refusal's code,
# "subject", which mtcbind.refusals shows with the details.
$node->psql('postgres',
    "SET mtcbind.refusal_log = compact;\nSET TimeZone = 'Asia/Kathmandu';\nLISTEN mtcbind_rejected;\n"
      . $request->('meter-4', '89441000000000000018') . ";\nSELECT 1;\n",
    stdout => \$stdout, stderr => \$stderr);
@notes = ($stdout =~ /Asynchronous notification "mtcbind_rejected" with payload "(.*?)" received/g);
like($notes[0] // '', qr/^\{"reason": "uicc_bound_elsewhere", "subject": \d+, "refused_at": "[-0-9T:.]+\+00:00"\}$/,
     'compact log: payload names the code, the time (in UTC, whatever the session\'s TimeZone) and the reason, nothing else');
my ($subject, $at) = ($notes[0] // '') =~ /"subject": (\d+), "refused_at": "([^"]+)"/;
# A second refusal of the same kind names the same code: the time tells them apart.
$node->psql('postgres', "SET mtcbind.refusal_log = compact;\n" . $request->('meter-4', '89441000000000000018'));
is($node->safe_psql('postgres',
    "SELECT count(*) FROM mtcbind.refusals WHERE subject = " . ($subject // 0)), '2',
   'a repeat names the same code');
is($node->safe_psql('postgres',
    "SELECT string_agg(reason || ' ' || terminal_id || ' ' || iccid, ',') FROM mtcbind.refusals WHERE subject = "
      . ($subject // 0) . " AND refused_at = '" . ($at // 'epoch') . "'"),
   'uicc_bound_elsewhere meter-4 89441000000000000018', 'the code and time of the payload name exactly that refusal');
is($node->safe_psql('postgres', q{SELECT count(*) FROM mtcbind.binding_event WHERE terminal_id = 'meter-4'}),
   '0', '... and no rejected event was written');

# A notification is sent only if the refusal commits.
$node->psql('postgres',
    "LISTEN mtcbind_rejected;\nBEGIN;\n" . $request->('meter-3', '89441000000000000018') . ";\nROLLBACK;\nSELECT 1;\n",
    stdout => \$stdout, stderr => \$stderr);
unlike($stdout, qr/Asynchronous notification/, 'no notification for a rolled-back refusal');

$node->stop;
done_testing();
