#!/bin/bash
# Runs the GPU tests, the GPU benchmark and a short compute-sanitizer pass on the device machine.
# Expects the binaries and libhwy in .device-carry/ (see Kernels/README.md, "Running on the device").
# Writes everything under $OUT (or ./device-out).
set -u
OUT=${OUT:-./device-out}
mkdir -p "$OUT"
C=.device-carry
export LD_LIBRARY_PATH=$PWD/$C:$PWD/$C/lib:${LD_LIBRARY_PATH:-}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,memory.total --format=csv | tee "$OUT/gpu.txt"
nproc | sed 's/^/cpu threads: /' | tee -a "$OUT/gpu.txt"
echo "== tests"; date
timeout ${TEST_LIMIT:-300} $C/mfx_gpu_tests -d yes ${TEST_FILTER:+"$TEST_FILTER"} > "$OUT/tests.txt" 2>&1
echo "tests rc=$?" | tee -a "$OUT/tests.txt"
grep -E "\[errors\]|error|FAILED|failed|passed|with expansion|<= |skipped|^[0-9.]+ s:" "$OUT/tests.txt" | tail -70
echo "== bench"; date
timeout ${BENCH_LIMIT:-240} $C/mfx_gpu_bench --out "$OUT/bench.md" ${BENCH_ARGS:-} > "$OUT/bench.txt" 2>&1
echo "bench rc=$?"
cat "$OUT/bench.txt"
if [ -n "${SANITIZE:-}" ]; then
  echo "== memcheck"; date
  [ -n "${MEMCHECK:-}" ] && timeout 60 compute-sanitizer --tool memcheck $C/mfx_gpu_tests "[small],[device],[baseline]" > "$OUT/sanitizer.txt" 2>&1
  echo "memcheck rc=$?" | tee -a "$OUT/sanitizer.txt"; tail -5 "$OUT/sanitizer.txt"
  timeout 50 compute-sanitizer --tool racecheck $C/mfx_gpu_tests "[small]" >> "$OUT/sanitizer.txt" 2>&1
  echo "racecheck rc=$?" | tee -a "$OUT/sanitizer.txt"; tail -5 "$OUT/sanitizer.txt"
fi
date
