# Deterministic pseudo-text for the perl and pipeline workloads of
# test/ov_programs.sh: `awk -v lines=N -f gen_text.awk`. Words are built from
# syllables with a small integer LCG (exact in awk's doubles), so every awk
# (mawk, gawk, busybox) prints the same text.
BEGIN {
  if (lines == "") lines = 20000
  nsyl = split("ka lo mi tra en va sol der pi un rho ta bel qu is or zen fa gri mo", syl, " ")
  nstop = split("the of and a to in is it that was for on are with as at be this from by", stop, " ")
  seed = 12345
  for (i = 1; i <= lines; i++) {
    nwords = 4 + next_rand() % 12
    line = ""
    for (w = 1; w <= nwords; w++) {
      r = next_rand() % 100
      if (r < 30) {
        word = stop[1 + next_rand() % nstop]
      } else {
        len = 1 + next_rand() % 3
        word = ""
        for (s = 0; s < len; s++) word = word syl[1 + next_rand() % nsyl]
        if (r >= 95) word = toupper(substr(word, 1, 1)) substr(word, 2)
      }
      line = (w == 1) ? word : line " " word
    }
    r = next_rand() % 10
    if (r == 0) line = line ", " (next_rand() % 1000) " units"
    if (r == 1) line = line " <" next_rand() % 97 "@host" next_rand() % 7 ".example>"
    print line "."
  }
}
function next_rand() {
  seed = (seed * 75 + 74) % 65537
  return seed
}
