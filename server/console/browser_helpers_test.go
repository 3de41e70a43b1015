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

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"cardflow/app"
	"cardflow/config"
)

// screenshotsVar, set to 1, writes the browser test's screenshots to
// docs/screenshots (else to the test's artifact directory: go test
// -artifacts).
const screenshotsVar = "CARDFLOW_SCREENSHOTS"

// screenshotDocs is where the screenshots go, from this package.
const screenshotDocs = "../../docs/screenshots"

// browserWait bounds one wait for the page: generous, since CI runs the
// server under the race detector on two cores.
const browserWait = 20 * time.Second

// appStop bounds how long a stopped app may take to return: its HTTP
// drain and queue drain are bounded by server.shutdown_timeout (15 s).
const appStop = time.Minute

// bounded is a context for one wait of the test on the app: it ends after
// browserWait, so a condition that never comes fails the test instead of
// hanging it.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), browserWait)
	t.Cleanup(cancel)
	return ctx
}

// browserSession bounds a test's whole browser session (every tab).
const browserSession = 4 * time.Minute

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

// browser is a headless Chromium the test drives.
type browser struct {
	t       *testing.T
	ctx     context.Context
	started bool
}

// newBrowser starts the headless Chromium at exec (testenv.Browser).
func newBrowser(t *testing.T, exec string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exec),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.Flag("lang", "zh-CN"),
		chromedp.Env("TZ=Asia/Shanghai"),
	)
	// The whole browser session has a deadline: a page that never shows
	// what a step waits for fails the test in minutes with the step's
	// error, instead of hanging it until go test's timeout.
	bounded, cancelDeadline := context.WithTimeout(t.Context(), browserSession)
	ctx, cancelAlloc := chromedp.NewExecAllocator(bounded, opts...)
	ctx, cancelBrowser := chromedp.NewContext(ctx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelDeadline()
	})
	require.NoError(t, chromedp.Do(ctx), "start %s", exec)
	return &browser{t: t, ctx: ctx}
}

// tab is one browser tab.
type tab struct {
	t    *testing.T
	ctx  context.Context
	dir  string
	name string
}

// open shows url in a tab width × height px: the browser's first, then
// new ones.
func (br *browser) open(name, url string, width, height int64) *tab {
	t := br.t
	t.Helper()
	ctx := br.ctx
	if br.started {
		var cancel context.CancelFunc
		ctx, cancel = chromedp.NewContext(br.ctx)
		t.Cleanup(cancel)
		require.NoError(t, chromedp.Do(ctx), "open tab %s", name)
	}
	br.started = true
	b := &tab{t: t, ctx: ctx, dir: screenshotDir(t), name: name}
	b.do(chromedp.EmulateViewport(width, height))
	b.do(chromedp.Navigate(url))
	return b
}

func screenshotDir(t *testing.T) string {
	if os.Getenv(screenshotsVar) == "1" {
		require.NoError(t, os.MkdirAll(screenshotDocs, 0o755))
		return screenshotDocs
	}
	return t.ArtifactDir()
}

// do runs actions in the tab, failing the test on the first error.
func (b *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.failed()
		require.NoError(b.t, err, "tab %s", b.name)
	}
}

// failed keeps a screenshot of the tab as it was when a step failed.
func (b *tab) failed() {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return
	}
	path := filepath.Join(b.t.ArtifactDir(), "failed-"+b.name+".png")
	if err := os.WriteFile(path, png, 0o644); err == nil {
		b.t.Logf("tab %s: the page as it failed: %s", b.name, path)
	}
}

// poll waits until the page function fn, called with args, returns a
// truthy value, and decodes that value into T.
func poll[T any](b *tab, what, fn string, args ...any) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.PollFunction[T](fn,
		chromedp.WithPollingArgs(args...), chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(browserWait)))
	if err != nil {
		b.failed()
		require.NoError(b.t, err, "tab %s: waiting for %s", b.name, what)
	}
	return v
}

// eval returns what the expression gives on the page now.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	require.NoError(b.t, err, "tab %s: %s", b.name, expr)
	return v
}

// where is a page function: the centre of the element sel selects, once
// it is shown, scrolled into view; null until then.
const where = `(sel) => {
  const el = document.querySelector(sel);
  if (!el || !el.checkVisibility()) return null;
  el.scrollIntoView({ block: 'nearest' });
  const r = el.getBoundingClientRect();
  return r.width && r.height ? { x: r.x + r.width / 2, y: r.y + r.height / 2 } : null;
}`

// click clicks with the mouse where the element sel selects is.
func (b *tab) click(sel string) {
	b.t.Helper()
	at := poll[struct {
		X float64 `json:"x"`
		Y float64 `json:"y"`
	}](b, sel, where, sel)
	b.do(chromedp.MouseClickXY(at.X, at.Y))
}

// follow clicks the link or submit button sel and waits until the page
// it leads to has loaded.
func (b *tab) follow(sel string) {
	b.t.Helper()
	at := poll[struct {
		X float64 `json:"x"`
		Y float64 `json:"y"`
	}](b, sel, where, sel)
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.MouseClickXY(at.X, at.Y)); err != nil {
		b.failed()
		require.NoError(b.t, err, "tab %s: follow %s", b.name, sel)
	}
}

// goTo loads url and waits for it.
func (b *tab) goTo(url string) {
	b.t.Helper()
	b.do(chromedp.Navigate(url))
}

// text waits for the element sel and returns its text.
func (b *tab) text(sel string) string {
	b.t.Helper()
	return poll[string](b, sel, `(sel) => document.querySelector(sel)?.textContent ?? null`, sel)
}

// shot writes a PNG of the whole page as name.png.
func (b *tab) shot(name string) {
	b.t.Helper()
	b.do(chromedp.Evaluate[chromedp.Void](`document.activeElement?.blur?.()`))
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	require.NoError(b.t, err, "tab %s: screenshot %s", b.name, name)
	require.NoError(b.t, os.WriteFile(filepath.Join(b.dir, name+".png"), png, 0o644))
}

// unlabelled is a page function: a description of every control without
// an accessible name and every image without alt text; empty when none.
const unlabelled = `() => {
  const bad = [];
  const named = (el) => (el.getAttribute('aria-label') || '').trim() !== '' ||
    (el.labels && el.labels.length > 0 && [...el.labels].some((l) => l.textContent.trim() !== '')) ||
    (el.getAttribute('aria-labelledby') && document.getElementById(el.getAttribute('aria-labelledby')));
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    if (!named(el)) bad.push(el.outerHTML.slice(0, 120));
  }
  for (const el of document.querySelectorAll('button, a[href], summary')) {
    if (!named(el) && el.textContent.trim() === '') bad.push(el.outerHTML.slice(0, 120));
  }
  for (const el of document.querySelectorAll('img')) {
    if (!el.hasAttribute('alt')) bad.push(el.outerHTML.slice(0, 120));
  }
  for (const el of document.querySelectorAll('svg[role=img]')) {
    if (!(el.getAttribute('aria-label') || '').trim()) bad.push('svg without aria-label');
  }
  return bad;
}`

// accessible checks the page's controls and images with unlabelled.
func (b *tab) accessible(page string) {
	b.t.Helper()
	require.Empty(b.t, eval[[]string](b, "("+unlabelled+")()"), "page %s: controls without a label, images without alt text", page)
}
