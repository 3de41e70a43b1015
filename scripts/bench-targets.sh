#!/usr/bin/env bash
# bench-targets.sh — runs every throughput target of BENCH.md that has a Go
# benchmark, round after round, each round next to pgbench's "flow
# transition" on the same server, so a report can give every round, the
# machine's load before it and the peer figure it was measured beside.
#
# Server: CARDFLOW_TEST_DATABASE_URL and CARDFLOW_TEST_REDIS_URL, as for the
# tests. pgbench gets its own database, cardflow_targets_<pid>, dropped on
# exit; the Go benchmarks make their own schemas in the test database.
#
#   ROUNDS=3 PGBENCH_SECONDS=20 scripts/bench-targets.sh
#
# ONLY=regexp keeps the benchmarks whose name matches (e.g.
# ONLY='OrderIngest|FeishuClick'). Load from elsewhere moves every figure:
# read the load column, and compare a figure with the pgbench one of its
# own round, not with a figure from another day.
set -euo pipefail

rounds=${ROUNDS:-3}
pgseconds=${PGBENCH_SECONDS:-20}
only=${ONLY:-.}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
db="cardflow_targets_$$"

for tool in psql pgbench go; do
	command -v "$tool" >/dev/null || { echo "bench-targets: $tool is not installed" >&2; exit 1; }
done
: "${CARDFLOW_TEST_DATABASE_URL:?set CARDFLOW_TEST_DATABASE_URL (a postgres:// URL)}"
: "${CARDFLOW_TEST_REDIS_URL:?set CARDFLOW_TEST_REDIS_URL (a redis:// URL)}"

# shellcheck source=pgbench-flow.sh
source "$root/scripts/pgbench-flow.sh"
admin_url=$(with_db "$CARDFLOW_TEST_DATABASE_URL" postgres)
pg_url=$(with_db "$CARDFLOW_TEST_DATABASE_URL" "$db")
# The Go side keeps its database, with sslmode=disable as pgbench's.
CARDFLOW_TEST_DATABASE_URL=$(with_db "$CARDFLOW_TEST_DATABASE_URL" "$(basename "${CARDFLOW_TEST_DATABASE_URL%%\?*}")")
export CARDFLOW_TEST_DATABASE_URL

work=$(mktemp -d)
cleanup() {
	psql "$admin_url" -qX -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

psql "$admin_url" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE $db" >/dev/null
pgbench_flow_setup "$pg_url" "$work/flow.sql" >/dev/null

# package|benchmark|benchtime: the targets, each compiled before any runs so
# no build shares the CPU with a measurement.
targets=(
	"./adapters/orders|OrderIngest|20000x"
	"./adapters/orders|OrderLookup|10000x"
	"./app|FeishuClick|2000x"
	"./app|ChatDelivery|3000x"
	"./app|ChatClick|3000x"
	"./app|Digest|1x"
	"./flows|EngineDecisions|3000x"
	"./flows|EngineStartOrder|3000x"
)
for pkg in $(printf '%s\n' "${targets[@]}" | cut -d'|' -f1 | sort -u); do
	(cd "$root" && go test -c -o "$work/$(basename "$pkg").test" "$pkg")
done

for round in $(seq 1 "$rounds"); do
	echo "== round $round: $(uptime | sed 's/.*load average/load average/')"
	pgbench -M prepared -f "$work/flow.sql" -c 8 -j 2 -T "$pgseconds" "$pg_url" 2>&1 |
		sed -n 's/^tps = \([0-9.]*\).*/pgbench flow transition: \1 tx\/s/p'
	for t in "${targets[@]}"; do
		IFS='|' read -r pkg name benchtime <<<"$t"
		[[ $name =~ $only ]] || continue
		(cd "$root/$pkg" && "$work/$(basename "$pkg").test" -test.run '^$' -test.bench "^Benchmark${name}\$" \
			-test.benchtime "$benchtime" -test.count 1) 2>&1 | grep -E '^Benchmark|ns/op|FAIL|panic' || true
	done
done
