#!/bin/bash
# Runs on the device machine: the GPU training tests, the training throughput of each size, and
# default-model training runs (Kernels/Train, docs/MODELS.md). Expects in .device-carry/: the
# binaries mfx_gpu_tests and mfx_train_default (built with -DMFX_CUDA=ON), libhwy and libsndfile with
# its codec libraries (the device has neither), and data/ = ../shared/data/amp-capture/*.flac.
# Writes everything under $OUT (or ./device-out). Environment:
#   STEPS=tests,bench,train    what to run
#   TRAIN_RUNS="name:args;..." training runs started side by side on GPU 0 (and GPU 1 if present, alternating)
#   TRAIN_SECONDS=300          wall-clock limit of each training run
set -u
OUT=${OUT:-./device-out}
mkdir -p "$OUT"
C=.device-carry
export LD_LIBRARY_PATH=$PWD/$C:${LD_LIBRARY_PATH:-}
STEPS=${STEPS:-tests,bench,train}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$OUT/gpu.txt"
nproc | sed 's/^/cpu threads: /' | tee -a "$OUT/gpu.txt"
NGPU=$(nvidia-smi -L | wc -l)

if [[ $STEPS == *tests* ]]; then
  echo "== tests ${TEST_FILTER:-[train]}"; date
  timeout ${TEST_LIMIT:-240} $C/mfx_gpu_tests -d yes "${TEST_FILTER:-[train]}" > "$OUT/tests.txt" 2>&1
  echo "tests rc=$?" | tee -a "$OUT/tests.txt"
  grep -E "\[errors\]|\[train\]|FAILED|failed|passed|with expansion|<|skipped|^[0-9.]+ s:" "$OUT/tests.txt" | tail -80
fi

if [[ $STEPS == *bench* ]]; then
  echo "== training throughput (batch ${BENCH_BATCH:-64} x (8192 + 2048))"; date
  for s in "nano 8 1 8" "lite 12 2 8" "standard 16 2 16" "large 32 2 16"; do
    set -- $s
    MFX_BENCH_NO_VAL=1 timeout 60 $C/mfx_train_default --data $C/data --device cuda --bench ${BENCH_SECONDS:-5} \
      --d-model $2 --layers $3 --d-state $4 --batch ${BENCH_BATCH:-64} --segment 8192 --warmup 2048 2>&1 | sed "s/^/$1: /"
  done | tee "$OUT/train-bench.txt"
fi

if [[ $STEPS == *train* ]]; then
  echo "== training runs"; date
  IFS=';' read -ra RUNS <<< "${TRAIN_RUNS:-}"
  i=0
  for r in "${RUNS[@]}"; do
    name=${r%%:*}; args=${r#*:}
    gpu=$((i % NGPU))
    mkdir -p "$OUT/$name"
    CUDA_VISIBLE_DEVICES=$gpu timeout $(( ${TRAIN_SECONDS:-300} + 60 )) $C/mfx_train_default --data $C/data --device cuda \
      -o "$OUT/$name/model.safetensors" --checkpoint "$OUT/$name/train.ckpt" --max-seconds ${TRAIN_SECONDS:-300} \
      --hardware "$(nvidia-smi --query-gpu=name --format=csv,noheader -i $gpu | head -1) (gradients), $(nproc)-thread host CPU (validation)" \
      $args > "$OUT/$name/log.txt" 2>&1 &
    i=$((i + 1))
  done
  wait
  for r in "${RUNS[@]}"; do name=${r%%:*}; echo "-- $name: ${r#*:}"; grep -E "val ESR|done|error|rror" "$OUT/$name/log.txt" | tail -12; done
fi
date
