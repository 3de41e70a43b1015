package sim_test

import (
	"context"
	"flag"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"cardflow/app"
	"cardflow/config"
)

var updateScreenshots = flag.Bool("update-screenshots", false,
	"write the browser test's screenshots to docs/screenshots (else to the test's artifact directory: go test -artifacts)")

// screenshotDocs is where -update-screenshots writes, from this package.
const screenshotDocs = "../../docs/screenshots"

// browserWait bounds one wait for the page: generous, since CI runs the
// server under the race detector on two cores, and a wait that ends early
// ends at once.
const browserWait = 20 * time.Second

// browserSession bounds a test's whole browser session (every tab).
const browserSession = 4 * time.Minute

// startDemo runs the app as cardflow demo does — the embedded store, the
// example flows and org, the simulator open — on a random loopback port,
// and returns the simulator's address.
func startDemo(t *testing.T) string {
	t.Helper()
	cfg := config.Default()
	cfg.Sim.Enabled = true
	cfg.Flows.Dir = "../../configs/flows"
	cfg.Flows.OrgFile = "../../configs/org.example.yaml"
	cfg.Store.SQLitePath = filepath.Join(t.TempDir(), "cardflow.db")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() {
		done <- app.Run(ctx, cfg, app.RunOptions{Listener: ln, OpenSimulator: true,
			OnReady: func(app.Ready) { close(ready) }})
	}()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("app.Run failed to start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return "http://" + ln.Addr().String() + "/sim/"
}

// The size of the page in every tab, and so of the screenshots.
const pageWidth, pageHeight = 1200, 800

// browser is a headless Chromium the test drives.
type browser struct {
	t       *testing.T
	ctx     context.Context
	started bool // whether the tab the browser started with shows a page
}

// newBrowser starts the headless Chromium at exec (testenv.Browser) for
// the test.
func newBrowser(t *testing.T, exec string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exec),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.Flag("lang", "zh-CN"),
		chromedp.Env("TZ=Asia/Shanghai"), // the org's zone: message times match the cards'
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
	// Start the browser, with its first tab, now: a missing library fails
	// here, and the browser lives as long as the context of its first
	// action, which has no deadline.
	require.NoError(t, chromedp.Do(ctx), "start %s", exec)
	return &browser{t: t, ctx: ctx}
}

// tab is one browser tab showing the simulator.
type tab struct {
	t    *testing.T
	ctx  context.Context
	dir  string // where screenshots go
	name string // which tab, in failures
}

// open shows url (the simulator, with #user=<sim id> to pick someone) in
// a tab: the browser's first, then new ones. before, when set, runs in the
// page before its scripts.
func (br *browser) open(name, url, before string) *tab {
	t := br.t
	t.Helper()
	ctx := br.ctx
	if br.started {
		var cancel context.CancelFunc
		ctx, cancel = chromedp.NewContext(br.ctx)
		t.Cleanup(cancel)
		// Like the browser, a tab lives as long as the context of its
		// first action.
		require.NoError(t, chromedp.Do(ctx), "open tab %s", name)
	}
	br.started = true
	b := &tab{t: t, ctx: ctx, dir: screenshotDir(t), name: name}
	b.do(chromedp.EmulateViewport(pageWidth, pageHeight))
	if before != "" {
		b.do(func(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
				page.AddScriptToEvaluateOnNewDocumentParams{Source: before})
			return chromedp.Void{}, err
		})
	}
	b.do(chromedp.Navigate(url))
	return b
}

func screenshotDir(t *testing.T) string {
	if *updateScreenshots {
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
		b.t.Logf("tab %s: no screenshot of the failure: %v", b.name, err)
		return
	}
	path := filepath.Join(b.t.ArtifactDir(), "failed-"+b.name+".png")
	if err := os.WriteFile(path, png, 0o644); err == nil {
		b.t.Logf("tab %s: the page as it failed: %s", b.name, path)
	}
}

// poll waits until the page function fn, called with args, returns a
// truthy value, and decodes that value into T. It tries again on every
// change of the page; what says what it waits for, in a failure.
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

// where is a page function: the centre of the element sel selects, once
// it is shown, scrolled into view; null until then.
const where = `(sel) => {
  const el = document.querySelector(sel);
  if (!el || !el.checkVisibility()) return null;
  el.scrollIntoView({ block: 'nearest' });
  const r = el.getBoundingClientRect();
  return r.width && r.height ? { x: r.x + r.width / 2, y: r.y + r.height / 2 } : null;
}`

// click clicks with the mouse where the element sel selects is. Not on
// the element itself, as chromedp.Click does: the page redraws the list
// and the cards as events come in, and a redrawn element is a new one in
// the same place.
func (b *tab) click(sel string) {
	b.t.Helper()
	at := poll[struct {
		X float64 `json:"x"`
		Y float64 `json:"y"`
	}](b, sel, where, sel)
	b.do(chromedp.MouseClickXY(at.X, at.Y))
}

