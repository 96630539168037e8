#!/usr/bin/env bash
# Flood catch-up: 200,000 sshd failure lines from 5,000 source addresses
# appended at once to a file `warroom watch` follows, timed until every
# effect is committed (the watcher's checkpoint reaches the end of the file:
# its detections, incidents and alerts are in the same transaction), then
# until it has stopped (the final report of evidence and timeline); against
# `warroom scan` of the same file and fail2ban's own server following it
# with a private sshd jail (polling backend, dummy action), same run.
# Prints the database and evidence store growth (when the flood is
# committed, and once its windows have expired), and the CPU time of scan
# and watch beside their wall time (on a machine shared with other work the
# wall time moves with the load; the CPU time much less).
#   usage: benches/flood.sh [LINES] [ADDRESSES]   (fail2ban: apt-get install fail2ban)
# FLOOD_KEEP_DB=PATH copies the watcher's database there after the run.
# Figures go into BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-200000}
addrs=${2:-5000}
work=$(mktemp -d)
f2b_pid=""
watch_pid=""
cleanup() {
  [ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null || true
  [ -n "$f2b_pid" ] && kill "$f2b_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
if [ -n "${WARROOM_BIN:-}" ]; then
  bin=$WARROOM_BIN
else
  cargo build --release --quiet
  bin=$(pwd)/${CARGO_TARGET_DIR:-target}/release/warroom
fi

# The flood, stamped over the last lines/1000 seconds (fail2ban ignores
# failures older than its findtime).
now=$(date +%s)
awk -v n="$lines" -v a="$addrs" -v now="$now" 'BEGIN {
  span = int(n / 1000);
  for (i = 0; i < n; i++) {
    t = now - span + int(i / 1000);
    k = i % a;
    printf "%s bastion-1 sshd[%d]: Failed password for root from 10.%d.%d.%d port %d ssh2\n",
      strftime("%b %e %H:%M:%S", t), 4000 + i % 97, int(k / 65536), int(k / 256) % 256, k % 256, 30000 + i % 20000;
  }
}' > "$work/flood.txt"
size=$(stat -c %s "$work/flood.txt")
echo "input: $lines lines from $addrs addresses, $size bytes"

export HOME="$work/home" USER=bench
mkdir -p "$HOME"

# scan of the same file (replay, nothing committed).
TIMEFORMAT='%U %S'
t0=$(date +%s.%N)
{ time "$bin" --db "$work/scan.db" scan "$work/flood.txt" > /dev/null 2> "$work/scan.err"; } 2> "$work/scan.time"
t1=$(date +%s.%N)
scan=$(echo "$t1 - $t0" | bc -l)
scan_cpu=$(awk '{ print $1 + $2 }' "$work/scan.time")
printf 'warroom scan: %.2f s (CPU %.2f s)\n' "$scan" "$scan_cpu"

# watch: follow an empty file, then append the whole flood at once.
mkdir -p "$work/w"
: > "$work/w/auth.log"
"$bin" --db "$work/w/db/w.db" watch "$work/w/auth.log" > "$work/watch.out" 2> "$work/watch.err" &
watch_pid=$!
for _ in $(seq 100); do
  [ -f "$work/w/db/w.db" ] && sqlite3 "$work/w/db/w.db" "SELECT count(*) FROM watch_checkpoints" 2>/dev/null | grep -q '^1$' && break
  sleep 0.1
done
before=$(du -sb "$work/w/db" | cut -f1)
t0=$(date +%s.%N)
cat "$work/flood.txt" >> "$work/w/auth.log"
until [ "$(sqlite3 "$work/w/db/w.db" "PRAGMA busy_timeout=5000; SELECT offset FROM watch_checkpoints" 2>/dev/null | tail -1)" = "$size" ]; do
  sleep 0.05
done
t1=$(date +%s.%N)
# CPU time (user + system) the watcher used until then.
watch_cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$watch_pid/stat")
kill -TERM "$watch_pid"
wait "$watch_pid" || true
watch_pid=""
t2=$(date +%s.%N)
watch=$(echo "$t1 - $t0" | bc -l)
stopped=$(echo "$t2 - $t0" | bc -l)
printf 'warroom watch: all effects committed %.2f s after the append (%.1fx scan); stopped with the final report at %.2f s\n' \
  "$watch" "$(echo "$watch / $scan" | bc -l)" "$stopped"
printf 'warroom watch: CPU %.2f s until committed (%.1fx scan'"'"'s CPU)\n' \
  "$watch_cpu" "$(echo "$watch_cpu / $scan_cpu" | bc -l)"
after=$(du -sb "$work/w/db" | cut -f1)
db=$(du -cb "$work/w/db"/w.db* | tail -1 | cut -f1)
printf 'growth: %.2f MB in all (database files %.2f MB: %s)\n' \
  "$(echo "($after - $before) / 1048576" | bc -l)" "$(echo "$db / 1048576" | bc -l)" \
  "$(cd "$work/w/db" && du -b w.db* | tr '\t\n' '= ' )"
# Where the database's bytes are: each table and index, and free pages.
sqlite3 "$work/w/db/w.db" "SELECT printf('  %-34s %8.2f MB', name, sum(pgsize) / 1048576.0)
    FROM dbstat GROUP BY name HAVING sum(pgsize) >= 65536 ORDER BY sum(pgsize) DESC;
  SELECT printf('  %-34s %8.2f MB', '(free pages)', freelist_count * page_size / 1048576.0)
    FROM pragma_freelist_count, pragma_page_size;"
if [ -n "${FLOOD_KEEP_DB:-}" ]; then cp "$work/w/db/w.db" "$FLOOD_KEEP_DB"; fi
sqlite3 "$work/w/db/w.db" "SELECT 'incidents', count(*) FROM incidents;
  SELECT 'detections', count(*) FROM detections;
  SELECT 'events', count(*) FROM events;
  SELECT 'evidence items', count(*) FROM evidence;
  SELECT 'alerts', count(*) FROM alerts;
  SELECT 'title: ' || title FROM incidents;" | tr '|' ' '

# Once the log has moved past the flood's windows (an armed "brute force
# that worked" and a user count per address, each kept while it can still
# count: 10 minutes, and 5 more for a lagging source): the watcher started
# again reads one unrelated line 16 minutes after the flood, drops them,
# and its stop gives their pages back. What the flood leaves for good.
"$bin" --db "$work/w/db/w.db" watch "$work/w/auth.log" > "$work/watch2.out" 2> "$work/watch2.err" &
watch_pid=$!
printf '%s bastion-1 systemd[1]: Started Daily apt download activities.\n' \
  "$(date -d "@$((now + 960))" '+%b %e %H:%M:%S')" >> "$work/w/auth.log"
size2=$(stat -c %s "$work/w/auth.log")
for _ in $(seq 600); do
  [ "$(sqlite3 "$work/w/db/w.db" "PRAGMA busy_timeout=5000; SELECT (SELECT offset FROM watch_checkpoints) = $size2
      AND (SELECT count(*) FROM watch_windows) = 0" 2>/dev/null | tail -1)" = 1 ] && break
  sleep 0.1
done
kill -TERM "$watch_pid"
wait "$watch_pid" || true
watch_pid=""
after=$(du -sb "$work/w/db" | cut -f1)
printf 'growth once the windows expired: %.2f MB (%s windows left)\n' \
  "$(echo "($after - $before) / 1048576" | bc -l)" \
  "$(sqlite3 "$work/w/db/w.db" "SELECT count(*) FROM watch_windows")"
sqlite3 "$work/w/db/w.db" "SELECT printf('  %-34s %8.2f MB', name, sum(pgsize) / 1048576.0)
    FROM dbstat GROUP BY name HAVING sum(pgsize) >= 65536 ORDER BY sum(pgsize) DESC;
  SELECT printf('  %-34s %8.2f MB', '(free pages)', freelist_count * page_size / 1048576.0)
    FROM pragma_freelist_count, pragma_page_size;"

# fail2ban's server following a copy of the same file.
if command -v fail2ban-server > /dev/null; then
  conf="$work/f2b"
  mkdir -p "$conf"
  cp -r /etc/fail2ban/filter.d /etc/fail2ban/action.d "$conf/"
  cp /etc/fail2ban/fail2ban.conf /etc/fail2ban/jail.conf /etc/fail2ban/paths-*.conf "$conf/"
  cat > "$conf/fail2ban.local" <<CONF
[Definition]
loglevel = INFO
logtarget = $work/f2b.log
socket = $work/f2b.sock
pidfile = $work/f2b.pid
dbfile = :memory:
CONF
  : > "$work/f2b-auth.log"
  cat > "$conf/jail.local" <<CONF
[DEFAULT]
backend = polling
banaction = dummy
banaction_allports = dummy
ignoreip =
[sshd]
enabled = true
backend = polling
logpath = $work/f2b-auth.log
maxretry = 10
findtime = 600
bantime = 3600
action = dummy
CONF
  fail2ban-server -f -x -c "$conf" -s "$work/f2b.sock" -p "$work/f2b.pid" > "$work/f2b.out" 2>&1 &
  f2b_pid=$!
  for _ in $(seq 100); do
    fail2ban-client -c "$conf" -s "$work/f2b.sock" status sshd > /dev/null 2>&1 && break
    sleep 0.2
  done
  t0=$(date +%s.%N)
  cat "$work/flood.txt" >> "$work/f2b-auth.log"
  # Done when it has logged a "Found" for every line.
  while [ "$(grep -c '\] Found ' "$work/f2b.log" || true)" -lt "$lines" ]; do
    sleep 0.5
    if [ "$(echo "$(date +%s.%N) - $t0 > 1800" | bc -l)" = 1 ]; then echo "fail2ban: gave up after 30 min"; break; fi
  done
  t1=$(date +%s.%N)
  f2b=$(echo "$t1 - $t0" | bc -l)
  printf 'fail2ban-server (sshd jail, polling): %d failures found in %.2f s; watch is %.1fx faster\n' \
    "$(grep -c '\] Found ' "$work/f2b.log" || true)" "$f2b" "$(echo "$f2b / $watch" | bc -l)"
  fail2ban-client -c "$conf" -s "$work/f2b.sock" stop > /dev/null 2>&1 || kill "$f2b_pid"
  wait "$f2b_pid" 2>/dev/null || true
  f2b_pid=""
else
  echo "fail2ban-server not installed (apt-get install fail2ban); no comparison"
fi
