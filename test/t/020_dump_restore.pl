# pg_dump of a database using mtcbind keeps every binding, block, policy,
# event (in the day partitions and the default one) and pending transfer;
# the documented restore (docs/dba-guide.md, "Backup and restore") gives a
# database that behaves as the old one, and a restore that forgets it fails
# loudly instead of rewriting history.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->start;

my $request = sub {
    my ($term, $card) = @_;
    return "SELECT outcome || coalesce(' ' || reason, '') FROM mtcbind.request_key("
      . "mtcbind.naf_id('naf.example.org', '\\x0100000002'), 'I1U8vpY3qJ0hiuRNrke/NQ==\@bsf.example.org', "
      . "'\\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', "
      . "now() + interval '1 day', '$term', '$card')";
};

$node->safe_psql('postgres', 'CREATE DATABASE naf');
$node->safe_psql('naf', q{
    CREATE EXTENSION mtcbind;
    SELECT mtcbind.maintain_event_log(2);
    -- an event of a day without a partition lands in the default one
    INSERT INTO mtcbind.binding_event (occurred_at, event, reason) VALUES ('2020-01-01', 'updated', 'old history');
    SELECT mtcbind.bind('meter-1', '89441000000000000018', imei => '490154203237518');
    SELECT mtcbind.bind('meter-2', '89441000000000000026');
    SELECT mtcbind.unbind('89441000000000000026', 'card retired');
    SELECT mtcbind.bind('meter-3', '89441000000000000034');
    SELECT mtcbind.authorize_transfer('89441000000000000034', 'meter-4');
    SELECT mtcbind.block_uicc('89441000000000000042', 'stolen, police report 77');
    -- security policy stored with the data (what ALTER DATABASE SET is not)
    SELECT mtcbind.set_policy('first_use', 'reject', 'pre-provisioned fleet only');
});
$node->safe_psql('naf', $request->('meter-9', '89441000000000000018'));
# Key issues in the compact log (1.1): one today (a day partition), one of
# 2020 (the default partition), and the code of their NAF.
$node->safe_psql('naf', 'SET mtcbind.key_issue_log = compact; ' . $request->('meter-1', '89441000000000000018'));
$node->safe_psql('naf', q{
    INSERT INTO mtcbind.key_issue (binding_id, iccid, issued_at, expires_at, issuer)
    SELECT binding_id, iccid, '2020-01-01', '2020-01-02', (SELECT min(issuer) FROM mtcbind.key_issuer)
      FROM mtcbind.binding WHERE terminal_id = 'meter-1';
});
# Refusals in the compact log (1.1): one today, one of 2020, and their code.
$node->safe_psql('naf', 'SET mtcbind.refusal_log = compact; ' . $request->('thief-1', '89441000000000000018'));
$node->safe_psql('naf', q{
    INSERT INTO mtcbind.refusal (refused_at, subject) SELECT '2020-01-01', min(subject) FROM mtcbind.refusal_subject;
});

my $snapshot = q{
    SELECT 'b', binding_id::text, terminal_id, iccid::text, coalesce(imei::text, '-') FROM mtcbind.binding
    UNION ALL
    SELECT 'e', event_id::text, event, coalesce(iccid::text, '-'),
           coalesce(reason, '-') || ' ' || tableoid::regclass::text FROM mtcbind.binding_event
    UNION ALL
    SELECT 't', authorization_id::text, coalesce(new_terminal_id, '-'), iccid::text, (used_at IS NULL)::text
      FROM mtcbind.transfer_authorization
    UNION ALL
    SELECT 'k', block_id::text, coalesce(iccid::text, '-'), coalesce(terminal_id, '-'), reason FROM mtcbind.blocklist
    UNION ALL
    SELECT 'p', name, value, reason, set_by FROM mtcbind.policy
    UNION ALL
    SELECT 'i', issued_at::text, iccid::text || ' ' || binding_id::text, issuer::text,
           expires_at::text || ' ' || tableoid::regclass::text FROM mtcbind.key_issue
    UNION ALL
    SELECT 'c', issuer::text, encode(naf_id, 'hex'), actor, '-' FROM mtcbind.key_issuer
    UNION ALL
    SELECT 'r', refused_at::text, subject::text, tableoid::regclass::text, '-' FROM mtcbind.refusal
    UNION ALL
    SELECT 's', subject::text, iccid::text || ' ' || terminal_id, reason || ' ' || encode(naf_id, 'hex'),
           last_used::text FROM mtcbind.refusal_subject
    ORDER BY 1, 2
};
my $before = $node->safe_psql('naf', $snapshot);
ok($before =~ /meter-1/ && $before =~ /rejected/ && $before =~ /binding_event_default/
   && $before =~ /binding_event_p\d{8}/ && $before =~ /first_use\|reject/
   && $before =~ /key_issue_p\d{8}/ && $before =~ /key_issue_default/
   && $before =~ /refusal_p\d{8}/ && $before =~ /refusal_default/ && $before =~ /thief-1/,
   'source database has bindings, events, compact key issues and refusals in both kinds of partition, a block and a policy');

my $dumpfile = $node->basedir . '/naf.dump';
my $plainfile = $node->basedir . '/naf.sql';
$node->command_ok(['pg_dump', '-Fc', '-f', $dumpfile, '-d', $node->connstr('naf')], 'pg_dump -Fc');
$node->command_ok(['pg_dump', '-f', $plainfile, '-d', $node->connstr('naf')], 'pg_dump plain');

