package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/config"
)

// syncBuffer collects what a command writes from its goroutines, and
// signals its first write: the demo's banner, written once it is ready.
type syncBuffer struct {
	mu    sync.Mutex
	b     strings.Builder
	once  sync.Once
	wrote chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{wrote: make(chan struct{})} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.once.Do(func() { close(s.wrote) })
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// demo is a `cardflow demo` running in the test.
type demo struct {
	base   string // its URL, as the banner gives it
	banner string
	stop   func() int // cancels it and returns its exit code
}

// startDemo runs `cardflow demo args...` on a store in a temporary
// directory until its banner is printed. The environment is the test's.
func startDemo(t *testing.T, args ...string) demo {
	t.Helper()
	t.Setenv("CARDFLOW_FLOWS_DIR", exampleFlows)
	t.Setenv("CARDFLOW_FLOWS_ORG_FILE", exampleOrg)
	return launchDemo(t, args...)
}

// launchDemo runs the demo with the flows and org it finds itself.
func launchDemo(t *testing.T, args ...string) demo {
	t.Helper()
	t.Setenv("CARDFLOW_STORE_SQLITE_PATH", filepath.Join(t.TempDir(), "demo.db"))
	ctx, cancel := context.WithCancel(context.Background())
	out, logs := newSyncBuffer(), newSyncBuffer()
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"demo"}, args...), out, logs) }()
	select {
	case <-out.wrote:
	case code := <-done:
		cancel()
		t.Fatalf("demo exited with %d before it was ready:\n%s", code, logs.String())
	}
	stop := sync.OnceValue(func() int {
		cancel()
		return <-done
	})
	t.Cleanup(func() { stop() })
	m := regexp.MustCompile(`cardflow demo is running on (http://\S+)`).FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	return demo{base: m[1], banner: out.String(), stop: stop}
}

// TestDemoReadsTheEnvironment: issue #6, item 8 — CARDFLOW_SERVER_ADDR was
// ignored and the demo listened on 127.0.0.1:8080 whatever it said.
func TestDemoReadsTheEnvironment(t *testing.T) {
	t.Setenv("CARDFLOW_SERVER_ADDR", "127.0.0.1:0") // any free port: never 8080
	t.Setenv("CARDFLOW_LOG_LEVEL", "warn")
	d := startDemo(t, "--sla-scale", "60")
	require.NotEqual(t, "http://"+demoAddr, d.base)
	require.Contains(t, d.banner, d.base+" (server.addr from env CARDFLOW_SERVER_ADDR)")
	resp, err := http.Get(d.base + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	require.Contains(t, d.banner, "SLA timers run 60× faster (--sla-scale): order_fulfilment's 2h finance SLA passes in 2m0s,\n"+
		"its reminders come every 30s")
	require.Contains(t, d.banner, "this run's token is below")
	require.Regexp(t, `TOKEN=demo-[A-Z2-7]{26}\n`, d.banner)
	require.Contains(t, d.banner, "A small shop's day plays over the next minute")
	require.Equal(t, 0, d.stop())
}

// TestDemoPublicURL: the demo's cards link to its console at the address
// it listens on, when that names a fixed port.
func TestDemoPublicURL(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		"127.0.0.1:8080": "http://127.0.0.1:8080",
		":9090":          "http://localhost:9090",
		"0.0.0.0:9090":   "http://localhost:9090",
		"[::1]:8080":     "http://[::1]:8080",
		"127.0.0.1:0":    "",
		"nonsense":       "",
	} {
		require.Equal(t, want, demoPublicURL(addr), addr)
	}
}

