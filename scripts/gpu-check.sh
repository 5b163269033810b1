#!/usr/bin/env bash
# The GPU check of the PTX backend, in one command, from prebuilt binaries: runs on a
# machine with an NVIDIA GPU and its driver but no Rust toolchain, and writes one results
# file.
#
#   here:        cargo build --release -p tilus-cli          (the `cuda` feature is default)
#   GPU machine: scripts/gpu-check.sh [path/to/tilus] [results-file]
#
# It prints the device, runs every library kernel on CUDA against the tile interpreter
# (`tilus selftest --backend cuda`), one verified GEMM, and the benchmark suite
# (`tilus bench gemm --backend cuda --suite`: K=4096, N=12288, M in {1, 16, 4096}, every
# width from 2 to 8 bits and f16, with the measured copy bandwidth and cuBLAS f16 in the
# same run). Every step runs even when an earlier one fails; the exit status is the first
# failure's.
set -uo pipefail
TILUS="${1:-$(dirname "$0")/../target/release/tilus}"
OUT="${2:-gpu-check-results.txt}"
status=0
step() {
  echo "== $*"
  "$@"
  local rc=$?
  echo "== exit $rc: $*"
  if [ "$rc" -ne 0 ] && [ "$status" -eq 0 ]; then status=$rc; fi
}
exec > >(tee "$OUT") 2>&1
{
  echo "# tilus GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
  else
    echo "nvidia-smi not found"
  fi
  step "$TILUS" --version
  step "$TILUS" selftest --backend cuda
  step "$TILUS" gemm --backend cuda --m 16 --k 4096 --n 12288 --wtype u4
  step "$TILUS" gemm --backend cuda --m 4096 --k 4096 --n 4096 --wtype u4 --kernel mma
  step "$TILUS" bench gemm --backend cuda --suite --warmup 5 --repeats 20
  echo "# done: exit $status"
}
exit "$status"
