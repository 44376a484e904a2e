# Superuser settings given in a connection's options by a role that may
# not set them.  Without shared_preload_libraries PostgreSQL checks such a
# value only when mtcbind loads, drops it with a WARNING and with it the
# value ALTER DATABASE or ALTER ROLE gave: the session would run on the
# built-in defaults (first use allowed, one-day keys).  mtcbind refuses the
# session's requests instead (42501), and writes nothing.  Options a role
# may set, a superuser's options, and a SET before the library loads (which
# leaves the database's value in place) are not refused.  With the library
# preloaded, PostgreSQL refuses such a connection at login.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('client_settings');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
    CREATE DATABASE naf;
    CREATE ROLE naf_login LOGIN;
});
$node->safe_psql('naf', q{
    CREATE EXTENSION mtcbind;
    GRANT mtcbind_naf TO naf_login;
    ALTER DATABASE naf SET mtcbind.first_use = reject;
    ALTER ROLE naf_login SET mtcbind.key_lifetime = '1 hour';
});

my $n = 0;
my $request = sub {
    my $card = sprintf('89441000000000%05d', ++$n);
    # a valid Luhn digit for the 19-digit prefix
    my @d = reverse split //, $card;
    my $sum = 0;
    for my $i (0 .. $#d) {
        my $v = $d[$i];
        if ($i % 2 == 0) { $v *= 2; $v -= 9 if $v > 9; }
        $sum += $v;
    }
    $card .= (10 - $sum % 10) % 10;
    return "SELECT outcome || coalesce(' ' || reason, '') || "
      . "coalesce(' short:' || (expires_at - now() < interval '2 hours')::text, '') FROM mtcbind.request_key("
      . "mtcbind.naf_id('naf.example.org', '\\x0100000002'), 'b\@bsf.example.org', "
      . "'\\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', "
      . "now() + interval '1 day', 'meter-$n', '$card')";
};
my $as = sub {
    my ($user, $options, $sql) = @_;
    my $connstr = $node->connstr('naf') . " user=$user";
    $connstr .= " options='$options'" if defined $options;
    my ($rc, $out, $err) = $node->psql('naf', $sql, connstr => $connstr);
    return ($rc, $out, $err);
};
my $written = sub {
    return $node->safe_psql('naf', q{SELECT (SELECT count(*) FROM mtcbind.binding) || '/' || (SELECT count(*) FROM mtcbind.binding_event)});
};

# The database's and the role's values hold for the NAF.
my ($rc, $out, $err) = $as->('naf_login', undef, $request->());
is($out, 'rejected not_provisioned', 'ALTER DATABASE first_use = reject holds for the NAF');

my $before = $written->();
for my $opt ('-c mtcbind.first_use=bind', '-c mtcbind.key_lifetime=2h', '-c mtcbind.log_key_issue=off',
             '-c mtcbind.key_issue_log=compact', '-c mtcbind.refusal_log=compact', '-c mtcbind.First_Use=bind', '-c MTCBIND.FIRST_USE=bind',
             '--mtcbind.first_use=bind', '-c mtcbind.reason=x -c mtcbind.Key_Lifetime=2h')
{
    ($rc, $out, $err) = $as->('naf_login', $opt, $request->());
    (my $name = lc $opt) =~ s/^.*?(mtcbind\.[a-z_]+)=[^=]*$/$1/;
    like($err, qr/ERROR:  $name was given in this connection's options by a role that may not set it/,
         "the NAF's $opt: its requests are refused");
}
like($err, qr/HINT:  Connect without -c mtcbind\.\* options/, '... with a hint');
is($written->(), $before, '... and nothing was written');

# What is not refused.
($rc, $out, $err) = $as->('naf_login', '-c mtcbind.reason=nightly', $request->());
is($out, 'rejected not_provisioned', 'a setting the role may set (mtcbind.reason) is no reason to refuse');
($rc, $out, $err) = $as->('naf_login', undef, 'SET mtcbind.first_use = bind; ' . $request->());
is($out, 'rejected not_provisioned', 'a SET before the library loads is dropped and the database\'s value holds');
like($err, qr/permission denied to set parameter "mtcbind.first_use"/, '... PostgreSQL warns');
($rc, $out, $err) = $as->($node->safe_psql('postgres', 'SELECT current_user'), '-c mtcbind.first_use=bind', $request->());
is($out, 'bound short:false', 'a superuser\'s options are its own to give');
# A role granted SET on the parameter may give it, as PostgreSQL lets it.
$node->safe_psql('naf', q{
    CREATE ROLE naf_trusted LOGIN IN ROLE mtcbind_naf;
    GRANT SET ON PARAMETER mtcbind.first_use TO naf_trusted;
});
($rc, $out, $err) = $as->('naf_trusted', '-c mtcbind.first_use=bind', $request->());
is($out, 'bound short:false', 'a role granted SET ON PARAMETER gives it in its options');

# Preloaded, PostgreSQL refuses the connection itself.
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'mtcbind'");
$node->restart;
($rc, $out, $err) = $as->('naf_login', '-c mtcbind.first_use=bind', 'SELECT 1');
like($err, qr/permission denied to set parameter "mtcbind.first_use"/, 'preloaded: the connection is refused at login');
($rc, $out, $err) = $as->('naf_login', undef, $request->());
is($out, 'rejected not_provisioned', 'preloaded: the NAF without options is served as before');

$node->stop;
done_testing();
