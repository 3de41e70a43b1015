package console_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"cardflow/app"
	"cardflow/config"
	"cardflow/internal/browsertest"
)

// screenshotDocs is where the screenshots go with
// CARDFLOW_SCREENSHOTS=1, from this package.
const screenshotDocs = "../../docs/screenshots"

// appStop bounds how long a stopped app may take to return: its HTTP
// drain and queue drain are bounded by server.shutdown_timeout (15 s).
const appStop = time.Minute

// bounded is a context for one wait of the test on the app: it ends after
// browsertest.Wait, so a condition that never comes fails the test instead of
// hanging it.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), browsertest.Wait)
	t.Cleanup(cancel)
	return ctx
}

const apiToken = "api-token-0123456789abcdef"

// startApp runs the app as cardflow demo does — the embedded store, the
// example flows and org, the simulator open — with the console on and an
// operator ops (acting as 沈管理员), on a random loopback port, and returns
// its base URL and what it is ready with. order_fulfilment has two
// versions: the app ran once before with the pack step's SLA at 6h, then
// the file went back to 4h, as a deployment that changed a flow.
func startApp(t *testing.T) (string, app.Ready) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	require.NoError(t, err)
	flowsDir := filepath.Join(t.TempDir(), "flows")
	require.NoError(t, os.CopyFS(flowsDir, os.DirFS("../../configs/flows")))
	order := filepath.Join(flowsDir, "order_fulfilment.yaml")
	src, err := os.ReadFile(order)
	require.NoError(t, err)
	cfg := config.Default()
	cfg.Sim.Enabled = true
	cfg.Flows.Dir = flowsDir
	cfg.Flows.OrgFile = "../../configs/org.example.yaml"
	cfg.Store.SQLitePath = filepath.Join(t.TempDir(), "cardflow.db")
	cfg.Server.APITokens = []config.Secret{apiToken}
	cfg.Console.Enabled = true
	cfg.Console.SessionSecret = "a-session-secret-of-32-bytes-at-least"
	cfg.Console.Users = []config.Secret{config.Secret("ops:" + string(hash) + ":u_shen")}
	require.NoError(t, cfg.Validate())

	older := bytes.Replace(src, []byte("sla: 4h"), []byte("sla: 6h"), 1)
	require.NotEqual(t, src, older)
	require.NoError(t, os.WriteFile(order, older, 0o644))
	run(t, cfg).stop()
	require.NoError(t, os.WriteFile(order, src, 0o644))
	a := run(t, cfg)
	t.Cleanup(a.stop)
	return a.base, a.ready
}

// running is an app started by run.
type running struct {
	base  string
	ready app.Ready
	stop  func()
}

// run starts the app on a random loopback port.
func run(t *testing.T, cfg *config.Config) running {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan app.Ready, 1), make(chan error, 1)
	go func() {
		done <- app.Run(ctx, cfg, app.RunOptions{Listener: ln, OpenSimulator: true,
			OnReady: func(r app.Ready) { ready <- r }})
	}()
	select {
	case r := <-ready:
		return running{base: "http://" + ln.Addr().String(), ready: r, stop: sync.OnceFunc(func() {
			cancel()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(appStop):
				var dump bytes.Buffer
				_ = pprof.Lookup("goroutine").WriteTo(&dump, 1)
				t.Fatalf("app.Run did not return within %s of its context's end; goroutines:\n%s", appStop, dump.String())
			}
		})}
	case err := <-done:
		cancel()
		t.Fatalf("app.Run failed to start: %v", err)
	}
	return running{}
}
