#!/usr/bin/env bash
# Throughput and peak memory of `twofour check` and magnitude `twofour prune` on a generated bf16
# checkpoint (benchmarks/make_checkpoint.py, default 2 GB), against reading the same bytes with
# `cat > /dev/null`, all in one run. Each command runs under GNU time for its peak resident set.
# Usage: benchmarks/checkpoint_bench.sh [TWOFOUR_BINARY] [SIZE_BYTES] [WORK_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tool="${1:-$here/../build/release/twofour}"
size="${2:-2147483648}"
work="${3:-$(mktemp -d /tmp/twofour-ckbench-XXXXXX)}"
trap 'rm -rf "$work"' EXIT
model="$work/model"
python3 "$here/make_checkpoint.py" "$model" "$size"
bytes=$(du -cb "$model"/*.safetensors | tail -1 | cut -f1)
largest=$(python3 -c "import json,sys; h=json.load(open(sys.argv[1])); print(max(1, *(2*__import__('math').prod(v['shape']) for f in set(h['weight_map'].values()) for k,v in json.loads(open(sys.argv[2]+'/'+f,'rb').read()[8:8+int.from_bytes(open(sys.argv[2]+'/'+f,'rb').read(8),'little')]).items() if k!='__metadata__')))" "$model/model.safetensors.index.json" "$model")

measure() {  # label, command...: prints seconds, GB/s and peak RSS
  local label="$1"; shift
  local t0 t1 rss
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/rss" "$@" >/dev/null 2>"$work/err" || true
  t1=$(date +%s.%N)
  rss=$(tail -1 "$work/rss")
  python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); b=int(sys.argv[3]); print(f'{sys.argv[4]:<28} {s:8.2f} s {b/s/1e9:7.2f} GB/s   peak RSS {int(sys.argv[5])/1024:8.1f} MB')" "$t0" "$t1" "$bytes" "$label" "$rss"
}

echo "checkpoint: $bytes bytes of bf16 in 3 shards; largest tensor $((largest / 1048576)) MB; $(nproc) cores"
measure "cat > /dev/null" sh -c "cat '$model'/*.safetensors > /dev/null"
measure "twofour check" "$tool" check "$model"
measure "cat > /dev/null (again)" sh -c "cat '$model'/*.safetensors > /dev/null"
measure "twofour prune (magnitude)" "$tool" prune "$model" "$work/pruned"
measure "twofour check (pruned)" "$tool" check "$model/../pruned"
echo "memory goal: peak <= 2 x largest tensor + 100 MB = $(( (2 * largest + 104857600) / 1048576 )) MB"
