#!/usr/bin/env bash
# Journal replay throughput: `warroom scan --journal-file` on a journal of
# N sshd entries (two hosts, sshd and sshd-session) against `warroom scan`
# of the same lines as a text file, in the same run; and journalctl's own
# export output of that journal with the fields warroom asks for, the floor
# of the journal path (warroom reads journals through journalctl), beside
# its JSON output of the same fields (what warroom read before).
#   usage: benches/journal-vs-text.sh [ENTRIES]   (default 200000)
#   needs: apt-get install systemd-journal-remote (and systemd for journalctl)
# Figures go into BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200000}
remote=/lib/systemd/systemd-journal-remote
[ -x "$remote" ] || remote=/usr/lib/systemd/systemd-journal-remote
[ -x "$remote" ] || { echo "needs systemd-journal-remote" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The same entries twice: journal export format, and the lines warroom
# makes of them (RFC 3339 UTC stamp, host, ident[pid], message). mawk's %d
# stops at 2^31, so microseconds are printed with %.0f.
awk -v n="$n" -v expf="$work/entries.export" -v txtf="$work/entries.log" 'BEGIN {
  t0 = 1764685860; split("sshd sshd-session", idents, " ")
  for (i = 0; i < n; i++) {
    host = (i % 2) ? "web2" : "web1"; ident = idents[(i % 7 == 0) ? 1 : 2]
    src = sprintf("203.0.%d.%d", int(i / 250) % 250, i % 250)
    msg = (i % 3) ? sprintf("Failed password for root from %s port %d ssh2", src, 30000 + i % 30000) \
                  : sprintf("Invalid user admin%d from %s port %d", i % 97, src, 30000 + i % 30000)
    us = (t0 + int(i / 10)) * 1000000 + (i % 10) * 100000; pid = 1000 + i % 60000
    printf "__REALTIME_TIMESTAMP=%.0f\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=%s\nSYSLOG_IDENTIFIER=%s\n_PID=%d\n_SOURCE_REALTIME_TIMESTAMP=%.0f\nMESSAGE=%s\n\n", us, 1000 + i, host, ident, pid, us, msg > expf
    s = t0 + int(i / 10)
    printf "%s.%06dZ %s %s[%d]: %s\n", strftime("%Y-%m-%dT%H:%M:%S", s, 1), (i % 10) * 100000, host, ident, pid, msg > txtf
  }
}'
# systemd-journal-remote archives a full file and starts another: read the
# directory.
mkdir "$work/journal"
"$remote" --output="$work/journal/fleet.journal" - < "$work/entries.export" >/dev/null 2>&1
echo "input: $n entries; journal $(du -sh "$work/journal" | cut -f1) in $(ls "$work/journal" | wc -l) file(s), text $(du -h "$work/entries.log" | cut -f1)"
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/warroom
export WARROOM_DB="$work/bench.db" WARROOM_LOG="$work/warroom.log" TZ=UTC

run() { # label, command...
  local label=$1; shift
  local t0 t1 s
  t0=$(date +%s.%N); "$@" > "$work/out" 2>&1; t1=$(date +%s.%N)
  s=$(echo "$t1 - $t0" | bc -l)
  printf '%-40s %6.2f s = %8.0f entries/s\n' "$label" "$s" "$(echo "$n / $s" | bc -l)"
  echo "$s"  > "$work/last"
}
fields=--output-fields=_SOURCE_REALTIME_TIMESTAMP,_HOSTNAME,SYSLOG_IDENTIFIER,_COMM,SYSLOG_PID,_PID,MESSAGE
run "journalctl --output=json (fields)" journalctl --directory="$work/journal" --output=json --all --no-pager "$fields"
run "journalctl --output=export (floor)" journalctl --directory="$work/journal" --output=export --all --no-pager "$fields"
floor=$(cat "$work/last")
run "warroom scan (text file)" "$bin" scan "$work/entries.log"
text=$(cat "$work/last"); head -1 "$work/out"
files=(); for f in "$work"/journal/*.journal; do files+=(--journal-file "$f"); done
run "warroom scan --journal-file" "$bin" scan "${files[@]}"
journal=$(cat "$work/last"); head -1 "$work/out"
printf 'journal / text: %.2fx; journal / journalctl floor: %.2fx\n' \
  "$(echo "$journal / $text" | bc -l)" "$(echo "$journal / $floor" | bc -l)"
