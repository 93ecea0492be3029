#!/usr/bin/perl
# Text processing workload for test/ov_programs.sh (ov_prog_perl): reads the
# generated text on stdin and prints deterministic results. Exercises hashes
# (large and many small), regexes with captures and substitutions, sort,
# split/join, sprintf, pack/unpack, string growth, closures and references.
use strict;
use warnings;

my (%freq, %bigram, %by_len, %hosts, @lines, $units);
while (my $line = <STDIN>) {
  chomp $line;
  push @lines, $line;
  my @w = map { lc } ($line =~ /([A-Za-z]+)/g);
  $freq{$_}++ for @w;
  $bigram{"$w[$_] $w[$_ + 1]"}++ for 0 .. $#w - 1;
  push @{ $by_len{ length $_ } }, $_ for @w;
  $hosts{$2}{$1}++ while $line =~ /<(\d+)\@(host\d+)\.example>/g;
  $units += $1 while $line =~ /(\d+) units/g;
}

printf "lines %d, distinct words %d, distinct bigrams %d, units %d\n",
  scalar @lines, scalar keys %freq, scalar keys %bigram, $units // 0;

print "top words:\n";
my @top = (sort { $freq{$b} <=> $freq{$a} || $a cmp $b } keys %freq)[0 .. 24];
printf "  %-12s %7d\n", $_, $freq{$_} for @top;

print "top bigrams:\n";
my @tb = (sort { $bigram{$b} <=> $bigram{$a} || $a cmp $b } keys %bigram)[0 .. 14];
printf "  %-24s %6d\n", $_, $bigram{$_} for @tb;

print "words by length:\n";
for my $len (sort { $a <=> $b } keys %by_len) {
  my %u = map { $_ => 1 } @{ $by_len{$len} };
  printf "  %2d: %7d occurrences, %5d distinct, first %s\n", $len,
    scalar @{ $by_len{$len} }, scalar keys %u, (sort keys %u)[0];
}

print "hosts:\n";
for my $h (sort keys %hosts) {
  my $ids = $hosts{$h};
  my $total = 0;
  $total += $_ for values %$ids;
  printf "  %s: %d mentions, %d ids, max id %d\n", $h, $total, scalar keys %$ids,
    (sort { $b <=> $a } keys %$ids)[0];
}

# Substitutions that grow and shrink strings; a running checksum of the result.
my $sum = 0;
my $text = '';
for my $i (0 .. $#lines) {
  (my $l = $lines[$i]) =~ s/\b([a-z])([a-z]*)\b/\u$1\L$2/g;
  $l =~ s/(\d+)/sprintf("%08x", $1 * 2654435761 % 4294967296)/ge;
  $l =~ tr/aeiou/AEIOU/;
  $text .= $l if $i % 7 == 0;
  $sum = ($sum * 31 + unpack("%32C*", $l)) % 4294967291;
}
printf "rewritten checksum %u, kept text %d bytes\n", $sum, length $text;

# Pack/unpack round trip and a reverse index built from closures.
my @packed = map { pack("N n/a*", $_, $lines[$_]) } grep { $_ % 13 == 0 } 0 .. $#lines;
my $ok = 0;
for my $p (@packed) {
  my ($n, $s) = unpack("N n/a*", $p);
  $ok++ if $s eq $lines[$n];
}
printf "pack round trips %d of %d\n", $ok, scalar @packed;

my %index;
my $add = sub { my ($word, $ln) = @_; push @{ $index{$word} }, $ln };
for my $i (0 .. $#lines) {
  $add->(lc $_, $i) for ($lines[$i] =~ /([A-Za-z]{6,})/g);
}
my @longest = (sort { @{ $index{$b} } <=> @{ $index{$a} } || $a cmp $b } keys %index)[0 .. 9];
printf "  %-16s on %d lines, first %d, last %d\n", $_, scalar @{ $index{$_} },
  $index{$_}[0], $index{$_}[-1] for @longest;

# Many small hashes freed as we go (allocation churn).
my $churn = 0;
for my $round (1 .. 200) {
  my %h = map { ($_ * $round) % 997 => [$_, "v$_" x ($_ % 5)] } 1 .. 500;
  $churn += scalar keys %h;
  delete $h{$_} for grep { $_ % 2 } keys %h;
  $churn += scalar keys %h;
}
print "churn $churn\n";
