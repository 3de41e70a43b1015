package sim_test

import (
	"context"
	"net"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"cardflow/app"
	"cardflow/config"
	"cardflow/internal/browsertest"
)

// screenshotDocs is where the screenshots go with CARDFLOW_SCREENSHOTS=1,
// from this package.
const screenshotDocs = "../../docs/screenshots"

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

// tab is a browser tab showing the simulator.
type tab struct{ *browsertest.Tab }

// open shows url (the simulator, with #user=<sim id> to pick someone) in a
// tab of br. before, when set, runs in the page before its scripts.
func open(br *browsertest.Browser, name, url, before string) tab {
	return tab{br.Open(name, url, browsertest.Options{Width: pageWidth, Height: pageHeight, Script: before, Docs: screenshotDocs})}
}

// pick clicks a person in the list on the left and waits until their
// conversation is shown.
func (b tab) pick(name string) {
	b.T.Helper()
	b.Click(`#people button.entry[aria-label^="` + name + ` · "]`)
	browsertest.Poll[bool](b.Tab, name+"'s conversation", `(name) => document.getElementById('conv-title').textContent === name &&
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
func (b tab) card(prefix, status string) cardView {
	b.T.Helper()
	what := "the card " + prefix + "… to be open"
	if status != "" {
		what = "the card " + prefix + "… to be closed with " + status
	}
	return browsertest.Poll[cardView](b.Tab, what, readCard, cardWant{Prefix: prefix, Status: status})
}

// reply waits for the bot's answer titled title and returns what it shows.
func (b tab) reply(title string) cardView {
	b.T.Helper()
	return browsertest.Poll[cardView](b.Tab, "the reply "+title, readCard, cardWant{Prefix: title, Any: true})
}

// press clicks the button labelled label on the card titled prefix….
func (b tab) press(label, prefix string) {
	b.T.Helper()
	b.Click(`#log .card-actions > .buttons > button[aria-label^="` + label + ` · ` + prefix + `"]`)
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
func (b tab) toast(kind string) string {
	b.T.Helper()
	return browsertest.Poll[string](b.Tab, "a new "+kind+" toast", readToast, kind)
}

// choose picks value in the select sel as the browser does when a person
// picks an option (headless Chromium draws no list of options to click):
// the value changes, then a change event.
func (b tab) choose(sel, value string) {
	b.T.Helper()
	browsertest.Poll[bool](b.Tab, sel, `(sel, value) => {
  const el = document.querySelector(sel);
  if (!el || ![...el.options].some((o) => o.value === value)) return false;
  el.value = value;
  el.dispatchEvent(new Event('change', { bubbles: true }));
  return true;
}`, sel, value)
}

// shot writes a PNG of what the tab shows now as name.png, with the card
// that changed no longer flashing: nothing is caught mid-change.
func (b tab) shot(name string) {
	b.T.Helper()
	b.Do(chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('.flash').forEach((e) => e.classList.remove('flash'))`))
	b.Shot(name)
}
