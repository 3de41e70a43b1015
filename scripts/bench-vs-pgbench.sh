#!/usr/bin/env bash
# bench-vs-pgbench.sh — compares the Postgres store's "claim task + audit +
# outbox" transition (BenchmarkApplyClaimTask, one Apply = one round trip;
# concurrent Applies share a commit) with pgbench running BENCH.md's
# five-statement "flow transition" script on the same server, and prints
# both rates and the ratio Go/pgbench. CARDFLOW_BENCH_ALONE=1 gives the Go
# side one transaction per Apply, as pgbench has.
#
# Server: CARDFLOW_TEST_DATABASE_URL (a postgres:// URL) if set, else the
# libpq PG* variables (PGHOST, PGPORT, PGUSER, PGPASSWORD). The script makes
# its own database, cardflow_bench_<pid>, and drops it on exit; sslmode is
# forced to disable so neither side pays for TLS.
#
#   DURATION=20 ROUNDS=3 scripts/bench-vs-pgbench.sh
#
# DURATION is the seconds each side runs per round (default 20); ROUNDS
# (default 3) rounds alternate the sides and the medians are compared, as
# BENCH.md asks. Target: Go/pgbench >= 1.0. Load from elsewhere on the
# machine still moves single rounds a lot; read the per-round lines too.
set -euo pipefail

duration=${DURATION:-20}
rounds=${ROUNDS:-3}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench_db="cardflow_bench_$$"

for tool in psql pgbench go; do
	command -v "$tool" >/dev/null || { echo "bench-vs-pgbench: $tool is not installed" >&2; exit 1; }
done

# shellcheck source=pgbench-flow.sh
source "$root/scripts/pgbench-flow.sh"

if [[ -n ${CARDFLOW_TEST_DATABASE_URL:-} ]]; then
	admin_url=$(with_db "$CARDFLOW_TEST_DATABASE_URL" postgres)
	bench_url=$(with_db "$CARDFLOW_TEST_DATABASE_URL" "$bench_db")
else
	# An empty host part lets libpq and pgx take PGHOST/PGPORT/PGUSER/PGPASSWORD.
	admin_url="postgresql:///postgres?sslmode=disable"
	bench_url="postgresql:///$bench_db?sslmode=disable"
fi

workdir=$(mktemp -d)
cleanup() {
	psql "$admin_url" -qX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $bench_db WITH (FORCE)" >/dev/null || true
	rm -rf "$workdir"
}
trap cleanup EXIT

echo "== setting up $bench_db (pgbench -i -s 10)"
psql "$admin_url" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE $bench_db" >/dev/null
pgbench_flow_setup "$bench_url" "$workdir/flow.sql"

# The Go benchmark makes its own schema in the bench database; compile it
# first so the build does not share the CPU with a measurement.
(cd "$root" && go test -c -o "$workdir/postgres.test" ./storage/postgres/)

# run_pgbench and run_go print one rate in tx/s.
run_pgbench() {
	pgbench -M prepared -f "$workdir/flow.sql" -c 8 -j 2 -T "$duration" "$bench_url" >"$workdir/pgbench.out" 2>&1 ||
		{ cat "$workdir/pgbench.out" >&2; return 1; }
	sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$workdir/pgbench.out" | head -n 1
}
run_go() {
	(cd "$root/storage/postgres" && CARDFLOW_TEST_DATABASE_URL=$bench_url \
		"$workdir/postgres.test" -test.run '^$' -test.bench '^BenchmarkApplyClaimTask$' \
		-test.benchtime "${duration}s" -test.count 1) >"$workdir/go.out" 2>&1 ||
		{ cat "$workdir/go.out" >&2; return 1; }
	awk '/^BenchmarkApplyClaimTask/ { for (i = 1; i < NF; i++) if ($(i + 1) == "tx/s") print $i }' "$workdir/go.out"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Rounds alternate the two sides, so a burst of load from elsewhere hits
# one round of each rather than one side's whole measurement.
echo "== $rounds rounds of: pgbench -M prepared -f flow.sql -c 8 -j 2 -T $duration; go test -bench BenchmarkApplyClaimTask -benchtime ${duration}s"
# The 1-minute load average before each round says how busy the machine
# was: with other work on the cores the rates fall and single rounds swing.
printf '%-6s %6s %14s %14s %8s\n' round load "pgbench tx/s" "Go tx/s" ratio
: >"$workdir/pg.rates"
: >"$workdir/go.rates"
for round in $(seq 1 "$rounds"); do
	load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?")
	pg_tps=$(run_pgbench)
	go_tps=$(run_go)
	if [[ -z $pg_tps || -z $go_tps ]]; then
		echo "bench-vs-pgbench: could not read a rate (pgbench: '${pg_tps}', go: '${go_tps}')" >&2
		exit 1
	fi
	echo "$pg_tps" >>"$workdir/pg.rates"
	echo "$go_tps" >>"$workdir/go.rates"
	awk -v r="$round" -v l="$load" -v p="$pg_tps" -v g="$go_tps" 'BEGIN { printf "%-6s %6s %14.1f %14.1f %7.2fx\n", r, l, p, g, g / p }'
done

pg_median=$(median <"$workdir/pg.rates")
go_median=$(median <"$workdir/go.rates")
echo
printf 'pgbench flow transition (median):  %10.1f tx/s\n' "$pg_median"
printf 'Go Apply (median):                 %10.1f tx/s\n' "$go_median"
awk -v g="$go_median" -v p="$pg_median" 'BEGIN { printf "ratio Go/pgbench:                  %10.2fx  (target >= 1.00x)\n", g / p }'
