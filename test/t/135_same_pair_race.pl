# Four NAF clients send the same first requests, pair after pair, at the
# same time: each pair is bound once and every other answer is a grant.  A
# request that finds the card free and then the device bound by its twin
# (which committed in between) must decide again, not refuse the pair as
# bound elsewhere (a false alarm on mtcbind_rejected).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Test::More;

my $pairs = 1500;
my $node = PostgreSQL::Test::Cluster->new('race');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION mtcbind; SELECT mtcbind.maintain_event_log();');

# A valid ICCID: prefix, number, Luhn digit.
sub iccid
{
    my ($n) = @_;
    my $body = sprintf('8944729%012d', $n);
    my ($sum, $double) = (0, 1);
    for my $digit (reverse split //, $body) {
        my $v = $double ? 2 * $digit : $digit;
        $v -= 9 if $v > 9;
        $sum += $v;
        $double = !$double;
    }
    return $body . ((10 - $sum % 10) % 10);
}

my $dir = PostgreSQL::Test::Utils::tempdir;
my $ks = '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
my @clients;
for my $c (1 .. 4) {
    open(my $fh, '>', "$dir/c$c.sql") or die "$dir/c$c.sql: $!";
    print $fh "\\set ON_ERROR_STOP 1\n"
      . "PREPARE rk(text, text) AS SELECT r.outcome, coalesce(r.reason, ''), r.binding_id "
      . "FROM mtcbind.request_key(mtcbind.naf_id('naf.example.org', '\\x0100000002'), 'b\@bsf.example.org', "
      . "'$ks', now() + interval '1 day', \$1, \$2) r;\n";
    print $fh "EXECUTE rk('meter-$_', '" . iccid($_) . "');\n" for 1 .. $pairs;
    close $fh;
    push @clients, IPC::Run::start(['psql', '-X', '-q', '-A', '-t', '-f', "$dir/c$c.sql", '-d', $node->connstr('postgres')],
                                   '<', '/dev/null', '>', "$dir/c$c.out", '2>', "$dir/c$c.err");
}
$_->finish for @clients;

my %answers;
my $errors = '';
for my $c (1 .. 4) {
    $answers{(split /\|/)[0] . ' ' . (split /\|/)[1]}++ for split /\n/, slurp_file("$dir/c$c.out");
    $errors .= slurp_file("$dir/c$c.err");
}
note(join(', ', map { "$_=$answers{$_}" } sort keys %answers));
is($errors, '', 'no client got an error');
is($answers{'bound '} // 0, $pairs, 'each pair was bound once');
is($answers{'granted '} // 0, 3 * $pairs, 'every other request for it was granted');
is($node->safe_psql('postgres', q{SELECT count(*) FROM mtcbind.binding_event WHERE event = 'rejected'}),
   '0', 'no refusal was recorded (nor announced)');
is($node->safe_psql('postgres', q{SELECT count(*) FROM mtcbind.binding}), $pairs, 'one binding per pair');

$node->stop;
done_testing();
