# Every SQL and Python example in README.md and docs/*.md runs as written,
# in order, in a fresh database "naf" of a fresh cluster per file.  A block
# that shows an error says so in a comment "-- fails: <text>", and must
# fail with that text; any other error fails the test.  Consecutive SQL
# blocks share one psql session (a PREPARE in one, its EXECUTE in the next);
# a Python block runs with the libpq environment pointing at the cluster.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = $ENV{MTCBIND_DOCS_ROOT} // '.';
my @files = ("$root/README.md", sort glob("$root/docs/*.md"));

# The fenced blocks of a Markdown file: [language, text], in order.
sub blocks
{
    my ($path) = @_;
    my $text = slurp_file($path);
    my @found;
    while ($text =~ /^```(\w*)[ \t]*\n(.*?)^```[ \t]*$/msg)
    {
        push @found, [ $1, $2 ];
    }
    return @found;
}

my $nodes = 0;
for my $path (@files)
{
    my @runnable = grep { $_->[0] eq 'sql' || $_->[0] eq 'python' } blocks($path);
    next unless @runnable;
    (my $name = $path) =~ s{^\Q$root\E/}{};

    my $node = PostgreSQL::Test::Cluster->new('docs' . ++$nodes);
    $node->init;
    # as docs/security.md asks for its pg_stat_statements query
    $node->append_conf('postgresql.conf',
        "shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = all\n");
    $node->start;
    $node->safe_psql('postgres', 'CREATE DATABASE naf');
    my $creates = grep { $_->[1] =~ /CREATE EXTENSION mtcbind/ } @runnable;
    $node->safe_psql('naf', 'CREATE EXTENSION mtcbind') unless $creates;
    my ($host) = $node->connstr('naf') =~ /host=(\S+)/;

    # Runs a group of consecutive SQL blocks in one session.
    my @group;
    my $flush = sub {
        return unless @group;
        my $script = "\\set VERBOSITY verbose\n\\set ON_ERROR_STOP 1\n";
        my @expected;
        for my $b (@group)
        {
            if ($b->{text} =~ /^--\s*fails:\s*(.+?)\s*$/m)
            {
                push @expected, $1;
                $script .= "\\set ON_ERROR_STOP 0\n$b->{text}\n\\set ON_ERROR_STOP 1\n";
            }
            else
            {
                $script .= "$b->{text}\n";
            }
        }
        my ($stdout, $stderr) = ('', '');
        my $rc = $node->psql('naf', $script, stdout => \$stdout, stderr => \$stderr);
        my @errors = ($stderr =~ /^(?:psql:[^\n]*?)?ERROR:\s+(.*)$/mg);
        my @unexpected = grep { my $e = $_; !grep { index($e, $_) >= 0 } @expected } @errors;
        my @missing = grep { my $x = $_; !grep { index($_, $x) >= 0 } @errors } @expected;
        my $label = "$name: SQL from line $group[0]{line}";
        ok($rc == 0 && !@unexpected && !@missing, "$label runs as written")
          or diag("unexpected errors: @unexpected\nmissing errors: @missing\n$stderr");
        @group = ();
    };

    my $line = 1;
    my $source = slurp_file($path);
    for my $b (@runnable)
    {
        my $at = index($source, $b->[1]);
        my $lineno = 1 + (() = substr($source, 0, $at < 0 ? 0 : $at) =~ /\n/g);
        if ($b->[0] eq 'sql')
        {
            push @group, { text => $b->[1], line => $lineno };
            next;
        }
        $flush->();
        my $file = $node->basedir . "/example-$lineno.py";
        open(my $fh, '>', $file) or die "cannot write $file: $!";
        print $fh $b->[1];
        close $fh;
        local $ENV{PGHOST} = $host;
        local $ENV{PGPORT} = $node->port;
        my $out = `/usr/bin/python3 $file 2>&1`;
        ok($? == 0, "$name: Python from line $lineno runs as written") or diag($out);
    }
    $flush->();
    $node->stop;
}

ok($nodes > 0, 'found documentation with examples');
done_testing();