# A restore that does not say it is one fails on the first binding: its id
# was not drawn from the sequence for it (MB008), so no history is rewritten silently.
$node->safe_psql('postgres', 'CREATE DATABASE naf_careless');
my ($rc, $out, $err) = $node->psql('naf_careless', "\\i $plainfile", on_error_stop => 1);
isnt($rc, 0, 'a restore without the restore mode stops');
like($err, qr/binding_id \d+ was not drawn for this row by its default/,
     '... with MB008 naming the binding id');

# The documented restore: the restoring session runs in replica mode, so the
# extension's triggers (audit, id guard) do not fire while the rows and their
# events come back as data.
{
    local $ENV{PGOPTIONS} = '-c session_replication_role=replica';
    $node->safe_psql('postgres', 'CREATE DATABASE naf_restored');
    $node->command_ok(['pg_restore', '--exit-on-error', '-d', $node->connstr('naf_restored'), $dumpfile],
        'pg_restore of a custom-format dump in replica mode');
    $node->safe_psql('postgres', 'CREATE DATABASE naf_plain');
    $node->command_ok(['psql', '-X', '-v', 'ON_ERROR_STOP=1', '-q', '-f', $plainfile, '-d', $node->connstr('naf_plain')],
        'psql replay of a plain dump in replica mode');
}
is($node->safe_psql('naf_restored', $snapshot), $before,
   'custom-format restore keeps bindings, events (in their partitions), transfers, blocks, policy exactly');
is($node->safe_psql('naf_plain', $snapshot), $before,
   'plain-format restore keeps them exactly');

# The restored database carries on as the old one did.
is($node->safe_psql('naf_restored', $request->('meter-10', '89441000000000000059')),
   'rejected not_provisioned', 'the stored policy first_use = reject holds after the restore');
is($node->safe_psql('naf_restored', $request->('meter-11', '89441000000000000042')),
   'rejected uicc_blocked', 'a blocked card is still blocked after the restore');
is($node->safe_psql('naf_restored', q{
    SELECT mtcbind.bind('meter-5', '89441000000000000067') > max(binding_id)
      FROM (SELECT binding_id FROM mtcbind.binding WHERE terminal_id <> 'meter-5') b
}), 't', 'binding ids continue after the restored ones');
($rc, $out, $err) = $node->psql('naf_restored',
    q{SELECT mtcbind.bind('meter-6', '89441000000000000018')});
like($err, qr/bound elsewhere/, 'restored bindings still block conflicting binds');
is($node->safe_psql('naf_restored', $request->('meter-4', '89441000000000000034')),
   'bound', 'a transfer authorised before the dump is honoured after the restore');
is($node->safe_psql('naf_restored', q{
    SELECT count(*) FROM (SELECT event_id FROM mtcbind.binding_event GROUP BY 1 HAVING count(*) > 1) d}),
   '0', 'no event id twice');
is($node->safe_psql('naf_restored', q{
    SELECT count(*) FROM mtcbind.binding_event WHERE event = 'bound' AND terminal_id = 'meter-5'}),
   '1', 'changes after the restore are audited again');
is($node->safe_psql('naf_restored', q{SELECT mtcbind.maintain_event_log(2)}), '0',
   'the restored day partitions are the log\'s own: maintenance finds them');
($rc, $out, $err) = $node->psql('naf_restored', q{DELETE FROM mtcbind.binding_event});
like($err, qr/append-only/, 'the restored log is append-only, partitions included');
($rc, $out, $err) = $node->psql('naf_restored', q{DELETE FROM mtcbind.key_issue});
like($err, qr/key_issue is append-only/, 'the restored compact key-issue log is append-only');
($rc, $out, $err) = $node->psql('naf_restored', q{DELETE FROM mtcbind.refusal});
like($err, qr/refusal is append-only/, 'the restored compact refusal log is append-only');
is($node->safe_psql('naf_restored', q{
    SET mtcbind.refusal_log = compact;
    SELECT r.outcome FROM mtcbind.request_key(mtcbind.naf_id('naf2.example.org', '\x0100000002'),
        'I1U8vpY3qJ0hiuRNrke/NQ==@bsf.example.org',
        '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
        now() + interval '1 day', 'thief-2', '89441000000000000018') r;
    SELECT count(*) || ' ' || count(DISTINCT subject) FROM mtcbind.refusals WHERE logged_in = 'refusal';
}), "rejected\n3 2", 'after the restore a new refusal gets a new code, and the old ones are all shown');
is($node->safe_psql('naf_restored', q{
    SET mtcbind.key_issue_log = compact;
    SELECT r.outcome FROM mtcbind.request_key(mtcbind.naf_id('naf2.example.org', '\x0100000002'),
        'I1U8vpY3qJ0hiuRNrke/NQ==@bsf.example.org',
        '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
        now() + interval '1 day', 'meter-1', '89441000000000000018') r;
    SELECT count(*) FROM mtcbind.key_issues WHERE terminal_id = 'meter-1';
}), "granted\n3", 'a new NAF gets a new code after the restore, and every key issue shows its device');

# A restore with --clean over a database that holds the data would first
# drop the day partitions and the extension: the drop guard refuses both,
# in replica mode too.
{
    local $ENV{PGOPTIONS} = '-c session_replication_role=replica';
    my ($ok, $stdout, $stderr);
    $ok = IPC::Run::run(['pg_restore', '--exit-on-error', '--clean', '--if-exists', '-d',
                         $node->connstr('naf'), $dumpfile], '>', \$stdout, '2>', \$stderr);
    ok(!$ok, 'pg_restore --clean over a live database stops');
    like($stderr, qr/would delete (its bindings|data of mtcbind)/, '... at the drop guard (MB009)');
}
is($node->safe_psql('naf', $snapshot), $before,
   '... and the database it was run on lost no binding, block, policy or event');

$node->stop;
done_testing();
