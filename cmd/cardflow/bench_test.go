package main

import (
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBenchAgainstDemo measures a demo run with the operator's token, as
// the README says: the demo does not print that token, bench takes it from
// CARDFLOW_BENCH_TOKEN, and a wrong one fails the run with the server's
// answer.
func TestBenchAgainstDemo(t *testing.T) {
	const token = "operator-token-0123456789"
	t.Setenv("CARDFLOW_SERVER_ADDR", "127.0.0.1:0")
	t.Setenv("CARDFLOW_SERVER_API_TOKENS", token)
	t.Setenv("CARDFLOW_LOG_LEVEL", "warn")
	d := startDemo(t)
	require.NotContains(t, d.banner, token)
	require.Contains(t, d.banner, `TOKEN="${CARDFLOW_SERVER_API_TOKENS%%,*}"`)

	t.Setenv("CARDFLOW_BENCH_TOKEN", token)
	code, out, errOut := runCmd("bench", "--url", d.base, "--clients", "2", "--duration", "300ms")
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out, errOut)
	require.Regexp(t, `approvals  [1-9]\d*  \(`, out)
	require.Contains(t, out, "failures   none")
	require.Regexp(t, `\nnotifications  (none queued when the clients stopped|\d+ queued when the clients stopped, all handled \d+\.\ds later)\n`, out,
		"the demo delivers the run's cards to the simulator within the wait")
	require.Regexp(t, `(?m)^cardflow bench: +\d+s  [1-9][\d,]* approvals, [\d,]+/s on average, 0 failed$`, errOut,
		"progress on stderr, at least the line when the clients are done")

	code, out, errOut = runCmd("bench", "--url", d.base, "--token", "wrong-token-0123456789", "--duration", "1m")
	require.Equal(t, 1, code)
	require.Contains(t, out, "start 401 invalid_token")
	require.Contains(t, errOut, "cardflow bench: bench: aborted: start 401 invalid_token")

	code, _, errOut = runCmd("bench", "--url", d.base, "--flow", "payroll")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `no scenario for flow "payroll"`)
	require.Equal(t, 0, d.stop())
}

func TestBenchWithoutServer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	code, out, errOut := runCmd("bench", "--url", url, "--token", "some-token-0123456789")
	require.Equal(t, 1, code)
	require.Empty(t, out, "no report of a run that never started")
	require.Contains(t, errOut, "cardflow bench: bench: aborted: the server does not answer")
}