// TestDemoConfigPrecedence: flag > environment > file > the demo's
// defaults, and the demo refuses a shared store or queue.
func TestDemoConfigPrecedence(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "cardflow.yaml")
	require.NoError(t, os.WriteFile(file, []byte("server:\n  addr: 127.0.0.1:7000\nlog:\n  format: json\n  level: debug\n"), 0o600))
	redisFile := filepath.Join(t.TempDir(), "redis.yaml")
	require.NoError(t, os.WriteFile(redisFile, []byte("queue:\n  redis_url: redis://cache:6379/0\n"), 0o600))
	addrFlag := []config.Override{{Key: "server.addr", Value: "127.0.0.1:9100", Source: "flag --addr"}}
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	tests := []struct {
		name    string
		file    string
		env     map[string]string
		flags   []config.Override
		addr    string
		source  string
		format  string
		wantErr string
	}{
		{name: "demo defaults", addr: demoAddr, source: "default", format: "text"},
		{name: "file over defaults", file: file, addr: "127.0.0.1:7000", source: file + ":2", format: "json"},
		{name: "env over file", file: file, env: map[string]string{"CARDFLOW_SERVER_ADDR": "127.0.0.1:9099"},
			addr: "127.0.0.1:9099", source: "env CARDFLOW_SERVER_ADDR", format: "json"},
		{name: "flag over env", file: file, env: map[string]string{"CARDFLOW_SERVER_ADDR": "127.0.0.1:9099"}, flags: addrFlag,
			addr: "127.0.0.1:9100", source: "flag --addr", format: "json"},
		{name: "invalid flag named", flags: []config.Override{{Key: "server.addr", Value: "9100", Source: "flag --addr"}},
			wantErr: `server.addr: expected host:port such as ":8080", got "9100" (flag --addr)`},
		{name: "no shared store", env: map[string]string{"CARDFLOW_STORE_DSN": "postgres://db/cardflow"}, file: redisFile,
			wantErr: "store.dsn: the demo runs on the embedded store and in-process queue only, since it loads the example org " +
				"into its store: use cardflow serve, or set CARDFLOW_STORE_DSN= (empty) for the demo (env CARDFLOW_STORE_DSN)\n" +
				"queue.redis_url: the demo runs on the embedded store and in-process queue only, since it loads the example org " +
				"into its store: use cardflow serve, or set CARDFLOW_QUEUE_REDIS_URL= (empty) for the demo (" + redisFile + ":2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := demoConfig(tt.file, env(tt.env), tt.flags)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.addr, cfg.Server.Addr)
			require.Equal(t, tt.source, cfg.Source("server.addr"))
			require.Equal(t, tt.format, cfg.Log.Format)
			require.Equal(t, defaultOrgFile, cfg.Flows.OrgFile)
			require.Len(t, cfg.Server.APITokens, 1, "a token made up for the run")
		})
	}
}

func TestDemoRefusesBadSLAScale(t *testing.T) {
	for _, bad := range []string{"0.5", "0", "-60", "NaN", "Inf", "+Inf"} {
		t.Run(bad, func(t *testing.T) {
			code, _, errOut := runCmd("demo", "--sla-scale", bad)
			require.Equal(t, 2, code)
			require.Contains(t, errOut, "cardflow demo: --sla-scale must be a finite number of at least 1, got ")
		})
	}
	code, _, errOut := runCmd("demo", "--sla-scale", "fast")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `invalid value "fast" for flag -sla-scale`)
}

// TestDemoRunsFromAnyDirectory: with no configs/ folder where it runs, the
// demo loads the examples built into the binary and serves the simulator.
func TestDemoRunsFromAnyDirectory(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("CARDFLOW_SERVER_ADDR", "127.0.0.1:0")
	t.Setenv("CARDFLOW_LOG_LEVEL", "warn")
	d := launchDemo(t)
	require.Contains(t, d.banner, "Flows loaded from the examples built into the binary")
	require.Contains(t, d.banner, "order_fulfilment     v1  订单履约")
	require.Contains(t, d.banner, "Chat simulator:  "+d.base+"/sim/")
	resp, err := http.Get(d.base + "/sim/api/users")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), "陈客服主管", "the example org was loaded")
	require.Equal(t, 0, d.stop())
}
