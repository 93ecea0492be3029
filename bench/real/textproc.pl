# bench/run: perl text processing: generate text (own LCG, deterministic),
# word frequencies, regex rewriting, split/join, sorting, sprintf, nested
# hashes.  Prints results that must not depend on the allocator.
# SPDX-License-Identifier: MIT
use strict;
use warnings;

my $lines = shift // 200000;
my $s = 12345;
sub rnd { $s = ($s * 1103515245 + 12345) % 2147483648; return $s % $_[0]; }
my @syl = qw(ka lo mi ne ru ta vo zi shi po an el ur ix om be da fu gi he);
my @text;
for my $i (1 .. $lines) {
  my @w;
  for (1 .. 4 + rnd(10)) {
    my $word = '';
    $word .= $syl[rnd(scalar @syl)] for 1 .. 1 + rnd(3);
    push @w, $word;
  }
  push @text, join(' ', @w) . (rnd(5) ? '.' : ', ' . rnd(100000) . ';');
}
my (%freq, %bigram, %bylen);
for my $line (@text) {
  my @w = split /[\s.,;]+/, $line;
  for my $k (0 .. $#w) {
    next unless length $w[$k];
    $freq{$w[$k]}++;
    $bigram{"$w[$k-1] $w[$k]"}++ if $k > 0;
    push @{ $bylen{length $w[$k]} }, $w[$k] if rnd(4) == 0;
  }
}
my @rew = map { (my $t = $_) =~ s/(ka|lo)(\w*)/\U$1\E<$2>/g; $t =~ s/(\d+)/sprintf("%08x", $1)/ge; $t } @text;
my $len = 0;
$len += length $_ for @rew;
my @top = (sort { $freq{$b} <=> $freq{$a} || $a cmp $b } keys %freq)[0 .. 9];
my @topb = (sort { $bigram{$b} <=> $bigram{$a} || $a cmp $b } keys %bigram)[0 .. 4];
print "lines $lines words ", scalar(keys %freq), " bigrams ", scalar(keys %bigram), " rewritten $len\n";
print "top $_ $freq{$_}\n" for @top;
print "bigram $_ $bigram{$_}\n" for @topb;
for my $l (sort { $a <=> $b } keys %bylen) {
  my %u = map { $_ => 1 } @{ $bylen{$l} };
  printf "len %d n %d uniq %d\n", $l, scalar @{ $bylen{$l} }, scalar keys %u;
}
my $joined = join '|', sort @rew[0 .. 999];
printf "joined %d %s\n", length $joined, substr($joined, 0, 40);
