#!/usr/bin/env bash
# Offline replay throughput: `warroom scan` with the default rule set against
# fail2ban-regex with its stock sshd filter, on the same file in the same run:
# loghub's OpenSSH_2k.log repeated to 1,000,000 lines.
#   usage: benches/scan-vs-fail2ban.sh [LINES]     (needs: apt-get install fail2ban)
# Figures go into BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-1000000}
src=../shared/corpus/loghub/OpenSSH_2k.log
[ -f "$src" ] || { echo "needs $src" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log="$work/ssh.log"
reps=$(( (lines + 1999) / 2000 ))
for _ in $(seq "$reps"); do cat "$src"; echo; done | grep -v '^$' | head -n "$lines" > "$log"
echo "input: $(wc -l < "$log") lines, $(du -h "$log" | cut -f1)"
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/warroom

t0=$(date +%s.%N)
taskset -c 0 "$bin" scan "$log" > "$work/warroom.out"
t1=$(date +%s.%N)
w=$(echo "$t1 - $t0" | bc -l)
head -1 "$work/warroom.out"
printf 'warroom scan (one core, wall): %.2f s = %.0f lines/s\n' "$w" "$(echo "$lines / $w" | bc -l)"

if command -v fail2ban-regex >/dev/null; then
  t0=$(date +%s.%N)
  taskset -c 0 fail2ban-regex "$log" /etc/fail2ban/filter.d/sshd.conf > "$work/f2b.out" 2>&1 || true
  t1=$(date +%s.%N)
  f=$(echo "$t1 - $t0" | bc -l)
  grep -E "^Lines:" "$work/f2b.out" || true
  printf 'fail2ban-regex sshd (one core, wall): %.2f s = %.0f lines/s\n' "$f" "$(echo "$lines / $f" | bc -l)"
  printf 'ratio: %.1fx\n' "$(echo "$f / $w" | bc -l)"
else
  echo "fail2ban-regex not installed (apt-get install fail2ban); no comparison"
fi
