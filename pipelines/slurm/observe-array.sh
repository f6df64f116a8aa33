#!/bin/bash
# policylist: live MTA-STS observation as a Slurm job array, one shard per array task, then a merge step.
#
#   pipelines/slurm/observe-array.sh submit      # submits the array (N tasks) and a merge job after it
#
# or by hand:
#   sbatch --array=1-8 pipelines/slurm/observe-array.sh
#   sbatch --dependency=afterok:<ARRAY_JOB_ID> pipelines/slurm/observe-array.sh merge
#
# Settings come from the environment (sbatch passes it on by default; see --export):
#   DOMAINS      file of domains, one per line, on storage every node sees      (required)
#   SHARDS_DIR   shared directory for the shard files                            (default ./shards)
#   OBSERVED_AT  the one instant recorded for every observation (RFC 3339); the same for all shards, so the
#                merged store equals a single run                                (default: now, fixed at submit)
#   SHARDS       N, the number of shards                       (default: the array's size, SLURM_ARRAY_TASK_MAX)
#   DB           the database the merge step imports into      (default /var/lib/policylist/policylist.sqlite)
#   POLICYLIST_BIN  directory of the policylist executables    (default /opt/policylist/bin)
#   OBSERVE_ARGS    extra options for `policylist-observe live` (e.g. "--tlsrpt --dane --concurrency 64")
#
# Each task writes SHARDS_DIR/shard-K-of-N.jsonl (renamed into place only when complete) and no database:
# shard K takes the domains whose stable hash (FNV-1a 64 mod N, + 1) is K, so the N files are disjoint and
# together hold every domain. The merge imports them in order; importing a file twice adds nothing, so a
# rerun of the merge (or of a failed task followed by the merge) is safe.
#SBATCH --job-name=policylist-observe
#SBATCH --array=1-8
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=2
#SBATCH --mem=1G
#SBATCH --time=01:00:00
#SBATCH --output=policylist-observe-%A_%a.log
set -euo pipefail

BIN=${POLICYLIST_BIN:-/opt/policylist/bin}
SHARDS_DIR=${SHARDS_DIR:-./shards}
DB=${DB:-/var/lib/policylist/policylist.sqlite}

shards() {
    local n=${SHARDS:-${SLURM_ARRAY_TASK_MAX:-}}
    if [ -z "$n" ]; then echo "observe-array: set SHARDS (or run as an array task)" >&2; exit 64; fi
    echo "$n"
}

case "${1:-task}" in
submit)
    : "${DOMAINS:?set DOMAINS to the domains file}"
    N=${SHARDS:-8}
    export OBSERVED_AT=${OBSERVED_AT:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
    export SHARDS=$N SHARDS_DIR DOMAINS DB
    mkdir -p "$SHARDS_DIR"
    array=$(sbatch --parsable --array="1-$N" --export=ALL "$0" task)
    merge=$(sbatch --parsable --dependency="afterok:${array%%;*}" --job-name=policylist-merge --export=ALL "$0" merge)
    echo "submitted array ${array%%;*} ($N shards, observedAt $OBSERVED_AT) and merge $merge"
    ;;
task)
    : "${DOMAINS:?set DOMAINS to the domains file}"
    : "${OBSERVED_AT:?set OBSERVED_AT (the same instant for every shard)}"
    K=${SLURM_ARRAY_TASK_ID:?not an array task (use: sbatch --array=1-N, or '$0 submit')}
    N=$(shards)
    mkdir -p "$SHARDS_DIR"
    # shellcheck disable=SC2086  # OBSERVE_ARGS is a list of options
    exec "$BIN/policylist-observe" live --domains "$DOMAINS" --shard "$K/$N" --now "$OBSERVED_AT" \
        --no-store --out "$SHARDS_DIR/shard-$K-of-$N.jsonl" --json ${OBSERVE_ARGS:-}
    ;;
merge)
    N=$(shards)
    files=()
    for K in $(seq 1 "$N"); do
        f="$SHARDS_DIR/shard-$K-of-$N.jsonl"
        if [ ! -f "$f" ]; then echo "observe-array: $f is missing (shard $K did not finish)" >&2; exit 74; fi
        files+=("$f")
    done
    exec "$BIN/policylist-observe" import --db "$DB" --json "${files[@]}"
    ;;
*)
    echo "usage: $0 [submit|task|merge]" >&2
    exit 64
    ;;
esac
