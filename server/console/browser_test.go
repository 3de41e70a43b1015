package console_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"cardflow/bot/sim"
	"cardflow/internal/browsertest"
	"cardflow/internal/testenv"
	"cardflow/queue"
)

const order = "订单履约 · TM-1001"

// startOrderAPI files 陈's order TM-1001 of ¥6,800 over the API and
// returns the instance id.
func startOrderAPI(t *testing.T, base string) string { return startOrderNo(t, base, "TM-1001") }

// startOrderNo is startOrderAPI for the order numbered no.
func startOrderNo(t *testing.T, base, no string) string {
	t.Helper()
	body := `{"flow_id":"order_fulfilment","applicant":"u_chen","form":{"order_no":"` + no + `","platform":"tmall","amount":"6800.00","items":[{"sku":"SKU-1","qty":2,"price":"3400.00"}]}}`
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/instances", bytes.NewBufferString(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+apiToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct {
		Result struct {
			InstanceID string `json:"instance_id"`
		} `json:"result"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.NotEmpty(t, out.Result.InstanceID)
	return out.Result.InstanceID
}

// reloadUntil loads url in tab until the page has an element sel: a page
// rendered on the server shows what came after it only when loaded again.
// It fails the test after browsertest.Wait.
func reloadUntil(tab *browsertest.Tab, url, sel string) {
	tab.T.Helper()
	q, err := json.Marshal(sel)
	require.NoError(tab.T, err)
	deadline := time.Now().Add(browsertest.Wait)
	for {
		tab.GoTo(url)
		if browsertest.Eval[bool](tab, `document.querySelector(`+string(q)+`) !== null`) {
			return
		}
		require.False(tab.T, time.Now().After(deadline), "no %s on %s after %s", sel, url, browsertest.Wait)
	}
}

// TestBrowserConsole walks the console in headless Chromium against the
// app as cardflow demo runs it: log in, see the dashboard, open an
// instance and its timeline, approve its task in the simulator and see
// the instance advance in the console, replay a dead letter, discard
// another, read the approval analytics and the retention page, switch to
// English; every page is checked for labels and alt text and leaves a
// screenshot.
func TestBrowserConsole(t *testing.T) {
	t.Parallel()
	chromium := testenv.Browser(t)
	base, ready := startApp(t)
	simP := ready.Platforms[sim.Name].(*sim.Platform)
	// 赵's first card fails for good: it becomes the dead letter to replay.
	// Once armed, the next card to 钱 fails too: the one to discard.
	var failed, armed atomic.Bool
	simP.FailWith(func(c sim.Call) error {
		if c.To.UserID == "u_zhao" && failed.CompareAndSwap(false, true) {
			return queue.Permanent(errors.New("sim: user u_zhao is not reachable"))
		}
		if c.To.UserID == "u_qian" && armed.CompareAndSwap(true, false) {
			return queue.Permanent(errors.New("sim: user u_qian is not reachable"))
		}
		return nil
	})
	id := startOrderAPI(t, base)
	br := browsertest.New(t, chromium)

	// Log in.
	con := br.Open("console", base+"/console/", browsertest.Options{Width: 1280, Height: 800, FullPage: true, Docs: screenshotDocs})
	browsertest.Poll[bool](con, "the log-in page", `() => location.pathname === '/console/login'`)
	con.Accessible("login")
	con.Shot("console-01-login")
	con.Do(chromedp.SendKeys(chromedp.CSS(`#name`), "ops"), chromedp.SendKeys(chromedp.CSS(`#password`), "wrong"))
	con.Follow(`#login`)
	require.Equal(t, "用户名或密码不正确", con.Text(`#login-error`))
	con.Do(chromedp.SendKeys(chromedp.CSS(`#password`), password))
	con.Follow(`#login`)

	// The dashboard.
	require.Equal(t, "1", con.Text(`#states tr[data-status="running"] td.num`))
	require.Contains(t, con.Text(`.actor`), "沈管理员 (u_shen)")
	con.Accessible("dashboard")
	con.Shot("console-02-dashboard")

	// The instances, and the instance with its timeline.
	con.GoTo(base + "/console/instances")
	con.Accessible("instances")
	con.Shot("console-03-instances")
	con.Follow(`#instances tr[data-id="` + id + `"] a`)
	require.Contains(t, con.Text(`#inst-title`), order)
	require.Contains(t, con.Text(`dl.form`), "¥6,800.00")
	require.Equal(t, "进行中", con.Text(`#inst-status`))
	require.Contains(t, con.Text(`#current li[data-step]`), "财务确认")
	require.Contains(t, con.Text(`#timeline li[data-action="start"]`), "发起")
	require.Contains(t, con.Text(`#timeline li[data-action="start"]`), "陈客服主管")
	con.Accessible("instance")
	con.Shot("console-04-instance")

	// 钱 approves in the simulator; the console shows the next step.
	qian := br.Open("sim-qian", base+"/sim/#user=qian", browsertest.Options{Width: 1280, Height: 800, FullPage: true, Docs: screenshotDocs})
	press := `#log .card-actions > .buttons > button[aria-label^="同意 · ` + order + `"]`
	qian.Click(press)
	require.Equal(t, "已同意", browsertest.Poll[string](qian, "the toast", `() => document.querySelector('#toasts .toast-success')?.textContent ?? null`))
	con.GoTo(base + "/console/instances/" + id)
	require.Contains(t, con.Text(`#current li[data-step]`), "销售总监审批", "the instance moved on to the director")
	require.Contains(t, con.Text(`#timeline li[data-action="approve"]`), "钱多多")
	require.Contains(t, con.Text(`#cards`), "钱多多", "the cards sent, to whom")
	con.Shot("console-05-instance-advanced")

	// The other pages.
	for _, p := range []struct{ name, path, want string }{
		{"console-06-tasks", "/console/tasks", `#tasks tr[data-task]`},
		{"console-07-flows", "/console/flows", `#flows tr[data-flow="order_fulfilment"]`},
		{"console-08-flow", "/console/flows/order_fulfilment", `.version[data-version="1"] svg[role=img] g.changed[data-step="pack"]`},
		{"console-09-alerts", "/console/alerts", `h1`},
		{"console-10-org", "/console/org", `#users tr[data-user="u_qian"]`},
	} {
		con.GoTo(base + p.path)
		con.Text(p.want)
		con.Accessible(p.name)
		con.Shot(p.name)
	}

	// Replay 赵's dead letter: her card arrives in the simulator.
	require.NoError(t, simP.Wait(bounded(t), func() bool { return failed.Load() }))
	reloadUntil(con, base+"/console/deadletters", `#deadletters tr[data-id]`)
	require.Contains(t, con.Text(`#deadletters td[data-label="最后错误"]`), "u_zhao is not reachable")
	con.Accessible("deadletters")
	con.Shot("console-11-deadletters")
	con.Follow(`#deadletters a[href^="/console/deadletters/view?topic=notify&"]`)
	require.Contains(t, con.Text(`#payload`), `"recipient": "u_zhao"`)
	con.Accessible("deadletter")
	con.Shot("console-12-deadletter")
	con.Follow(`#replay`)
	require.Equal(t, "已重新投递", con.Text(`.flash`))
	require.NoError(t, simP.Wait(bounded(t), func() bool {
		for _, c := range simP.Calls() {
			if c.To.UserID == "u_zhao" && c.Err == nil && c.MessageID != "" {
				return true
			}
		}
		return false
	}), "the replayed card reaches 赵")
	con.GoTo(base + "/console/")
	require.Equal(t, "1", con.Text(`#sends tr[data-platform="sim"] td:nth-child(3)`), "the failed send is counted")
	require.Equal(t, "聊天模拟器", con.Text(`#sends tr[data-platform="sim"] td:nth-child(1)`), "the platform in words")

	// A second order's card to 钱 fails for good; discard it.
	armed.Store(true)
	startOrderNo(t, base, "TM-1002")
	require.NoError(t, simP.Wait(bounded(t), func() bool { return !armed.Load() }))
	reloadUntil(con, base+"/console/deadletters", `#deadletters tr[data-id]`)
	require.Contains(t, con.Text(`#deadletters td[data-label="最后错误"]`), "u_qian is not reachable")
	con.Click(`#deadletters tr[data-id] details.confirm summary`)
	require.Contains(t, con.Text(`#deadletters tr[data-id] details.confirm[open] p`), "永久删除")
	con.Accessible("deadletters discard")
	con.Shot("console-14-deadletter-discard")
	con.Follow(`#deadletters tr[data-id] details.confirm button`)
	require.Equal(t, "已丢弃", con.Text(`.flash`))
	con.Text(`#no-deadletters`)

	// The approval analytics: 钱's decision on TM-1001, TM-1002 waiting.
	con.GoTo(base + "/console/analytics")
	require.Equal(t, "2", con.Text(`.an-flow[data-flow="order_fulfilment"] .an-instances td[data-k="started"]`))
	require.Equal(t, "1", con.Text(`.an-flow[data-flow="order_fulfilment"] .an-steps tr[data-name="财务确认"] td[data-k="decided"]`))
	require.Contains(t, browsertest.Eval[string](con, `document.querySelector('.an-flow[data-flow="order_fulfilment"] svg[role=img]').getAttribute('aria-label')`),
		"财务确认 中位数")
	con.Accessible("analytics")
	con.Shot("console-analytics")
	con.GoTo(base + "/console/retention")
	require.Equal(t, "永久保留", con.Text(`#retention tr:last-child td[data-k="for"]`))
	con.Accessible("retention")
	con.Shot("console-retention")

	// The route preview on the flow page: an order over ¥5,000 goes to the
	// sales director; nothing is started.
	form := `{"order_no":"TM-2001","platform":"tmall","amount":"6800.00","items":[{"sku":"SKU-1","qty":2,"price":"3400.00"}]}`
	con.GoTo(base + "/console/flows/order_fulfilment?" + url.Values{"applicant": {"u_chen"}, "form": {form}}.Encode() + "#forecast")
	require.Contains(t, con.Text(`#forecast-steps`), "周总监")
	con.Accessible("forecast")
	con.Shot("console-forecast")

	// Switch to English.
	con.GoTo(base + "/console/instances/" + id)
	con.Follow(`#lang`)
	browsertest.Poll[bool](con, "the English page", `() => document.getElementById('h-timeline')?.textContent === 'Timeline'`)
	require.Equal(t, "Running", con.Text(`#inst-status`))
	require.Equal(t, "en", browsertest.Eval[string](con, `document.documentElement.lang`))
	con.Accessible("instance (en)")
	con.Shot("console-13-instance-en")
	con.Follow(`#lang`)
	browsertest.Poll[bool](con, "the Chinese page", `() => document.getElementById('h-timeline')?.textContent === '审批记录'`)
}

