#!/bin/bash
# Runs on the device machine: the GPU training tests, the training throughput of each size, and
# default-model training runs (Kernels/Train, docs/MODELS.md). Expects in .device-carry/: the
# binaries mfx_gpu_tests and mfx_train_default (built with -DMFX_CUDA=ON, stripped), libhwy,
# libkissfft-float and libsndfile with its codec libraries (the device has none of them; `ldd` lists
# them), libsamplerate and mambafx for the multi-GPU step, and data/ = ../shared/data/amp-capture/*.flac.
# Writes at most 8 files under $OUT (or ./device-out): training runs work in /tmp/train/NAME (kept
# there for a later call on the same machine to --resume) and come back as train-logs.txt and
# models.tar (each run's best model and checkpoint). Environment:
#   STEPS=tests,bench,train,multigpu    what to run (multigpu: needs mambafx and libsamplerate too)
#   TRAIN_RUNS="name:args;..." training runs started side by side on GPU 0 (and GPU 1 if present, alternating)
#   TRAIN_SECONDS=300          wall-clock limit of each training run
# The device tool carries at most 64 MiB: with the data (37 MB) the binaries fit only compressed, as
# .device-carry/bins.tar.xz (`tar cJf bins.tar.xz mfx_* mambafx lib` inside .device-carry), unpacked here.
set -u
OUT=${OUT:-./device-out}
mkdir -p "$OUT"
C=.device-carry
[ -f $C/bins.tar.xz ] && tar xJf $C/bins.tar.xz -C $C
export LD_LIBRARY_PATH=$PWD/$C:$PWD/$C/lib:${LD_LIBRARY_PATH:-}
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
  for s in "nano 8 4 4" "lite 8 6 4" "standard 8 12 4" "large 8 16 8"; do   # Source/Train/Sizes.h
    set -- $s
    MFX_TRAIN_PROFILE=1 MFX_BENCH_NO_VAL=1 timeout 60 $C/mfx_train_default --data $C/data --device cuda --bench ${BENCH_SECONDS:-5} \
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
    W=/tmp/train/$name
    mkdir -p "$W"
    CUDA_VISIBLE_DEVICES=$gpu timeout $(( ${TRAIN_SECONDS:-300} + 60 )) $C/mfx_train_default --data $C/data --device cuda \
      -o "$W/model.safetensors" --checkpoint "$W/train.ckpt" --max-seconds ${TRAIN_SECONDS:-300} \
      --hardware "$(nvidia-smi --query-gpu=name --format=csv,noheader -i $gpu | head -1) (gradients), host CPU (validation)" \
      $args >> "$W/log.txt" 2>&1 &
    i=$((i + 1))
  done
  wait
  i=0
  for r in "${RUNS[@]}"; do
    name=${r%%:*}
    echo "-- $name (GPU $((i % NGPU))): ${r#*:}"; i=$((i + 1))
    grep -E "val ESR|done|rror|gradients on" "/tmp/train/$name/log.txt" | tail -8
  done | tee "$OUT/train-summary.txt"
  for r in "${RUNS[@]}"; do name=${r%%:*}; echo "==== $name: ${r#*:}"; cat "/tmp/train/$name/log.txt"; done > "$OUT/train-logs.txt"
  (cd /tmp/train && tar cf "$OUT/models.tar" */model.safetensors */train.ckpt 2>/dev/null)
fi

if [[ $STEPS == *multigpu* ]]; then
  echo "== multi-GPU render ($NGPU GPUs)"; date
  M=/tmp/mg; rm -rf $M; mkdir -p $M/in/sub
  $C/mambafx capture-signal -o $M/src.wav > /dev/null 2>&1
  for k in 1 2 3 4 5 6 7 8; do cp $M/src.wav $M/in/f$k.wav; done; mv $M/in/f7.wav $M/in/f8.wav $M/in/sub/
  { /usr/bin/time -f "%e s wall" $C/mambafx render -m Resources/Models/default.safetensors --devices all --out-dir $M/all $M/in 2>&1
    /usr/bin/time -f "%e s wall" $C/mambafx render -m Resources/Models/default.safetensors --device cuda:0 --out-dir $M/one $M/in 2>&1
    for k in 0 1; do $C/mambafx render -m Resources/Models/default.safetensors --device cuda:0 --shard $k/2 --out-dir $M/shard $M/in 2>&1; done
    echo "outputs: $(find $M/all -name '*.wav' | wc -l) with --devices all, $(find $M/one -name '*.wav' | wc -l) on cuda:0, $(find $M/shard -name '*.wav' | wc -l) from two shards"
    (cd $M/one && for f in $(find . -name '*.wav'); do cmp -s $f ../all/$f && cmp -s $f ../shard/$f && echo "same: $f" || echo "DIFFERENT: $f"; done)
  } 2>&1 | grep -v "^\s*$" | tail -40 | tee "$OUT/multigpu.txt"
fi

date
