#!/usr/bin/env bash
# `npm run bench:journal-separate-cores`: the journal benchmark (bench/journal.ts) with PostgreSQL on a
# core of its own, as a database on another host would be. Node and a private Redis share CPU 0, a
# private PostgreSQL runs on CPU 1; the shared brokers are neither used nor touched. On a machine
# with two cores the journal-off side has one core instead of two, so its rates are lower than the
# plain benchmark's; the on/off ratio is what the journal costs the bus's own process.
#
# Needs: taskset, redis-server, PostgreSQL's initdb and pg_ctl (found under /usr/lib/postgresql), and
# root or the postgres user to run the private server. BENCH_EVENTS (default 100,000 here: shorter
# runs on one core are too noisy) and BENCH_RUNS pass through.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "journal-separate-cores: $*" >&2; exit 1; }
[[ $(nproc) -ge 2 ]] || fail "needs two cores, this machine has $(nproc)"
command -v taskset > /dev/null || fail "taskset is missing (util-linux)"
command -v redis-server > /dev/null || fail "redis-server is missing"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -1)
[[ -x "$pg_bin/initdb" ]] || fail "PostgreSQL's initdb is missing (looked in /usr/lib/postgresql/*/bin)"

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
pg_port=$(free_port)
redis_port=$(free_port)
work=$(mktemp -d /tmp/tidings-journal-bench.XXXXXX)
as_postgres=()
if [[ $(id -u) -eq 0 ]]; then
  chown postgres "$work"
  as_postgres=(runuser -u postgres --)
fi

cleanup() {
  "${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$work/data" -m immediate stop > /dev/null 2>&1 || true
  redis-cli -p "$redis_port" shutdown nosave > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"${as_postgres[@]}" "$pg_bin/initdb" -D "$work/data" -A trust -U postgres > "$work/initdb.log" 2>&1 \
  || fail "initdb failed: $(tail -3 "$work/initdb.log")"
"${as_postgres[@]}" taskset -c 1 "$pg_bin/pg_ctl" -D "$work/data" -w -l "$work/postgres.log" \
  -o "-p $pg_port -k $work -c listen_addresses=127.0.0.1" start > /dev/null \
  || fail "PostgreSQL did not start: $(tail -3 "$work/postgres.log")"
psql -h 127.0.0.1 -p "$pg_port" -U postgres -qc 'CREATE DATABASE test' postgres
taskset -c 0 redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize yes --logfile "$work/redis.log" > /dev/null
for _ in $(seq 50); do redis-cli -p "$redis_port" ping > /dev/null 2>&1 && break; sleep 0.1; done

echo "PostgreSQL on CPU 1 (port $pg_port); Node and Redis on CPU 0 (Redis port $redis_port)"
TIDINGS_REDIS_URL="redis://127.0.0.1:$redis_port" \
  TIDINGS_POSTGRES_URL="postgres://postgres@127.0.0.1:$pg_port/test" \
  BENCH_EVENTS="${BENCH_EVENTS:-100000}" \
  taskset -c 0 npx tsx --conditions=@tidings/source bench/run.ts journal
