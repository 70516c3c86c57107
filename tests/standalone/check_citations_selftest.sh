#!/usr/bin/env bash
# Proves check_citations.sh catches planted citations and leaves look-alikes alone: every "bad"
# line below must be reported, no "good" line may be.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/sim" "$tmp/docs" "$tmp/scripts"

bad=(
  '// Source: isa.md §1.2'
  '// (../shared/docs/pruning.md §5)'
  'See ecosystem.md.'
  '// the validator (issue 9)'
  '# Everything Issue 12 asks'
  'as discussed in issues #31'
  'the issue-10 studies'
  'data in /work/shared/data/tensor-core-hw'
  'read shared/docs first'
)
good=(
  'docs/isa-findings.md lists the probes'
  'docs/architecture.md and docs/ptx-facts.md'
  'NVIDIA/apex#1706 and pytorch/pytorch#103830'
  'lane 4g+q serves tile h (issued with selector h)'
  'color="#888"'
  'tissue 3 of the model'
  'see docs/ptx-isa.md'
  'the shared/ memory of the kernel'
)
for i in "${!bad[@]}"; do printf '%s\n' "${bad[$i]}" > "$tmp/sim/bad$i.hpp"; done
for i in "${!good[@]}"; do printf '%s\n' "${good[$i]}" > "$tmp/docs/good$i.md"; done

set +e
out=$(bash "$here/check_citations.sh" "$tmp")
rc=$?
set -e
fail=0
[[ $rc -eq 1 ]] || { echo "FAIL: exit $rc on planted citations, want 1"; fail=1; }
for i in "${!bad[@]}"; do
  grep -q "^sim/bad$i.hpp:1:" <<<"$out" || { echo "FAIL: not reported: ${bad[$i]}"; fail=1; }
done
for i in "${!good[@]}"; do
  if grep -q "^docs/good$i.md:" <<<"$out"; then echo "FAIL: false positive: ${good[$i]}"; fail=1; fi
done

# Cited doc sections must exist.
rm "$tmp"/sim/bad*.hpp
printf '# Facts\n\n## Metadata\n\n## Sparse datapath: what is not published\n' > "$tmp/docs/facts.md"
printf '%s\n' '// docs/facts.md §Metadata [I]); docs/facts.md §Sparse datapath. (facts.md §Metadata step 1)' \
  > "$tmp/sim/good_ref.hpp"
printf '%s\n' '// docs/facts.md §Nowhere' > "$tmp/sim/bad_section.hpp"
printf '%s\n' '// docs/missing.md §Metadata' > "$tmp/sim/bad_doc.hpp"
set +e
out=$(bash "$here/check_citations.sh" "$tmp")
rc=$?
set -e
[[ $rc -eq 1 ]] || { echo "FAIL: exit $rc on broken section citations, want 1"; fail=1; }
grep -q '^sim/bad_section.hpp:1: cites docs/facts.md §Nowhere' <<<"$out" || { echo "FAIL: missing section not reported"; fail=1; }
grep -q '^sim/bad_doc.hpp:1: cites docs/missing.md' <<<"$out" || { echo "FAIL: missing doc not reported"; fail=1; }
if grep -q '^sim/good_ref.hpp' <<<"$out"; then echo "FAIL: existing sections reported"; fail=1; fi

# Without the bad files the same tree is clean.
rm "$tmp"/sim/bad_*.hpp
bash "$here/check_citations.sh" "$tmp" >/dev/null || { echo "FAIL: look-alikes alone are reported"; fail=1; }
[[ $fail -eq 0 ]] && echo "check_citations: ${#bad[@]} planted citations and 2 broken section citations caught, ${#good[@]} look-alikes passed"
exit $fail
