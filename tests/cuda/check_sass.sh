#!/usr/bin/env bash
# SASS check of the compiled CUDA backend: the sparse wrappers must compile to sparse tensor-core
# instructions (HMMA.SP / IMMA.SP) for every target architecture, not to an emulation. Exit 77
# (ctest: skipped) when no cuobjdump is available.
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
for arch in sm_80 sm_90; do
  section=$(printf '%s\n' "$sass" | awk -v a="$arch" '/arch = /{keep = ($3 == a)} keep')
  hmma=$(printf '%s\n' "$section" | grep -c 'HMMA\.SP' || true)
  imma=$(printf '%s\n' "$section" | grep -c 'IMMA\.SP' || true)
  f2fp=$(printf '%s\n' "$section" | grep -c 'F2FP\.F16\.E[45]M[32]' || true)
  qmma=$(printf '%s\n' "$section" | grep -c 'QMMA' || true)
  echo "$arch: $hmma HMMA.SP, $imma IMMA.SP, $qmma QMMA, $f2fp F2FP fp8->f16 (docs/isa-findings.md)"
  if [ "$hmma" -eq 0 ] || [ "$imma" -eq 0 ]; then
    echo "FAIL: $arch has no sparse tensor-core instruction"
    status=1
  fi
done
exit $status