// pick clicks a person in the list on the left and waits until their
// conversation is shown.
func (b *tab) pick(name string) {
	b.t.Helper()
	b.click(`#people button.entry[aria-label^="` + name + ` · "]`)
	poll[bool](b, name+"'s conversation", `(name) => document.getElementById('conv-title').textContent === name &&
		document.querySelector('#log > .msg, #log > .empty') !== null`, name)
}

// cardView is what a card shows, read from the page.
type cardView struct {
	Title   string            `json:"title"`
	Badge   string            `json:"badge"`
	Status  string            `json:"status"`
	Text    string            `json:"text"`
	Buttons []string          `json:"buttons"`
	Fields  map[string]string `json:"fields"`
}

// cardWant says which card readCard waits for. It travels as one object:
// chromedp passes an empty string argument as undefined.
type cardWant struct {
	Prefix string `json:"prefix"` // the title starts with it
	Status string `json:"status"` // "": open (has buttons); else closed, with this in its status line
	Any    bool   `json:"any"`    // as it is, open or closed
}

// readCard is a page function: what the last card titled w.prefix… shows,
// once it is as w wants it; null until then.
const readCard = `(w) => {
  const c = [...document.querySelectorAll('#log article.card')]
    .filter((c) => c.querySelector('.card-title').textContent.startsWith(w.prefix)).at(-1);
  if (!c) return null;
  const text = (sel) => c.querySelector(sel)?.textContent ?? '';
  const v = {
    title: text('.card-title'), badge: text('.badge'), status: text('.status-line'), text: text('.md'),
    buttons: [...c.querySelectorAll('.card-actions > .buttons > button')].map((b) => b.textContent),
    fields: Object.fromEntries([...c.querySelectorAll('.fields .field')]
      .map((f) => [f.querySelector('dt').textContent, f.querySelector('dd').textContent])),
  };
  const open = v.buttons.length > 0;
  if (w.any) return v;
  return (w.status === '' ? open : !open && v.status.includes(w.status)) ? v : null;
}`

// card waits for the card titled prefix… to be open (status "") or closed
// with status in its status line, and returns what it shows.
func (b *tab) card(prefix, status string) cardView {
	b.t.Helper()
	what := "the card " + prefix + "… to be open"
	if status != "" {
		what = "the card " + prefix + "… to be closed with " + status
	}
	return poll[cardView](b, what, readCard, cardWant{Prefix: prefix, Status: status})
}

// reply waits for the bot's answer titled title and returns what it shows.
func (b *tab) reply(title string) cardView {
	b.t.Helper()
	return poll[cardView](b, "the reply "+title, readCard, cardWant{Prefix: title, Any: true})
}

// press clicks the button labelled label on the card titled prefix….
func (b *tab) press(label, prefix string) {
	b.t.Helper()
	b.click(`#log .card-actions > .buttons > button[aria-label^="` + label + ` · ` + prefix + `"]`)
}

// readToast is a page function: the text of the newest toast of kind
// that no earlier call returned (a toast stays up for seconds, past the
// next click), or null.
const readToast = `(kind) => {
  const read = (window.readToasts ??= new WeakSet());
  const el = [...document.querySelectorAll('#toasts .toast-' + kind)].filter((e) => !read.has(e)).at(-1);
  if (!el) return null;
  read.add(el);
  return el.textContent;
}`

// toast waits for a new toast of kind (success, info, error, ...) and
// returns its text.
func (b *tab) toast(kind string) string {
	b.t.Helper()
	return poll[string](b, "a new "+kind+" toast", readToast, kind)
}

// choose picks value in the select sel as the browser does when a person
// picks an option (headless Chromium draws no list of options to click):
// the value changes, then a change event.
func (b *tab) choose(sel, value string) {
	b.t.Helper()
	poll[bool](b, sel, `(sel, value) => {
  const el = document.querySelector(sel);
  if (!el || ![...el.options].some((o) => o.value === value)) return false;
  el.value = value;
  el.dispatchEvent(new Event('change', { bubbles: true }));
  return true;
}`, sel, value)
}

// shot writes a PNG of what the tab shows now as name.png.
func (b *tab) shot(name string) {
	b.t.Helper()
	// Nothing may be caught mid-change: the card that changed stops
	// flashing, and the caret (it blinks) is out of the picture.
	b.do(chromedp.Evaluate[chromedp.Void](`document.activeElement?.blur?.(); document.querySelectorAll('.flash').forEach((e) => e.classList.remove('flash'))`))
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	require.NoError(b.t, err, "tab %s: screenshot %s", b.name, name)
	require.NoError(b.t, os.WriteFile(filepath.Join(b.dir, name+".png"), png, 0o644))
}
