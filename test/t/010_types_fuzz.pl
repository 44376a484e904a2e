
# Fuzzes the text input (and binary receive) of the identifier types imei,
# imeisv, iccid and imsi against an independent Perl model of the rules in
# docs/types.md.
#
# For each type a few thousand inputs are made by mutating valid values
# (insertions, deletions, truncations, junk characters including multibyte
# UTF-8 and control characters, very long strings).  All of them go through
# one server session; every input must either parse to a value whose output
# parses back to the same value, or fail with SQLSTATE 22P02, and the model
# must agree on which, on the canonical digits and on the error detail.
# Random int8 values then go through COPY BINARY: each must be accepted or
# rejected with 22P03 as the model's decoder says.  Finally the server must
# still be up with no crashed backend.
#
# The seed is printed; set MTCBIND_FUZZ_SEED to replay a run.

use strict;
use warnings;
use utf8;

use Encode qw(encode decode);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $seed = $ENV{MTCBIND_FUZZ_SEED} // (time() ^ ($$ << 8));
srand($seed);
note "seed $seed (set MTCBIND_FUZZ_SEED=$seed to replay)";

my $PER_TYPE = 4000;	# mutated inputs per type
my $LONG_PER_TYPE = 12;	# very long inputs per type
my $BINARY_PER_TYPE = 300;	# int8 values for binary receive per type

my @TYPES = qw(imei imeisv iccid imsi);

# ---------------------------------------------------------------------------
# The model: the rules of docs/types.md, written without looking at the C.
# ---------------------------------------------------------------------------

