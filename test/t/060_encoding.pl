# Text enters the KDF as UTF-8 (TS 33.220 B.2.1) whatever the database
# encoding; a text with no UTF-8 form is refused before anything is
# written, with an error that does not show its octets.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('encoding');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
    CREATE DATABASE latin ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
    CREATE DATABASE win ENCODING 'WIN1252' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
});
$node->safe_psql($_, 'CREATE EXTENSION mtcbind') for qw(latin win);

my $ks = '\\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';

# In a LATIN1 database, 'ä' is one octet; in S it must be the two octets of
# UTF-8.  The reference builds S from explicitly UTF-8-encoded parameters
# with mtcbind.kdf, so it does not use the conversion under test.
is($node->safe_psql('latin', qq{
    SELECT r.outcome || ' ' || (r.ks_local = mtcbind.kdf('$ks', 1,
               convert_to('bäse\@bsf.example.org', 'UTF8'), convert_to('89441000000000000018', 'UTF8'),
               convert_to('zähler-1', 'UTF8'), convert_to('app-ä', 'UTF8'), convert_to('', 'UTF8'),
               r.rand_x, r.rand_y))::text
      FROM mtcbind.request_key(mtcbind.naf_id('naf.example.org', '\\x0100000002'), 'bäse\@bsf.example.org',
               '$ks', now() + interval '1 day', 'zähler-1', '89441000000000000018',
               terminal_appli_id => 'app-ä') r}),
   'bound true', 'LATIN1 database: Ks_local is derived over the UTF-8 form of the texts');
is($node->safe_psql('latin', qq{
    SELECT mtcbind.ks_local('$ks', 'bäse\@bsf.example.org', '89441000000000000018', 'zähler-1', 'app-ä', '',
                            '\\x00112233445566778899aabbccddeeff', '\\xffeeddccbbaa99887766554433221100')
         = mtcbind.kdf('$ks', 1, convert_to('bäse\@bsf.example.org', 'UTF8'),
                       convert_to('89441000000000000018', 'UTF8'), convert_to('zähler-1', 'UTF8'),
                       convert_to('app-ä', 'UTF8'), ''::bytea,
                       '\\x00112233445566778899aabbccddeeff', '\\xffeeddccbbaa99887766554433221100')}),
   't', 'LATIN1 database: mtcbind.ks_local agrees');

# WIN1252 leaves 0x81 undefined: such a B-TID has no UTF-8 form.
my ($rc, $out, $err) = $node->psql('win', qq{
    SELECT outcome FROM mtcbind.request_key(mtcbind.naf_id('naf.example.org', '\\x0100000002'),
               'A' || convert_from('\\x81', 'WIN1252') || 'secret\@bsf.example.org',
               '$ks', now() + interval '1 day', 'meter-1', '89441000000000000018')},
    extra_params => ['-v', 'VERBOSITY=verbose']);
like($err, qr/22P05: b_tid cannot be converted to UTF-8/, 'an unconvertible b_tid is 22P05 (untranslatable_character), naming the argument');
unlike($err, qr/0x81|secret/, 'the error shows none of the B-TID');
is($node->safe_psql('win', 'SELECT count(*) FROM mtcbind.binding') . '/'
     . $node->safe_psql('win', 'SELECT count(*) FROM mtcbind.binding_event'),
   '0/0', 'nothing was written');
($rc, $out, $err) = $node->psql('win', qq{
    SELECT mtcbind.ks_local('$ks', 'b\@bsf', '89441000000000000018', 'm' || convert_from('\\x81', 'WIN1252'), '', '',
                            '\\x00112233445566778899aabbccddeeff', '\\xffeeddccbbaa99887766554433221100')},
    extra_params => ['-v', 'VERBOSITY=verbose']);
like($err, qr/22P05: terminal_id cannot be converted to UTF-8/, 'mtcbind.ks_local refuses it the same way');

# ASCII is the same octets in every encoding, so it needs no conversion:
# even MULE_INTERNAL, which PostgreSQL cannot convert to UTF-8, derives the
# same key as a UTF-8 database.
$node->safe_psql('postgres',
    q{CREATE DATABASE mule ENCODING 'MULE_INTERNAL' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0});
$node->safe_psql('mule', 'CREATE EXTENSION mtcbind');
my $ascii_call = q{SELECT mtcbind.ks_local(decode('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex'),
    'b@bsf.example.org', '89441000000000000018', 'meter-1', 'app', 'A0000000871002',
    decode('00112233445566778899aabbccddeeff', 'hex'), decode('ffeeddccbbaa99887766554433221100', 'hex'))};
$node->safe_psql('postgres', 'CREATE EXTENSION mtcbind');
is($node->safe_psql('mule', $ascii_call), $node->safe_psql('postgres', $ascii_call),
   'MULE_INTERNAL database: ASCII texts derive the same key as in UTF-8');

$node->stop;
done_testing();