// TestBrowserConsolePhone: on a phone 390 px wide the menu folds away, the
// page never scrolls sideways and tables stack.
func TestBrowserConsolePhone(t *testing.T) {
	t.Parallel()
	chromium := testenv.Browser(t)
	base, _ := startApp(t)
	id := startOrderAPI(t, base)
	br := browsertest.New(t, chromium)
	ph := br.Open("phone", base+"/console/login", browsertest.Options{Width: 390, Height: 844, FullPage: true, Docs: screenshotDocs})
	ph.Do(chromedp.SendKeys(chromedp.CSS(`#name`), "ops"), chromedp.SendKeys(chromedp.CSS(`#password`), password))
	ph.Follow(`#login`)
	ph.Text(`#states`)
	require.False(t, browsertest.Eval[bool](ph, `document.querySelector('#menu nav').checkVisibility()`), "the menu is folded")
	require.LessOrEqual(t, browsertest.Eval[int](ph, `document.documentElement.scrollWidth`), 390, "nothing is wider than the screen")
	ph.Shot("console-phone-01-dashboard")
	ph.Click(`#menu summary`)
	browsertest.Poll[bool](ph, "the menu to open", `() => document.querySelector('#menu nav').checkVisibility()`)
	ph.Accessible("phone menu")
	ph.Shot("console-phone-02-menu")
	reloadUntil(ph, base+"/console/instances/"+id, `#cards tbody tr`)
	ph.Text(`#timeline`)
	require.LessOrEqual(t, browsertest.Eval[int](ph, `document.documentElement.scrollWidth`), 390)
	require.Equal(t, "block", browsertest.Eval[string](ph, `getComputedStyle(document.querySelector('#cards tbody tr')).display`),
		"a card's row stacks")
	ph.Shot("console-phone-03-instance")
	ph.GoTo(base + "/console/tasks")
	ph.Text(`#tasks`)
	require.LessOrEqual(t, browsertest.Eval[int](ph, `document.documentElement.scrollWidth`), 390)
	ph.Shot("console-phone-04-tasks")
	ph.GoTo(base + "/console/analytics")
	ph.Text(`.an-flow[data-flow="order_fulfilment"] .an-instances`)
	require.LessOrEqual(t, browsertest.Eval[int](ph, `document.documentElement.scrollWidth`), 390, "charts scroll within themselves")
	ph.Shot("console-phone-05-analytics")
}
