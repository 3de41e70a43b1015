# pgbench-flow.sh — sourced by the bench scripts: BENCH.md's "flow
# transition" peer. It defines
#
#   with_db URL DB            URL with its database replaced by DB and
#                             sslmode=disable (TLS would cost either side)
#   pgbench_flow_setup URL F  initialise the database at URL for the script
#                             (pgbench -i -s 10 and the idem, audit and
#                             outbox tables) and write the script to file F
#
# BENCH.md gives the script; run it as
# `pgbench -M prepared -f F -c 8 -j 2 -T <seconds> URL`.

with_db() {
	local url=$1 base=${1%%\?*} query=""
	[[ $url == *\?* ]] && query=${url#*\?}
	# Drop any sslmode and put sslmode=disable in its place.
	query=$(printf '%s' "$query" | tr '&' '\n' | { grep -v '^sslmode=' || true; } | paste -sd '&' -)
	# postgres://userinfo@host:port/db -> keep up to the host part.
	local rest=${base#*://}
	printf '%s://%s/%s?sslmode=disable%s' "${base%%://*}" "${rest%%/*}" "$2" "${query:+&$query}"
}

pgbench_flow_setup() {
	local url=$1 file=$2
	pgbench -i -s 10 -q "$url" 2>&1 | tail -n 1
	psql "$url" -qX -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE idem (key bigint PRIMARY KEY);
CREATE TABLE audit (id bigserial, aid int, delta int, at timestamptz DEFAULT now(), note text);
CREATE TABLE outbox (id bigserial, aid int, payload jsonb, created_at timestamptz DEFAULT now());
SQL
	cat >"$file" <<'SQL'
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
}
