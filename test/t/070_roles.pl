# The roles mtcbind_naf, mtcbind_admin and mtcbind_auditor belong to the
# whole cluster.  CREATE EXTENSION uses a pre-existing one only if it is as
# harmless as the role it would create (NOLOGIN, no role attribute, member
# of no role), names the members that gain its rights, and otherwise stops
# before creating anything.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('roles');
$node->init;
$node->start;

# Tries CREATE EXTENSION in database $db; returns (ok, stderr).
my $install = sub {
    my ($db) = @_;
    my ($rc, $out, $err) = $node->psql($db, 'CREATE EXTENSION mtcbind');
    return ($rc == 0, $err);
};
my $installed = sub {
    my ($db) = @_;
    return $node->safe_psql($db,
        q{SELECT count(*) FROM pg_extension WHERE extname = 'mtcbind'}) . '/'
      . $node->safe_psql($db, q{SELECT count(*) FROM pg_namespace WHERE nspname = 'mtcbind'});
};

my @unsafe = (
    [ 'LOGIN',       'a role that can log in' ],
    [ 'SUPERUSER',   'a superuser role' ],
    [ 'CREATEROLE',  'a CREATEROLE role' ],
    [ 'CREATEDB',    'a CREATEDB role' ],
    [ 'BYPASSRLS',   'a BYPASSRLS role' ],
    [ 'NOINHERIT',   'a NOINHERIT role' ],
);
for my $case (@unsafe) {
    my ($attribute, $what) = @$case;
    my $base = $attribute eq 'LOGIN' ? '' : 'NOLOGIN';
    $node->safe_psql('postgres', "CREATE ROLE mtcbind_admin $base $attribute");
    my ($ok, $err) = $install->('postgres');
    ok(!$ok, "CREATE EXTENSION refuses a pre-existing mtcbind_admin that is $what");
    like($err, qr/role mtcbind_admin exists and is not safe for mtcbind to use/,
         '... saying which role and why');
    is($installed->('postgres'), '0/0', '... and creates nothing');
    $node->safe_psql('postgres', 'DROP ROLE mtcbind_admin');
}

# A role that is a member of another role would pass that role's rights on.
$node->safe_psql('postgres', 'CREATE ROLE mtcbind_naf NOLOGIN; GRANT pg_read_all_data TO mtcbind_naf');
my ($ok, $err) = $install->('postgres');
ok(!$ok, 'CREATE EXTENSION refuses a pre-existing mtcbind_naf that is a member of pg_read_all_data');
like($err, qr/role mtcbind_naf exists and is a member of other roles/, '... saying why');
is($installed->('postgres'), '0/0', '... and creates nothing');
$node->safe_psql('postgres', 'REVOKE pg_read_all_data FROM mtcbind_naf');

# A harmless pre-existing role is used; its members are named.
$node->safe_psql('postgres', 'CREATE ROLE ops LOGIN; GRANT mtcbind_naf TO ops');
($ok, $err) = $install->('postgres');
ok($ok, 'CREATE EXTENSION uses a pre-existing NOLOGIN mtcbind_naf without attributes');
like($err, qr/role mtcbind_naf already exists; its members \(ops\) gain its rights in this database/,
     '... and names the members that gain its rights');
is($node->safe_psql('postgres', q{
    SELECT string_agg(rolname || ':' || rolcanlogin::int || rolsuper::int || rolcreaterole::int, ',' ORDER BY rolname)
      FROM pg_roles WHERE rolname LIKE 'mtcbind\_%'}),
   'mtcbind_admin:000,mtcbind_auditor:000,mtcbind_naf:000', 'the missing roles are created NOLOGIN');

# A second database of the same cluster uses the same roles.
$node->safe_psql('postgres', 'CREATE DATABASE naf2');
($ok, $err) = $install->('naf2');
ok($ok, 'a second database installs with the roles the first one made');
is($node->safe_psql('naf2', q{SELECT has_function_privilege('ops',
    'mtcbind.request_key(bytea, text, bytea, timestamptz, text, mtcbind.iccid, mtcbind.imei, mtcbind.imeisv, mtcbind.imsi, text, text)',
    'EXECUTE')}), 't', '... and a member of mtcbind_naf may request keys there too');

# DROP EXTENSION leaves the roles (they are the cluster's).
$node->safe_psql('naf2', 'DROP EXTENSION mtcbind');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_roles WHERE rolname LIKE 'mtcbind\_%'}),
   '3', 'DROP EXTENSION leaves the cluster-wide roles in place');

$node->stop;
done_testing();
