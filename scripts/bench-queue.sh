#!/usr/bin/env bash
# Measures the queue against the ceiling of the Redis it runs on, in one run
# (absolute figures move 10-20 % between runs and machines; the ratio is what
# to compare, see shared BENCH.md):
#   1. redis-benchmark: unpipelined XADD, 50 clients (the raw Redis ceiling);
#   2. BenchmarkRedisPublishConsume: publish in batches + consume + ack, end to end;
#   3. BenchmarkMemoryPublishConsume: the in-process queue.
# Go figures are the median of COUNT runs. Targets: Redis end to end >= 10,000
# msgs/s, in process >= 200,000 msgs/s.
# Usage: scripts/bench-queue.sh   (env: REDIS_HOST, REDIS_PORT, COUNT, REDIS_N, GO_N, MEM_N)
set -euo pipefail
cd "$(dirname "$0")/.."

host="${REDIS_HOST:-127.0.0.1}"
port="${REDIS_PORT:-6379}"
count="${COUNT:-3}"
export CARDFLOW_TEST_REDIS_URL="${CARDFLOW_TEST_REDIS_URL:-redis://${host}:${port}/0}"
key="cardflow-bench:xadd:$$"

redis-cli -h "$host" -p "$port" ping >/dev/null
trap 'redis-cli -h "$host" -p "$port" unlink "$key" >/dev/null' EXIT

echo "== redis-benchmark XADD (-n ${REDIS_N:-200000} -c 50, unpipelined)"
xadd_line=$(redis-benchmark -h "$host" -p "$port" -q -n "${REDIS_N:-200000}" -c 50 \
  XADD "$key" MAXLEN '~' 100000 '*' f v | tr '\r' '\n' | grep 'requests per second' | tail -1)
echo "$xadd_line"
xadd=$(sed -E 's/.*: ([0-9.]+) requests per second.*/\1/' <<<"$xadd_line")

# median_msgs PATTERN PKG N: median msgs/s of COUNT runs of one Go benchmark.
median_msgs() {
  local out
  out=$(go test -run '^$' -bench "^$1\$" -benchtime="$3x" -count="$count" "$2")
  echo "$out" | grep '^Benchmark' >&2
  echo "$out" | awk '/^Benchmark/ { for (i = 1; i < NF; i++) if ($(i+1) == "msgs/s") print $i }' |
    sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

echo "== BenchmarkRedisPublishConsume (end to end, ${GO_N:-50000} msgs, median of $count)"
redis_e2e=$(median_msgs BenchmarkRedisPublishConsume ./storage/redis/ "${GO_N:-50000}")
echo "== BenchmarkMemoryPublishConsume (${MEM_N:-500000} msgs, median of $count)"
memory=$(median_msgs BenchmarkMemoryPublishConsume ./queue/ "${MEM_N:-500000}")

echo
awk -v x="$xadd" -v r="$redis_e2e" -v m="$memory" 'BEGIN {
  printf "redis-benchmark XADD           %10.0f ops/s\n", x
  printf "Redis queue end to end         %10.0f msgs/s  (%.2fx XADD; target >= 10000: %s)\n", r, r / x, (r >= 10000 ? "met" : "MISSED")
  printf "in-process queue               %10.0f msgs/s  (target >= 200000: %s)\n", m, (m >= 200000 ? "met" : "MISSED")
}'
