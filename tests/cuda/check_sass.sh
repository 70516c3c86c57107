#!/usr/bin/env bash
# SASS check of the compiled CUDA backend: the sparse wrappers must compile to sparse tensor-core
# instructions (HMMA.SP / IMMA.SP) for every target architecture, not to an emulation, and the fp8
# rows must be native or lowered exactly where the simulator says. Exit 77
# (ctest: skipped) when no cuobjdump is available. The tiled GEMM kernels are checked one by one:
# HMMA.SP in each sparse kernel, HMMA and no .SP in each dense twin.
# Usage: check_sass.sh LIBRARY
set -euo pipefail
lib="$1"
tools="${TWOFOUR_CUDA_TOOLS:-$HOME/.cache/twofour/cuda-tools}/nvidia/cu13/bin"
export PATH="$PATH:/usr/local/cuda/bin:$tools"
if ! command -v cuobjdump >/dev/null 2>&1 || ! command -v nvdisasm >/dev/null 2>&1; then
  echo "SKIP: cuobjdump/nvdisasm not found (scripts/install-deps installs them from PyPI)"
  exit 77
fi
sass=$(cuobjdump -sass "$lib")
status=0
# Per architecture: the sparse tensor-core instructions, and how the fp8 rows (mma / mma.sp with
# e4m3 / e5m2) reach the tensor core. The simulator assumes (InstructionDatapath::lowering):
#   sm_80, sm_86   no fp8 (the rows trap: PTX needs sm_89)
#   sm_89          native QMMA / QMMA.SP, no fp8 -> fp16 unpacking
#   sm_90, sm_100  lowered: F2FP fp8 -> fp16 unpacking feeding HMMA, no QMMA
# A toolkit that emits otherwise fails this test: the simulator's fp8 model would be wrong there.
# sm_80 and sm_90 are the library's base targets; the others come with the instruction runner
# where nvcc supports them (cmake/TwofourCuda.cmake) and are reported "not built" otherwise.
count() { printf '%s\n' "$1" | grep -cE "$2" || true; }
for arch in sm_80 sm_86 sm_89 sm_90 sm_100; do
  section=$(printf '%s\n' "$sass" | awk -v a="$arch" '/arch = /{keep = ($3 == a)} keep')
  if [ -z "$section" ]; then
    if [ "$arch" = sm_80 ] || [ "$arch" = sm_90 ]; then
      echo "FAIL: $arch: no code in the library"
      status=1
    else
      echo "$arch: not built (nvcc lacks it, or TWOFOUR_CUDA_RUNNER_ARCHITECTURES leaves it out)"
    fi
    continue
  fi
  hmma=$(count "$section" 'HMMA\.SP')
  imma=$(count "$section" 'IMMA\.SP')
  qmma=$(count "$section" 'QMMA\.[0-9]')
  qmma_sp=$(count "$section" 'QMMA\.SP')
  f2fp=$(count "$section" 'F2FP\.F16\.E[45]M[32]')
  case "$arch" in
    sm_80 | sm_86) want=absent ;;
    sm_89) want=native ;;
    *) want=lowered ;;
  esac
  if [ $((qmma + qmma_sp)) -gt 0 ] && [ "$f2fp" -eq 0 ]; then
    fp8="native ($qmma QMMA, $qmma_sp QMMA.SP)"
    got=native
  elif [ $((qmma + qmma_sp)) -eq 0 ] && [ "$f2fp" -gt 0 ]; then
    fp8="lowered ($f2fp F2FP fp8->f16 unpacks feeding HMMA(.SP), no QMMA)"
    got=lowered
  elif [ $((qmma + qmma_sp + f2fp)) -eq 0 ]; then
    fp8="absent (no QMMA, no fp8 unpacking)"
    got=absent
  else
    fp8="mixed ($qmma QMMA, $qmma_sp QMMA.SP, $f2fp F2FP fp8->f16)"
    got=mixed
  fi
  echo "$arch: $hmma HMMA.SP, $imma IMMA.SP; fp8 mma: $fp8 (docs/isa-findings.md)"
  if [ "$hmma" -eq 0 ] || [ "$imma" -eq 0 ]; then
    echo "FAIL: $arch has no sparse tensor-core instruction"
    status=1
  fi
  if [ "$got" != "$want" ]; then
    echo "FAIL: $arch: fp8 mma is $got, the simulator assumes $want"
    status=1
  fi
  if [ "$want" = native ] && { [ "$qmma" -eq 0 ] || [ "$qmma_sp" -eq 0 ]; }; then
    echo "FAIL: $arch: expected both QMMA (dense) and QMMA.SP (sparse)"
    status=1
  fi
done

# The tiled GEMM (cuda/src/gemm_kernel.cuh): every sparse_gemm_kernel<Row> must run on HMMA.SP,
# and every dense_gemm_kernel<Row> (the dense twin) on plain HMMA with no .SP, for every arch.
gemm=$(printf '%s\n' "$sass" | awk '
  /arch = /     { arch = $3 }
  /Function : / { fn = $3; kind = ""; if (fn ~ /sparse_gemm_kernel/) kind = "sparse"; else if (fn ~ /dense_gemm_kernel/) kind = "dense"
                  if (kind != "") { key = arch " " kind " " fn; keys[key] = 1; sp[key] = 0; hm[key] = 0 } }
  kind != "" && /HMMA\.SP/          { sp[key]++ }
  kind != "" && /HMMA/ && !/HMMA\.SP/ { hm[key]++ }
  END { for (k in keys) print k, sp[k], hm[k] }' | sort)
for arch in sm_80 sm_90; do
  for kind in sparse dense; do
    if ! printf '%s\n' "$gemm" | grep -q "^$arch $kind "; then
      echo "FAIL: $arch has no ${kind}_gemm_kernel"
      status=1
    fi
  done
done
while read -r arch kind fn sp hm; do
  [ -n "$arch" ] || continue
  echo "$arch $kind $fn: $sp HMMA.SP, $hm HMMA (dense)"
  if [ "$kind" = sparse ] && [ "$sp" -eq 0 ]; then
    echo "FAIL: $arch sparse GEMM kernel $fn has no HMMA.SP"
    status=1
  fi
  if [ "$kind" = dense ] && { [ "$sp" -ne 0 ] || [ "$hm" -eq 0 ]; }; then
    echo "FAIL: $arch dense GEMM kernel $fn must use HMMA without .SP"
    status=1
  fi
done <<< "$gemm"
exit $status
