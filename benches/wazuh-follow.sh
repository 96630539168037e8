#!/usr/bin/env bash
# Wazuh alerts followed by `warroom watch --wazuh`: how long the watcher
# takes to commit N alerts.json lines already written (first start from the
# beginning), each committed with the file's checkpoint. KEYS distinct
# rule.id/agent.name pairs: with KEYS = N every alert opens its own incident
# (the most expensive case); with few keys most alerts add to an open
# detection.
#   usage: benches/wazuh-follow.sh [ALERTS] [KEYS]   (default 5000 5000)
# Figures go into BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5000}
keys=${2:-$n}
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

# Lines as Wazuh writes them: +0000 offsets, rule, agent, data.srcip,
# full_log, a unique id. Level 10 (P2 by default: opens an incident).
awk -v n="$n" -v keys="$keys" 'BEGIN {
  t0 = 1795946400
  for (i = 0; i < n; i++) {
    k = i % keys; s = t0 + i
    ts = strftime("%Y-%m-%dT%H:%M:%S", s, 1)
    ip = sprintf("203.0.%d.%d", int(i / 250) % 250, i % 250 + 1)
    printf "{\"timestamp\":\"%s.000+0000\",\"rule\":{\"level\":10,\"description\":\"sshd: brute force trying to get access to the system.\",\"id\":\"%d\",\"groups\":[\"syslog\",\"sshd\"]},\"agent\":{\"id\":\"%03d\",\"name\":\"web-%d\"},\"manager\":{\"name\":\"wazuh-manager\"},\"id\":\"%d.%d\",\"full_log\":\"%s web-%d sshd[2211]: Failed password for invalid user admin from %s port 51122 ssh2\",\"decoder\":{\"name\":\"sshd\"},\"data\":{\"srcip\":\"%s\",\"srcuser\":\"admin\"},\"location\":\"/var/log/auth.log\"}\n", ts, 5700 + k % 50, k % 1000, k, s, i, ts, k, ip, ip
  }
}' > "$work/alerts.json"
echo "input: $n alerts, $keys keys, $(du -h "$work/alerts.json" | cut -f1)"

cargo build --release --quiet
bin=target/release/warroom
export WARROOM_DB="$work/bench.db" WARROOM_LOG="$work/bench.log" \
  WARROOM_CONFIG_DIR="$work/config" HOME="$work" USER=bench
received() {
  "$bin" ingest --stats --json 2>/dev/null |
    sed -n 's/^    "received": \([0-9]*\),*$/\1/p' | head -1
}
start=$(date +%s.%N)
"$bin" watch --from-beginning --poll-ms 50 --wazuh "$work/alerts.json" >/dev/null 2>&1 &
pid=$!
while [ "$(received)" != "$n" ]; do sleep 0.05; done
end=$(date +%s.%N)
kill -TERM "$pid"; wait "$pid" || true; pid=
incidents=$("$bin" incident list --json | grep -c '"id": "INC-' || true)
awk -v a="$start" -v b="$end" -v n="$n" -v inc="$incidents" 'BEGIN {
  printf "watch --wazuh: %d alerts committed in %.2f s: %.0f alerts/s (%d incidents)\n", n, b - a, n / (b - a), inc
}'
