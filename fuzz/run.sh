#!/usr/bin/env bash
# Runs every cargo-fuzz target (or the ones named) for SECONDS each and prints a report:
#   fuzz/run.sh [SECONDS] [TARGET...]        default 60 s each, all targets
# Environment: FUZZ_JOBS (parallel workers per target, default 1), FUZZ_SANITIZER (default none:
# the code under test is safe Rust; set address to run under ASan), CARGO_TARGET_DIR.
# Stable Rust works: RUSTC_BOOTSTRAP=1 unlocks the nightly flags cargo-fuzz needs.
# Crashes are saved under fuzz/artifacts/<target>/; turn each into a regression test
# (tests/regressions.rs) before fixing it. Exit status: 1 if any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
export RUSTC_BOOTSTRAP=1
sanitizer=${FUZZ_SANITIZER:-none}
jobs=${FUZZ_JOBS:-1}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cargo fuzz build -O -s "$sanitizer" >/dev/null 2>&1 || cargo fuzz build -O -s "$sanitizer"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
# Seeds from testdata/ (fuzz/corpus is git-ignored; libFuzzer adds what it finds).
cargo run -q -p watch3232-testgen --example fuzz_seeds -- fuzz/corpus
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT
total_crashes=0
report=()
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  log="$logdir/$t.log"
  set +e
  parallel=()
  [ "$jobs" -gt 1 ] && parallel=(-jobs="$jobs" -workers="$jobs")
  cargo fuzz run -O -s "$sanitizer" "$t" "fuzz/corpus/$t" -- \
    -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -max_len=4096 \
    -print_final_stats=1 "${parallel[@]}" >"$log" 2>&1
  status=$?
  set -e
  # With -jobs > 1 each worker writes fuzz-<n>.log in the current directory.
  if [ "$jobs" -gt 1 ]; then cat fuzz-*.log >>"$log" 2>/dev/null || true; rm -f fuzz-*.log; fi
  execs=$(awk '/stat::number_of_executed_units:/ { s += $2 } END { print s + 0 }' "$log")
  rate=$(awk '/stat::average_exec_per_sec:/ { s += $2 } END { print s + 0 }' "$log")
  crashes=$(find "fuzz/artifacts/$t" -type f \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' \) | wc -l)
  if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; tail -30 "$log" >&2; fi
  corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
  total_crashes=$((total_crashes + crashes))
  line=$(printf '%-12s %14s execs %8s/s %6s corpus %3s crashes' "$t" "$execs" "$rate" "$corpus" "$crashes")
  echo "fuzz: $line"
  report+=("$line")
done
echo "fuzz report (${secs}s per target, sanitizer $sanitizer, $(rustc --version | cut -d' ' -f2)):"
printf '  %s\n' "${report[@]}"
echo "fuzz: ${#targets[@]} targets, $total_crashes crashes"
[ "$total_crashes" -eq 0 ]
