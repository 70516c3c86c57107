#!/usr/bin/env bash
# A real single-node Slurm cluster (munged + slurmctld + slurmd, on loopback only, no cgroups)
# runs a tiny study submitted by scripts/slurm/submit-study; the merged results.json and
# results.csv must equal those of the same study run in one process (the oracle). The daemons are
# started here and stopped on exit. Exits 77 (skip) when they cannot run here, with the reason
# from their logs. Usage: slurm_study.sh TWOFOUR REPO_ROOT
set -uo pipefail
twofour=$1
repo=$2
tiny=(--limit 300 --test-limit 200 --threads 1 --models mlp --no-plots)
deadline=$((SECONDS + 170))

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root to start slurmctld, slurmd and munged"
for tool in munged slurmctld slurmd sbatch squeue sinfo scontrol; do
  command -v "$tool" >/dev/null || skip "$tool not installed (Debian packages slurm-wlm and munge; scripts/install-deps)"
done
[ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || skip "Fashion-MNIST not installed"

work=$(mktemp -d /tmp/twofour-slurm.XXXXXX)
chmod 755 "$work"
host=$(hostname -s)
cleanup() {
  for pid_file in "$work/slurmd.pid" "$work/slurmctld.pid" "$work/munged.pid"; do
    [ -s "$pid_file" ] && kill "$(cat "$pid_file")" 2>/dev/null
  done
  sleep 1
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/state" "$work/spool" "$work/munge"
chmod 700 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/munge.socket" \
  --pid-file="$work/munged.pid" --log-file="$work/munged.log" --seed-file="$work/munge/munge.seed" \
  || skip "munged did not start: $(tail -n 3 "$work/munged.log" 2>/dev/null)"

cat > "$work/slurm.conf" <<CONF
ClusterName=twofourtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=46817
SlurmdPort=46818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf

slurmctld -i || skip "slurmctld did not start: $(tail -n 5 "$work/slurmctld.log" 2>/dev/null)"
slurmd || skip "slurmd did not start: $(tail -n 5 "$work/slurmd.log" 2>/dev/null)"
until sinfo -h -o %t 2>/dev/null | grep -qx idle; do
  if [ $SECONDS -gt $((deadline - 120)) ]; then
    skip "the node did not become idle; slurmd log: $(tail -n 5 "$work/slurmd.log" 2>/dev/null | tr '\n' ' ')"
  fi
  sleep 1
done
echo "slurm: $(sinfo -h -o '%P %D %t %c' | head -n 1) (version $(sinfo -V))"

start=$SECONDS
submitted=$("$repo/scripts/slurm/submit-study" "$work/planned" --cpus-per-task=1 --time=5 -- \
  "$twofour" study recipe "${tiny[@]}") || { echo "FAIL: submit-study"; exit 1; }
echo "$submitted"
merge_job=$(echo "$submitted" | sed -n 's/^merge: job \([0-9]*\).*/\1/p')
show_outputs() { for f in "$work/planned"/slurm-*.out; do echo "--- $(basename "$f")"; tail -n 5 "$f"; done; }
while squeue -h 2>/dev/null | grep -q .; do
  if [ $SECONDS -ge $deadline ] || squeue -h -o %r | grep -q DependencyNeverSatisfied; then
    echo "FAIL: a job failed or the deadline passed"; squeue; show_outputs; exit 1
  fi
  sleep 1
done
echo "slurm: plan run and merged in $((SECONDS - start)) s"
state=$(scontrol show job "$merge_job" 2>/dev/null | sed -n 's/.*JobState=\([A-Z]*\).*/\1/p')
show_outputs
[ -z "$state" ] || [ "$state" = COMPLETED ] || { echo "FAIL: merge job $merge_job is $state"; exit 1; }

"$twofour" study recipe "${tiny[@]}" --out "$work/single" 2>/dev/null >/dev/null || { echo "FAIL: single-process run"; exit 1; }
status=0
for f in recipe/results.json recipe/results.csv; do
  if cmp "$work/planned/$f" "$work/single/$f"; then echo "identical: $f"; else status=1; fi
done
[ $status -eq 0 ] && echo "PASS: Slurm array + merge equal the single-process run" || echo "FAIL: results differ"
exit $status
