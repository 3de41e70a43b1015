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

# with_db URL DB: URL with its database replaced by DB and sslmode=disable.
with_db() {
	local url=$1 base=${1%%\?*} query=""
	[[ $url == *\?* ]] && query=${url#*\?}
	query=$(printf '%s' "$query" | tr '&' '\n' | { grep -v '^sslmode=' || true; } | paste -sd '&' -)
	local rest=${base#*://}
	printf '%s://%s/%s?sslmode=disable%s' "${base%%://*}" "${rest%%/*}" "$2" "${query:+&$query}"
}
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
pgbench -i -s 10 -q "$pg_url" >/dev/null 2>&1
psql "$pg_url" -qX -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE idem (key bigint PRIMARY KEY);
CREATE TABLE audit (id bigserial, aid int, delta int, at timestamptz DEFAULT now(), note text);
CREATE TABLE outbox (id bigserial, aid int, payload jsonb, created_at timestamptz DEFAULT now());
SQL
cat >"$work/flow.sql" <<'SQL'
\set aid random(1, 100000 * :scale)
\set key random(1, 1000000000000)
\set delta random(-5000, 5000)
BEGIN;
INSERT INTO idem(key) VALUES (:key) ON CONFLICT DO NOTHING;
SELECT abalance FROM pgbench_accounts WHERE aid = :aid FOR UPDATE;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
INSERT INTO audit(aid, delta, note) VALUES (:aid, :delta, 'approve');
INSERT INTO outbox(aid, payload) VALUES (:aid, '{"kind":"card_update"}');
END;
SQL

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
