#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 600), two at a time, seeded from
# the example kernels, the filetests and a few layouts; prints libFuzzer's last status line
# per target. Needs nightly Rust and cargo-fuzz (`cargo install cargo-fuzz`). Crashes land
# in fuzz/artifacts/<target>/. No sanitizer (-s none): the crates forbid unsafe code, so
# ASan would only slow the search. See docs/testing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
jobs=${FUZZ_JOBS:-2}
targets=(program_text layout_text dtype_codec lower)
for t in "${targets[@]}"; do mkdir -p "fuzz/corpus/$t"; done
for f in kernels/examples/*.tilus tests/filetests/*/*.tilus; do
  cp "$f" fuzz/corpus/program_text/
  cp "$f" fuzz/corpus/lower/
done
i=0
for l in 'local(2,1).spatial(4,8)' 'column_local(2,2).spatial(8,4).local(1,2)' \
         'reduce(spatial(4,8), dims=[1])' 'row_major(8,64).swizzle(3,3,3)' 'strided([4,4],[8,1])'; do
  printf '%s' "$l" > "fuzz/corpus/layout_text/seed$i"; i=$((i+1))
done
for d in 0 13 22 27 40 58; do printf "\\x$(printf %02x $d)0123456789abcdef" > "fuzz/corpus/dtype_codec/seed$d"; done
(cd fuzz && cargo +nightly fuzz build -O -s none)
mkdir -p fuzz/logs
run() {
  local t=$1
  (cd fuzz && cargo +nightly fuzz run -O -s none "$t" "corpus/$t" -- \
      -max_total_time="$secs" -max_len=16384 -timeout=20 -rss_limit_mb=4096 \
      -dict=tilus.dict -print_final_stats=1) > "fuzz/logs/$t.log" 2>&1
  echo "== $t: exit $?"; grep -E '^(#[0-9]+|stat::number_of_executed_units|stat::peak_rss_mb)' "fuzz/logs/$t.log" | tail -3
}
pids=()
for t in "${targets[@]}"; do
  run "$t" &
  pids+=($!)
  if (( ${#pids[@]} >= jobs )); then wait "${pids[0]}" || true; pids=("${pids[@]:1}"); fi
done
wait
