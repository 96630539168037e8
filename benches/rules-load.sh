#!/usr/bin/env bash
# Rule-file load time: `warroom rules check` on generated rule files of N
# rules (one event, N uniquely named rules counting it), split into files of
# at most 100,000 rules (a rule file is read up to 16 MiB).
#   usage: benches/rules-load.sh [N ...]     (default: 20000 450000)
#   WARROOM_BIN=path/to/warroom to time another build (e.g. an older one)
# Prints wall time and peak RSS per N (GNU time). Figures go into BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${WARROOM_BIN:-}" ]; then
  cargo build --release --quiet
fi
bin=${WARROOM_BIN:-${CARGO_TARGET_DIR:-target}/release/warroom}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for n in "${@:-20000 450000}"; do
  for n in $n; do
    rm -f "$work"/rules-*.yml
    files=()
    per=100000
    i=0; f=0
    while [ "$i" -lt "$n" ]; do
      end=$(( i + per < n ? i + per : n ))
      out="$work/rules-$f.yml"
      {
        [ "$f" -eq 0 ] && printf "events:\n  fail:\n    match: 'sshd\\\\[\\\\d+\\\\]: Failed password for (?P<user>\\\\S+) from (?P<src>\\\\S+)'\n"
        printf "rules:\n"
        seq "$i" $(( end - 1 )) | awk '{ printf "  - rule: r%d\n    condition: fail > 5 in 1 minute\n", $1 }'
      } > "$out"
      files+=("$out")
      i=$end; f=$(( f + 1 ))
    done
    /usr/bin/time -f "$n rules: %e s wall, %M KB peak RSS" "$bin" rules check --json "${files[@]}" > /dev/null
  done
done
