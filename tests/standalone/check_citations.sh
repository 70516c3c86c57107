#!/usr/bin/env bash
# The repository stands alone: no source, test, script or doc cites notes kept outside it (the
# team's working notes, a shared/ folder beside the checkout) or a private issue tracker ("issue 9").
# Facts go into docs/ with their primary sources; public trackers are cited as owner/repo#N.
# Usage: check_citations.sh ROOT. Exit 0 when clean; 1 with every offending file:line listed.
set -euo pipefail
root=${1:?usage: check_citations.sh ROOT}
cd "$root"

# Notes outside the repository, by name (a hyphenated name such as isa-findings.md is a project
# doc, not one of them) or by folder; then "issue N" / "Issues #N" in any case of the first letter.
notes='(^|[^A-Za-z0-9_-])(isa|pruning|ecosystem)\.md\b'
shared='(\.\./|/work/|^|[[:space:]`(])shared/(docs|data)\b'
tracker='\b[Ii]ssues?[ -]#?[0-9]+\b'

paths=()
for p in sim lib cuda experiments tests scripts benchmarks fuzz docs cmake .ci README.md CMakeLists.txt CMakePresets.json; do
  [[ -e $p ]] && paths+=("$p")
done
[[ ${#paths[@]} -gt 0 ]] || { echo "check_citations: nothing to scan under $root" >&2; exit 1; }

# -I skips binary files (plots); this script and its self-test name the patterns themselves.
if hits=$(grep -rnIE "$notes|$shared|$tracker" --exclude='check_citations*.sh' -- "${paths[@]}"); then
  echo "Citations of material outside the repository (put the fact into docs/ with its primary source):"
  echo "$hits"
  exit 1
fi

# Every "NAME.md §Section" names a doc in docs/ and a heading of it: the heading starts with the
# cited words or the cited words start with the heading ("§Model step 1" cites "## Model").
broken=0
refs=$(grep -rnoIE '[A-Za-z0-9_-]+\.md §[A-Z][A-Za-z0-9 /+-]*' --exclude='check_citations*.sh' -- "${paths[@]}" || true)
while IFS= read -r ref; do
  [[ -n $ref ]] || continue
  where=${ref%%:*}:$(cut -d: -f2 <<<"$ref")
  cited=${ref#*:*:}
  doc=docs/${cited%% §*}
  section=${cited#* §}
  section=${section%"${section##*[! ]}"}
  if [[ ! -f $doc ]]; then
    echo "$where: cites $doc, which does not exist"; broken=1; continue
  fi
  found=0
  while IFS= read -r heading; do
    if [[ $heading == "$section"* || $section == "$heading"* ]]; then found=1; break; fi
  done < <(sed -n 's/^#\{1,6\} \(.*\)$/\1/p' "$doc")
  if [[ $found -eq 0 ]]; then echo "$where: cites $doc §$section, which has no such heading"; broken=1; fi
done <<<"$refs"
[[ $broken -eq 0 ]] || exit 1
echo "no citations of material outside the repository, every doc section cited exists (${#paths[@]} paths scanned)"
