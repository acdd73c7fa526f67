#!/bin/bash
# Runs on the device machine: the render kernels' shape variants (1 h mono, reference size) and an
# Nsight Compute profile of one layer's kernels A and C (layer 1 of a 1-minute render), for finding
# where the render time goes (Kernels/README.md). Expects mfx_gpu_bench and libhwy in .device-carry/.
# Writes variants.txt, ncu.txt (details page) and sass.csv.gz (per-instruction source page) to $OUT.
set -u
OUT=${OUT:-./device-out}
mkdir -p "$OUT"
C=.device-carry
export LD_LIBRARY_PATH=$PWD/$C:${LD_LIBRARY_PATH:-}
echo "== variants"; date
timeout ${VARIANTS_LIMIT:-80} $C/mfx_gpu_bench --variants 2>&1 | tee "$OUT/variants.txt"
echo "== ncu"; date
timeout ${NCU_LIMIT:-120} ncu --clock-control none --set full -k regex:"localScanKernel|finishKernel" --launch-skip 2 \
  --launch-count 2 -f -o /tmp/prof $C/mfx_gpu_bench --once 60 > /tmp/ncu-run.txt 2>&1
echo "ncu rc=$?"; tail -3 /tmp/ncu-run.txt
ncu -i /tmp/prof.ncu-rep --page details > "$OUT/ncu.txt" 2>&1
ncu -i /tmp/prof.ncu-rep --page source --print-source sass --csv 2>&1 | gzip > "$OUT/sass.csv.gz"
grep -E "Duration|Registers|Achieved Occupancy|Theoretical Occupancy|Issue Slots Busy|Stall|Compute \(SM\) Throughput|Block Limit" "$OUT/ncu.txt" | head -60
date
