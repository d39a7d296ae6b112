#!/usr/bin/env bash
# Bring up a real single-node Slurm cluster on this machine (Debian's slurm-wlm and munge), for
# the Slurm executor's tests and benchmark. Run as root. Idempotent: a cluster already up with
# the same configuration is left alone; a changed configuration restarts the daemons.
#
#   test/slurm/start-cluster.sh              controller + node, no accounting (sacct disabled)
#   test/slurm/start-cluster.sh --accounting adds slurmdbd on MariaDB, so sacct answers
#   test/slurm/start-cluster.sh --stop       stops every daemon this script started
#
# Needs: slurm-wlm munge (and for --accounting: slurmdbd mariadb-server).
set -euo pipefail

ACCOUNTING=0
case "${1:-}" in
  --accounting) ACCOUNTING=1 ;;
  --stop)
    for d in slurmd slurmctld slurmdbd; do pkill -x "$d" 2>/dev/null || true; done
    exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--accounting|--stop]" >&2; exit 2 ;;
esac

if [ "$(id -u)" != "0" ]; then echo "start-cluster: must run as root" >&2; exit 2; fi
for bin in slurmctld slurmd munged sbatch; do
  if ! command -v "$bin" >/dev/null && [ ! -x "/usr/sbin/$bin" ]; then
    echo "start-cluster: $bin missing; install the Debian packages: apt-get install slurm-wlm munge" >&2
    exit 2
  fi
done

HOST=$(hostname -s)
CPUS=$(nproc)
# Advertise part of the memory (from MemTotal, so the value is stable and re-runs change nothing).
MEM_MB=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.6 }' /proc/meminfo)
CONF=/etc/slurm/slurm.conf

wait_for() { # seconds, description, command...
  local seconds=$1 what=$2; shift 2
  for _ in $(seq 1 $((seconds * 5))); do timeout 10 "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "start-cluster: timed out waiting for $what" >&2
  return 1
}

# ---- munge ------------------------------------------------------------------------------------
mkdir -p /etc/munge /run/munge /var/log/munge /var/lib/munge
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge/munge.key /run/munge /var/log/munge /var/lib/munge
chmod 0400 /etc/munge/munge.key
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged --force
  wait_for 10 munged sh -c 'munge -n | unmunge'
fi

# ---- accounting database (optional) -----------------------------------------------------------
if [ "$ACCOUNTING" = 1 ]; then
  if ! command -v slurmdbd >/dev/null && [ ! -x /usr/sbin/slurmdbd ]; then
    echo "start-cluster: --accounting needs slurmdbd and mariadb-server (apt-get install slurmdbd mariadb-server)" >&2
    exit 2
  fi
  mkdir -p /run/mysqld /var/log/slurm && chown mysql:mysql /run/mysqld
  if ! mysqladmin ping >/dev/null 2>&1; then
    [ -d /var/lib/mysql/mysql ] || mysql_install_db --user=mysql --datadir=/var/lib/mysql >/dev/null
    # Detached with every standard stream closed: a shell left waiting on mysqld_safe with the
    # caller's stdout open would keep a caller that reads our output (execFileSync) waiting forever.
    (cd / && exec setsid nohup mysqld_safe --user=mysql) </dev/null >/dev/null 2>&1 &
    wait_for 60 mariadb mysqladmin ping
  fi
  mysql -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db; CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurmdbd-local'; GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';"
  DBD_CONF=/etc/slurm/slurmdbd.conf
  cat > "$DBD_CONF.new" <<EOF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
LogFile=/var/log/slurm/slurmdbd.log
PidFile=/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurmdbd-local
StorageLoc=slurm_acct_db
EOF
  mv "$DBD_CONF.new" "$DBD_CONF" && chmod 600 "$DBD_CONF"
  if ! pgrep -x slurmdbd >/dev/null; then
    /usr/sbin/slurmdbd </dev/null >/dev/null 2>&1
  fi
  wait_for 60 "slurmdbd to listen" bash -c 'echo > /dev/tcp/127.0.0.1/6819'
fi

# ---- slurm.conf -------------------------------------------------------------------------------
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
TMP_CONF=$(mktemp)
cat > "$TMP_CONF" <<EOF
# Written by split-et-impera's test/slurm/start-cluster.sh: one node, no cgroups.
ClusterName=local
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ReturnToService=2
JobRequeue=1
MaxArraySize=5001
MaxJobCount=20000
MinJobAge=300
KillWait=5
JobAcctGatherType=jobacct_gather/none
EOF
if [ "$ACCOUNTING" = 1 ]; then
  cat >> "$TMP_CONF" <<EOF
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
EOF
fi
cat >> "$TMP_CONF" <<EOF
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=main Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF

RESTART=0
if ! cmp -s "$TMP_CONF" "$CONF" 2>/dev/null; then
  mv "$TMP_CONF" "$CONF"
  chmod 644 "$CONF"
  RESTART=1
else
  rm -f "$TMP_CONF"
fi
if [ "$RESTART" = 1 ]; then
  for d in slurmd slurmctld; do pkill -x "$d" 2>/dev/null || true; done
  wait_for 20 "old daemons to stop" sh -c '! pgrep -x slurmctld && ! pgrep -x slurmd'
fi
pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld </dev/null >/dev/null 2>&1
wait_for 30 slurmctld scontrol ping
pgrep -x slurmd >/dev/null || /usr/sbin/slurmd </dev/null >/dev/null 2>&1

if [ "$ACCOUNTING" = 1 ]; then
  # slurmctld registers the cluster with slurmdbd itself; make sure it is there before jobs run.
  sacctmgr -i add cluster local >/dev/null 2>&1 || true
  wait_for 30 "accounting" sh -c '! sacct -n -X --starttime=now 2>&1 | grep -q disabled'
fi

# ---- the node idle and up ---------------------------------------------------------------------
# A node left drained or down by an earlier test is returned to service.
state=$(sinfo -h -n "$HOST" -o %T 2>/dev/null || true)
case "$state" in
  *drain*|*down*|*fail*) scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true ;;
esac
wait_for 60 "node $HOST to be idle" sh -c "sinfo -h -n $HOST -o %T | grep -Eq '^(idle|mixed|allocated)'"
echo "slurm cluster up: node $HOST, $CPUS CPUs, ${MEM_MB} MB, accounting $([ "$ACCOUNTING" = 1 ] && echo slurmdbd || echo disabled)"