# Luhn check digit of a digit string (the payload, without its check digit).
sub luhn
{
	my ($payload) = @_;
	my @d = reverse split //, $payload;
	my $sum = 0;
	for my $i (0 .. $#d)
	{
		my $v = $d[$i];
		if ($i % 2 == 0)
		{
			$v *= 2;
			$v = int($v / 10) + $v % 10;
		}
		$sum += $v;
	}
	return (10 - $sum % 10) % 10;
}

my %LABEL = (imei => 'IMEI', imeisv => 'IMEISV', iccid => 'ICCID', imsi => 'IMSI');

# How an error detail names a character: as it is, unless it would not
# show (Unicode categories control, format, separator, nonspacing or
# enclosing mark, from Perl's own Unicode tables); then as an escape.
sub char_name
{
	my ($ch) = @_;
	my $o = ord($ch);
	return $ch unless $ch =~ /[\p{Cc}\p{Cf}\p{Z}\p{Mn}\p{Me}]/ && $ch ne ' ';
	return sprintf('\\x%02X', $o) if $o < 0x80;
	return sprintf('\\u%04X', $o) if $o <= 0xFFFF;
	return sprintf('\\U%08X', $o);
}

sub length_error
{
	my ($type, $n, $expected) = @_;
	return sprintf('%s has %d %s; %s.', $LABEL{$type}, $n,
		$n == 1 ? 'digit' : 'digits', $expected);
}

# Returns ('ok', canonical digits) or ('error', expected detail) for a
# character string.
sub model_parse
{
	my ($type, $input) = @_;

	my ($lead) = $input =~ /^([ \t\n\r\x0B\f]*)/;
	my $s = substr($input, length $lead);
	$s =~ s/[ \t\n\r\x0B\f]+\z//;
	return ('error', 'Input is empty.') if $s eq '';

	my $offset = length($lead) + 1;    # position of $s's first character

	# The first character that is neither digit nor separator, unless a
	# hyphen comes before any digit.
	return ('error', "Hyphen at position $offset is not between digits.")
	  if substr($s, 0, 1) eq '-';
	my ($good) = $s =~ /^([0-9 -]*)/;
	if (length($good) < length($s))
	{
		my $ch = substr($s, length $good, 1);
		return ('error',
			sprintf("Non-digit character '%s' at position %d.",
				char_name($ch), $offset + length($good)));
	}
	if ($s =~ /([ -]+)\z/)
	{
		my $run_start = length($s) - length($1);
		my $hyphen = index($s, '-', $run_start);
		return ('error',
			sprintf('Hyphen at position %d is not between digits.',
				$offset + $hyphen));
	}

	(my $d = $s) =~ tr/0-9//cd;
	my $n = length $d;

	if ($type eq 'imei')
	{
		return ('error', length_error($type, $n, '14 or 15 were expected'))
		  unless $n == 14 || $n == 15;
		my $cd = luhn(substr($d, 0, 14));
		return ('ok', $d . $cd) if $n == 14;
		return ('error', sprintf('Check digit is %d; %d was expected.',
				substr($d, 14, 1), $cd))
		  if substr($d, 14, 1) != $cd;
		return ('ok', $d);
	}
	if ($type eq 'imeisv')
	{
		return ('error', length_error($type, $n, '16 were expected'))
		  unless $n == 16;
		return ('ok', $d);
	}
	if ($type eq 'iccid')
	{
		return ('error', length_error($type, $n, '18 to 20 were expected'))
		  unless $n >= 18 && $n <= 20;
		return ('error', 'ICCID must start with "89".')
		  unless $d =~ /^89/;
		my $cd = luhn(substr($d, 0, $n - 1));
		return ('error', sprintf('Check digit is %d; %d was expected.',
				substr($d, -1), $cd))
		  if substr($d, -1) != $cd;
		return ('ok', $d);
	}
	if ($type eq 'imsi')
	{
		return ('error', length_error($type, $n, '6 to 15 were expected'))
		  unless $n >= 6 && $n <= 15;
		return ('ok', $d);
	}
	die "unknown type $type";
}

# Canonical digits a stored int8 decodes to, or undef if it is no valid value.
sub model_decode
{
	my ($type, $v) = @_;
	return undef if $v < 0;
	if ($type eq 'imei')
	{
		return undef if $v >= 1_000_000_000_000_000;
		my $d = sprintf('%015d', $v);
		return luhn(substr($d, 0, 14)) == substr($d, 14) ? $d : undef;
	}
	if ($type eq 'imeisv')
	{
		return $v < 10_000_000_000_000_000 ? sprintf('%016d', $v) : undef;
	}
	# shifts and masks: integer arithmetic, exact beyond 2^53
	if ($type eq 'iccid')
	{
		my $len = 18 + ($v & 3);
		my $body = $v >> 2;
		return undef if $len > 20 || $body >= 1_000_000_000_000_000_000;
		my $all = '89' . sprintf('%018d', $body);
		return undef if substr($all, $len) =~ /[^0]/;
		my $d = substr($all, 0, $len);
		return luhn(substr($d, 0, -1)) == substr($d, -1) ? $d : undef;
	}
	if ($type eq 'imsi')
	{
		my $len = $v & 15;
		my $body = $v >> 4;
		return undef if $len < 6 || $len > 15 || $body >= 1_000_000_000_000_000;
		my $all = sprintf('%015d', $body);
		return undef if substr($all, $len) =~ /[^0]/;
		return substr($all, 0, $len);
	}
	die "unknown type $type";
}

# The int8 a canonical value is stored as (the documented encoding).
sub model_encode
{
	my ($type, $d) = @_;
	return 0 + $d if $type eq 'imei' || $type eq 'imeisv';
	if ($type eq 'iccid')
	{
		my $body = substr($d, 2);
		return (0 + ($body . '0' x (18 - length $body))) * 4 + length($d) - 18;
	}
	return (0 + ($d . '0' x (15 - length $d))) * 16 + length $d;
}

# ---------------------------------------------------------------------------
# Input generation.
# ---------------------------------------------------------------------------

sub random_digits
{
	my ($n) = @_;
	return join '', map { int(rand(10)) } 1 .. $n;
}

# A valid canonical value of the type.
sub random_valid
{
	my ($type) = @_;
	if ($type eq 'imei')
	{
		my $p = random_digits(14);
		return $p . luhn($p);
	}
	return random_digits(16) if $type eq 'imeisv';
	if ($type eq 'iccid')
	{
		my $p = '89' . random_digits(15 + int(rand(3)));
		return $p . luhn($p);
	}
	return random_digits(6 + int(rand(10)));
}

# Separators as people and labels write them.
sub decorate
{
	my ($d) = @_;
	my $r = rand();
	return $d if $r < 0.4;
	my $out = '';
	for my $i (0 .. length($d) - 1)
	{
		$out .= (' ', '-', '--', ' - ')[ int(rand(4)) ]
		  if $i > 0 && rand() < 0.2;
		$out .= substr($d, $i, 1);
	}
	$out = ' ' . $out if rand() < 0.1;
	$out .= "\n" if rand() < 0.1;
	return $out;
}

# Characters a mutation may insert: digits, separators, blanks, ASCII junk,
# control characters, multibyte UTF-8 (2, 3 and 4 bytes), Unicode digits.
my @JUNK = (
	(0 .. 9), ' ', '-', "\t", "\n", "\r", "\x0B", "\f", "\x01", "\x1F",
	"\x7F", 'a', 'F', 'f', 'x', 'O', 'l', '+', '.', ',', '/', '_', "'", '"',
	'\\', '|', '%', '*', '?', 'é', 'ß', "\x{00A0}", "\x{2013}", "\x{2212}",
	"\x{0661}", "\x{FF11}", "\x{20AC}", "\x{1D7D8}", "\x{1F4F1}", "\x{FEFF}",
	"\x{0085}", "\x{200B}", "\x{202E}", "\x{0301}", "\x{E0041}");

sub junk_char
{
	return $JUNK[ int(rand(@JUNK)) ] if rand() < 0.8;
	return chr(0x20 + int(rand(0x5F))) if rand() < 0.5;
	# any code point that is not NUL, a surrogate or a noncharacter (the
	# server takes noncharacters, but Perl's decoders turn them into U+FFFD
	# on the way back, which would fail the comparison, not the extension)
	my $cp;
	do { $cp = 1 + int(rand(0x2FFFF)) }
	  while ($cp >= 0xD800 && $cp <= 0xDFFF)
	  || ($cp >= 0xFDD0 && $cp <= 0xFDEF)
	  || ($cp & 0xFFFE) == 0xFFFE;
	return chr($cp);
}

# One random change to a character string.
sub mutate
{
	my ($s) = @_;
	my $len = length $s;
	my $pos = int(rand($len + 1));
	my $op = int(rand(9));

	if ($op <= 1)
	{
		substr($s, $pos, 0) = junk_char();
	}
	elsif ($op == 2 && $len > 0)
	{
		substr($s, int(rand($len)), 1) = '';
	}
	elsif ($op == 3)
	{
		$s = substr($s, 0, $pos);
	}
	elsif ($op == 4 && $len > 0)
	{
		substr($s, int(rand($len)), 1) = junk_char();
	}
	elsif ($op == 5 && $len > 0)
	{
		# change one digit: check digits must then fail
		my @dpos = grep { substr($s, $_, 1) =~ /[0-9]/ } 0 .. $len - 1;
		substr($s, $dpos[ int(rand(@dpos)) ], 1) = int(rand(10)) if @dpos;
	}
	elsif ($op == 6)
	{
		substr($s, $pos, 0) = random_digits(1 + int(rand(6)));
	}
	elsif ($op == 7)
	{
		$s = (' ', "\t", '-', ' -')[ int(rand(4)) ] . $s if rand() < 0.5;
		$s .= (' ', "\n", '-', '- ')[ int(rand(4)) ] if rand() < 0.5;
	}
	else
	{
		my $a = int(rand($len + 1));
		$s = substr($s, 0, $pos) . substr($s, $a) if rand() < 0.5;
		$s .= substr($s, $a) if rand() >= 0.5;
	}
	return $s;
}

# Very long inputs: digits only, digits with junk far in, blanks, separators.
sub long_input
{
	my $n = 1000 + int(rand(200_000));
	my $kind = int(rand(4));
	return random_digits($n) if $kind == 0;
	return random_digits($n) . junk_char() . random_digits(3) if $kind == 1;
	return (' ' x $n) . random_valid('imsi') . ("\t" x $n) if $kind == 2;
	return join('-', map { random_digits(1 + int(rand(3))) } 1 .. $n / 3);
}

my @cases;    # [type, character string]
for my $type (@TYPES)
{
	for (1 .. $PER_TYPE)
	{
		my $r = rand();
		my $s;
		if ($r < 0.15)
		{
			$s = decorate(random_valid($type));    # valid as it stands
		}
		elsif ($r < 0.25)
		{
			# a valid value of another type, or pure noise
			$s = rand() < 0.6
			  ? random_valid($TYPES[ int(rand(@TYPES)) ])
			  : join('', map { junk_char() } 1 .. int(rand(25)));
		}
		else
		{
			$s = decorate(random_valid($type));
			$s = mutate($s) for 1 .. 1 + int(rand(4));
		}
		push @cases, [ $type, $s ];
	}
	push @cases, [ $type, '' ], [ $type, " \t\n" ], [ $type, '-' ];
	push @cases, [ $type, long_input() ] for 1 .. $LONG_PER_TYPE;
}

# ---------------------------------------------------------------------------
# The server.
# ---------------------------------------------------------------------------

my $node = PostgreSQL::Test::Cluster->new('types_fuzz');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
# the inputs run to megabytes: keep them out of the log
$node->append_conf('postgresql.conf', "log_statement = none\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION mtcbind');

# Runs one input in its own subtransaction; never lets an error escape.
$node->safe_psql(
	'postgres', q{
CREATE TABLE fuzz (id int PRIMARY KEY, typ text NOT NULL, input text NOT NULL);
CREATE FUNCTION try_parse(typ text, input text,
						  OUT state text, OUT canon text, OUT roundtrip boolean,
						  OUT detail text)
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('SELECT v::text, v::text::mtcbind.%1$I OPERATOR(mtcbind.=) v
					FROM (SELECT $1::mtcbind.%1$I AS v) AS s', typ)
		INTO canon, roundtrip USING input;
	state := '00000';
EXCEPTION WHEN others THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, detail = PG_EXCEPTION_DETAIL;
END $$;
});

# Ships the inputs as hex of their UTF-8 bytes, so no quoting can go wrong.
my $sql = '';
for (my $i = 0; $i < @cases; $i += 500)
{
	my $last = $i + 499 < $#cases ? $i + 499 : $#cases;
	$sql .= "INSERT INTO fuzz VALUES\n"
	  . join(",\n",
		map {
			sprintf("(%d, '%s', convert_from(decode('%s', 'hex'), 'UTF8'))",
				$_, $cases[$_][0], unpack('H*', encode('UTF-8', $cases[$_][1])))
		} $i .. $last)
	  . ";\n";
}
$sql .= q{SELECT json_build_array(id, state, canon, roundtrip, detail)
		  FROM fuzz, LATERAL try_parse(typ, input) ORDER BY id;};
my $out = $node->safe_psql('postgres', $sql);

my $json = JSON::PP->new->utf8;
my %result;
for my $line (split /\n/, $out)
{
	my $r = $json->decode($line);
	$result{ $r->[0] } = $r;
}
is(scalar(keys %result), scalar(@cases), 'every input produced a result');

# Shows an input readably in a failure message.
sub show
{
	my ($s) = @_;
	$s = substr($s, 0, 60) . '...(' . length($s) . ' chars)' if length $s > 80;
	return JSON::PP->new->ascii->encode([$s]);
}

for my $type (@TYPES)
{
	my (@bad_state, @bad_roundtrip, @bad_validity, @bad_canon, @bad_detail);
	my ($n, $nvalid) = (0, 0);
	my %kinds;    # how many inputs failed for each kind of reason
	for my $id (grep { $cases[$_][0] eq $type } 0 .. $#cases)
	{
		my $input = $cases[$id][1];
		my (undef, $state, $canon, $roundtrip, $detail) = @{ $result{$id} // [] };
		my ($verdict, $expected) = model_parse($type, $input);
		# a message shows at most 40 characters of the input, and the detail
		# then ends by saying how long the input was
		$expected .= sprintf(' The input has %d characters; the message shows the first 40.',
			length $input)
		  if $verdict eq 'error' && length($input) > 40;
		$n++;
		$state //= 'missing';
		if ($state ne '00000' && $state ne '22P02')
		{
			push @bad_state, show($input) . " gave SQLSTATE $state";
			next;
		}
		my $valid = $state eq '00000';
		$nvalid++ if $valid;
		$kinds{ $valid ? 'valid' : ($detail // '') =~ s/^(\S+ \S+).*/$1/r }++;
		push @bad_roundtrip, show($input) . " -> $canon"
		  if $valid && !$roundtrip;
		if ($valid != ($verdict eq 'ok'))
		{
			push @bad_validity, show($input)
			  . ($valid ? " accepted as $canon" : " rejected: $detail")
			  . "; model: $verdict $expected";
		}
		elsif ($valid && $canon ne $expected)
		{
			push @bad_canon, show($input) . " -> $canon; model: $expected";
		}
		elsif (!$valid && ($detail // '') ne $expected)
		{
			push @bad_detail, show($input) . ': "' . ($detail // '') . "\"; model: \"$expected\"";
		}
	}
	note "$type: $n inputs: "
	  . join(', ', map { "$kinds{$_} $_" } sort { $kinds{$b} <=> $kinds{$a} } keys %kinds);
	for ([ 'only 00000 or 22P02', \@bad_state ],
		[ 'output parses back to the same value', \@bad_roundtrip ],
		[ 'valid exactly when the model says so', \@bad_validity ],
		[ 'canonical digits as the model computes', \@bad_canon ],
		[ 'error detail as the model words it', \@bad_detail ])
	{
		my ($what, $list) = @$_;
		ok(!@$list, "$type: $what") or diag join("\n", @$list[ 0 .. ($#$list < 9 ? $#$list : 9) ]);
	}
}

# ---------------------------------------------------------------------------
# Binary receive: random int8 values through COPY BINARY.
# ---------------------------------------------------------------------------

$node->safe_psql(
	'postgres', q{
CREATE TABLE wire (id int PRIMARY KEY, typ text NOT NULL, v bigint NOT NULL);
CREATE TABLE recv_imei (v mtcbind.imei);
CREATE TABLE recv_imeisv (v mtcbind.imeisv);
CREATE TABLE recv_iccid (v mtcbind.iccid);
CREATE TABLE recv_imsi (v mtcbind.imsi);
CREATE FUNCTION try_recv(id int, typ text, OUT state text, OUT canon text)
LANGUAGE plpgsql AS $$
DECLARE
	f text := current_setting('data_directory') || '/fuzz_wire.bin';
BEGIN
	EXECUTE format('COPY (SELECT v FROM wire WHERE id = %s) TO %L WITH (FORMAT binary)', id, f);
	EXECUTE format('DELETE FROM %I', 'recv_' || typ);
	BEGIN
		EXECUTE format('COPY %I FROM %L WITH (FORMAT binary)', 'recv_' || typ, f);
		EXECUTE format('SELECT v::text FROM %I', 'recv_' || typ) INTO canon;
		state := '00000';
	EXCEPTION WHEN others THEN
		state := SQLSTATE;
	END;
END $$;
});

my @wire;    # [type, value]
for my $type (@TYPES)
{
	for (1 .. $BINARY_PER_TYPE)
	{
		my $v = model_encode($type, random_valid($type));
		my $r = rand();
		if ($r < 0.3) { }    # valid as it is
		elsif ($r < 0.55) { $v += int(rand(41)) - 20 }
		elsif ($r < 0.8) { $v ^= 1 << int(rand(62)) }
		elsif ($r < 0.9) { $v = -1 - int(rand(1_000_000)) }
		else { $v = (int(rand(2**31)) << 31 | int(rand(2**31))) | (rand() < 0.5 ? 0 : 1 << 62) }
		push @wire, [ $type, $v ];
	}
}
$out = $node->safe_psql(
	'postgres',
	"INSERT INTO wire VALUES "
	  . join(",\n", map { "($_, '$wire[$_][0]', $wire[$_][1])" } 0 .. $#wire)
	  . ";\nSELECT id, state, coalesce(canon, '') FROM wire, LATERAL try_recv(id, typ) ORDER BY id;");
my (@bad_recv, $nvalid);
for my $line (split /\n/, $out)
{
	my ($id, $state, $canon) = split /\|/, $line, -1;
	my ($type, $v) = @{ $wire[$id] };
	my $expected = model_decode($type, $v);
	$nvalid++ if $state eq '00000';
	push @bad_recv, "$type $v: got $state $canon; model: " . ($expected // 'invalid')
	  unless (defined $expected && $state eq '00000' && $canon eq $expected)
	  || (!defined $expected && $state eq '22P03');
}
note scalar(@wire) . " binary values, " . ($nvalid // 0) . " accepted";
ok(!@bad_recv, 'binary receive accepts valid encodings and rejects others with 22P03')
  or diag join("\n", @bad_recv[ 0 .. ($#bad_recv < 9 ? $#bad_recv : 9) ]);

# ---------------------------------------------------------------------------
# The server survived.
# ---------------------------------------------------------------------------

is($node->safe_psql('postgres', 'SELECT 1'), '1', 'server still answers');
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|server process .* was terminated/,
	'no backend crashed');

$node->stop;
done_testing();
