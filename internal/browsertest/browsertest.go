// Package browsertest drives a headless Chromium (Debian's, found by
// testenv.Browser) for the browser tests of cardflow's pages: the chat
// simulator and the console. Every wait is bounded (Wait), and so is a
// test's whole browser session (Session), so a page that never shows what
// a step waits for fails the test with the step's error, and a screenshot
// of the tab as it failed, instead of hanging it.
package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// Wait bounds one wait for the page: generous, since CI runs the server
// under the race detector on two cores, and a wait that ends early ends at
// once.
const Wait = 20 * time.Second

// Session bounds a test's whole browser session (every tab).
const Session = 4 * time.Minute

// ScreenshotsVar, set to 1, writes the tests' screenshots to the
// documentation (Options.Docs) rather than the test's artifact directory
// (go test -artifacts).
const ScreenshotsVar = "CARDFLOW_SCREENSHOTS"

// Browser is a headless Chromium a test drives.
type Browser struct {
	t       *testing.T
	ctx     context.Context
	started bool // whether the tab the browser started with shows a page
}

// New starts the headless Chromium at exec for the test, in zh-CN and the
// org's zone (Asia/Shanghai), so times on the pages match the cards'.
func New(t *testing.T, exec string) *Browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exec),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.Flag("lang", "zh-CN"),
		chromedp.Env("TZ=Asia/Shanghai"),
	)
	bounded, cancelDeadline := context.WithTimeout(t.Context(), Session)
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
	return &Browser{t: t, ctx: ctx}
}

// Options say how a tab shows its page.
type Options struct {
	Width, Height int64
	// FullPage makes Shot take the whole page, not only the viewport.
	FullPage bool
	// Script, when set, runs in the page before its own scripts.
	Script string
	// Docs is where Shot writes when ScreenshotsVar is 1, from the test's
	// package.
	Docs string
}

// Tab is one browser tab.
type Tab struct {
	T    *testing.T
	ctx  context.Context
	dir  string // where screenshots go
	name string // which tab, in failures
	full bool
}

// Open shows url in a tab: the browser's first, then new ones.
func (br *Browser) Open(name, url string, o Options) *Tab {
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
	b := &Tab{T: t, ctx: ctx, dir: screenshotDir(t, o.Docs), name: name, full: o.FullPage}
	b.Do(chromedp.EmulateViewport(o.Width, o.Height))
	if o.Script != "" {
		b.Do(func(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
				page.AddScriptToEvaluateOnNewDocumentParams{Source: o.Script})
			return chromedp.Void{}, err
		})
	}
	b.Do(chromedp.Navigate(url))
	return b
}

func screenshotDir(t *testing.T, docs string) string {
	if docs != "" && os.Getenv(ScreenshotsVar) == "1" {
		require.NoError(t, os.MkdirAll(docs, 0o755))
		return docs
	}
	return t.ArtifactDir()
}

// Do runs actions in the tab, failing the test on the first error.
func (b *Tab) Do(actions ...chromedp.Action[chromedp.Void]) {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Wait)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.Failed()
		require.NoError(b.T, err, "tab %s", b.name)
	}
}

// Failed keeps a screenshot of the tab as it was when a step failed.
func (b *Tab) Failed() {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.T.Logf("tab %s: no screenshot of the failure: %v", b.name, err)
		return
	}
	path := filepath.Join(b.T.ArtifactDir(), "failed-"+b.name+".png")
	if err := os.WriteFile(path, png, 0o644); err == nil {
		b.T.Logf("tab %s: the page as it failed: %s", b.name, path)
	}
}

// Poll waits until the page function fn, called with args, returns a
// truthy value, and decodes that value into T. It tries again on every
// change of the page; what says what it waits for, in a failure.
func Poll[T any](b *Tab, what, fn string, args ...any) T {
	b.T.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.PollFunction[T](fn,
		chromedp.WithPollingArgs(args...), chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(Wait)))
	if err != nil {
		b.Failed()
		require.NoError(b.T, err, "tab %s: waiting for %s", b.name, what)
	}
	return v
}

// Eval returns what the expression gives on the page now.
func Eval[T any](b *Tab, expr string) T {
	b.T.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	require.NoError(b.T, err, "tab %s: %s", b.name, expr)
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

type point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Click clicks with the mouse where the element sel selects is. Not on
// the element itself, as chromedp.Click does: a page that redraws a list
// as events come in replaces the element with a new one in the same place.
func (b *Tab) Click(sel string) {
	b.T.Helper()
	at := Poll[point](b, sel, where, sel)
	b.Do(chromedp.MouseClickXY(at.X, at.Y))
}

// Follow clicks the link or submit button sel and waits until the page it
// leads to has loaded.
func (b *Tab) Follow(sel string) {
	b.T.Helper()
	at := Poll[point](b, sel, where, sel)
	ctx, cancel := context.WithTimeout(b.ctx, Wait)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.MouseClickXY(at.X, at.Y)); err != nil {
		b.Failed()
		require.NoError(b.T, err, "tab %s: follow %s", b.name, sel)
	}
}

// GoTo loads url and waits for it.
func (b *Tab) GoTo(url string) {
	b.T.Helper()
	b.Do(chromedp.Navigate(url))
}

// Text waits for the element sel and returns its text.
func (b *Tab) Text(sel string) string {
	b.T.Helper()
	return Poll[string](b, sel, `(sel) => document.querySelector(sel)?.textContent ?? null`, sel)
}

// Shot writes a PNG of what the tab shows (the whole page with
// Options.FullPage) as name.png; the focused element is blurred first, so
// no blinking caret is caught.
func (b *Tab) Shot(name string) {
	b.T.Helper()
	b.Do(chromedp.Evaluate[chromedp.Void](`document.activeElement?.blur?.()`))
	shot := chromedp.CaptureScreenshot()
	if b.full {
		shot = chromedp.FullScreenshot(100)
	}
	png, err := chromedp.Run(b.ctx, shot)
	require.NoError(b.T, err, "tab %s: screenshot %s", b.name, name)
	require.NoError(b.T, os.WriteFile(filepath.Join(b.dir, name+".png"), png, 0o644))
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

// Accessible checks that the page has no control without a label and no
// image without alt text.
func (b *Tab) Accessible(page string) {
	b.T.Helper()
	require.Empty(b.T, Eval[[]string](b, "("+unlabelled+")()"), "page %s: controls without a label, images without alt text", page)
}
