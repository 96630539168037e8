#!/usr/bin/env bash
# Fuzz one target for a bounded time:  fuzz/run.sh TARGET SECONDS
#
# TARGET is a [[bin]] of fuzz/Cargo.toml (rules, condition, logline,
# sanitizer, template). Works on the stable toolchain: it builds the target
# with the coverage instrumentation cargo-fuzz would ask for (sancov, no
# address sanitizer: warroom is safe Rust) and runs it under libFuzzer
# (libfuzzer-sys, which compiles libFuzzer with the system C++ compiler).
# With a nightly toolchain and cargo-fuzz installed, `cargo fuzz run TARGET`
# runs the same targets.
#
# The corpus grows in fuzz/corpus/TARGET (not committed), seeded from
# fuzz/seeds/TARGET. A crash, timeout or out-of-memory input is written to
# fuzz/artifacts/TARGET/ and the script exits non-zero: turn it into a
# regression test in the main suite, then fix it.
#
# Environment: FUZZ_ARGS adds libFuzzer flags (e.g. -jobs=2 -workers=2).
set -euo pipefail
cd "$(dirname "$0")"
if [ $# -ne 2 ]; then
  echo "usage: fuzz/run.sh TARGET SECONDS   (targets: $(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v warroom-fuzz | tr '\n' ' '))" >&2
  exit 2
fi
target=$1
seconds=$2
host=$(rustc -vV | sed -n 's/^host: //p')
export RUSTFLAGS="-Cpasses=sancov-module \
 -Cllvm-args=-sanitizer-coverage-level=4 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
 -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares \
 --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
# --target keeps build scripts and proc macros uninstrumented.
cargo build --quiet --release --target "$host" --bin "$target"
mkdir -p "corpus/$target" "artifacts/$target" "seeds/$target"
# The project's shared real-world corpus seeds the parsers when it is there.
extra=()
case $target in
  rules) [ -d ../../shared/corpus/sigma-linux-builtin ] && extra+=(../../shared/corpus/sigma-linux-builtin) ;;
  logline) [ -d ../../shared/corpus/loghub ] && extra+=(../../shared/corpus/loghub) ;;
esac
exec "target/$host/release/$target" "corpus/$target" "seeds/$target" "${extra[@]}" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
  -artifact_prefix="artifacts/$target/" -print_final_stats=1 ${FUZZ_ARGS:-}
