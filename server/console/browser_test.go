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
	br := newBrowser(t, chromium)

	// Log in.
	con := br.open("console", base+"/console/", 1280, 800)
	poll[bool](con, "the log-in page", `() => location.pathname === '/console/login'`)
	con.accessible("login")
	con.shot("console-01-login")
	con.do(chromedp.SendKeys(chromedp.CSS(`#name`), "ops"), chromedp.SendKeys(chromedp.CSS(`#password`), "wrong"))
	con.follow(`#login`)
	require.Equal(t, "用户名或密码不正确", con.text(`#login-error`))
	con.do(chromedp.SendKeys(chromedp.CSS(`#password`), password))
	con.follow(`#login`)

	// The dashboard.
	require.Equal(t, "1", con.text(`#states tr[data-status="running"] td.num`))
	require.Contains(t, con.text(`.actor`), "沈管理员 (u_shen)")
	con.accessible("dashboard")
	con.shot("console-02-dashboard")

	// The instances, and the instance with its timeline.
	con.goTo(base + "/console/instances")
	con.accessible("instances")
	con.shot("console-03-instances")
	con.follow(`#instances tr[data-id="` + id + `"] a`)
	require.Contains(t, con.text(`#inst-title`), order)
	require.Contains(t, con.text(`dl.form`), "¥6,800.00")
	require.Equal(t, "进行中", con.text(`#inst-status`))
	require.Contains(t, con.text(`#current li[data-step]`), "财务确认")
	require.Contains(t, con.text(`#timeline li[data-action="start"]`), "发起")
	require.Contains(t, con.text(`#timeline li[data-action="start"]`), "陈客服主管")
	con.accessible("instance")
	con.shot("console-04-instance")

	// 钱 approves in the simulator; the console shows the next step.
	qian := br.open("sim-qian", base+"/sim/#user=qian", 1280, 800)
	press := `#log .card-actions > .buttons > button[aria-label^="同意 · ` + order + `"]`
	qian.click(press)
	require.Equal(t, "已同意", poll[string](qian, "the toast", `() => document.querySelector('#toasts .toast-success')?.textContent ?? null`))
	con.goTo(base + "/console/instances/" + id)
	require.Contains(t, con.text(`#current li[data-step]`), "销售总监审批", "the instance moved on to the director")
	require.Contains(t, con.text(`#timeline li[data-action="approve"]`), "钱多多")
	require.Contains(t, con.text(`#cards`), "钱多多", "the cards sent, to whom")
	con.shot("console-05-instance-advanced")

	// The other pages.
	for _, p := range []struct{ name, path, want string }{
		{"console-06-tasks", "/console/tasks", `#tasks tr[data-task]`},
		{"console-07-flows", "/console/flows", `#flows tr[data-flow="order_fulfilment"]`},
		{"console-08-flow", "/console/flows/order_fulfilment", `.version[data-version="1"] svg[role=img] g.changed[data-step="pack"]`},
		{"console-09-alerts", "/console/alerts", `h1`},
		{"console-10-org", "/console/org", `#users tr[data-user="u_qian"]`},
	} {
		con.goTo(base + p.path)
		con.text(p.want)
		con.accessible(p.name)
		con.shot(p.name)
	}

	// Replay 赵's dead letter: her card arrives in the simulator.
	require.NoError(t, simP.Wait(bounded(t), func() bool { return failed.Load() }))
	deadline := time.Now().Add(browserWait)
	for {
		con.goTo(base + "/console/deadletters")
		if eval[bool](con, `document.querySelector('#deadletters tr[data-id]') !== null`) || time.Now().After(deadline) {
			break
		}
	}
	require.Contains(t, con.text(`#deadletters td[data-label="最后错误"]`), "u_zhao is not reachable")
	con.accessible("deadletters")
	con.shot("console-11-deadletters")
	con.follow(`#deadletters a[href^="/console/deadletters/view?topic=notify&"]`)
	require.Contains(t, con.text(`#payload`), `"recipient": "u_zhao"`)
	con.accessible("deadletter")
	con.shot("console-12-deadletter")
	con.follow(`#replay`)
	require.Equal(t, "已重新投递", con.text(`.flash`))
	require.NoError(t, simP.Wait(bounded(t), func() bool {
		for _, c := range simP.Calls() {
			if c.To.UserID == "u_zhao" && c.Err == nil && c.MessageID != "" {
				return true
			}
		}
		return false
	}), "the replayed card reaches 赵")
	con.goTo(base + "/console/")
	require.Equal(t, "1", con.text(`#sends tr[data-platform="sim"] td:nth-child(3)`), "the failed send is counted")

	// A second order's card to 钱 fails for good; discard it.
	armed.Store(true)
	startOrderNo(t, base, "TM-1002")
	require.NoError(t, simP.Wait(bounded(t), func() bool { return !armed.Load() }))
	deadline = time.Now().Add(browserWait)
	for {
		con.goTo(base + "/console/deadletters")
		if eval[bool](con, `document.querySelector('#deadletters tr[data-id]') !== null`) || time.Now().After(deadline) {
			break
		}
	}
	require.Contains(t, con.text(`#deadletters td[data-label="最后错误"]`), "u_qian is not reachable")
	con.click(`#deadletters tr[data-id] details.confirm summary`)
	require.Contains(t, con.text(`#deadletters tr[data-id] details.confirm[open] p`), "永久删除")
	con.accessible("deadletters discard")
	con.shot("console-14-deadletter-discard")
	con.follow(`#deadletters tr[data-id] details.confirm button`)
	require.Equal(t, "已丢弃", con.text(`.flash`))
	con.text(`#no-deadletters`)

	// The approval analytics: 钱's decision on TM-1001, TM-1002 waiting.
	con.goTo(base + "/console/analytics")
	require.Equal(t, "2", con.text(`.an-flow[data-flow="order_fulfilment"] .an-instances td[data-k="started"]`))
	require.Equal(t, "1", con.text(`.an-flow[data-flow="order_fulfilment"] .an-steps tr[data-name="财务确认"] td[data-k="decided"]`))
	require.Contains(t, eval[string](con, `document.querySelector('.an-flow[data-flow="order_fulfilment"] svg[role=img]').getAttribute('aria-label')`),
		"财务确认 中位数")
	con.accessible("analytics")
	con.shot("console-analytics")
	con.goTo(base + "/console/retention")
	require.Equal(t, "永久保留", con.text(`#retention tr:last-child td[data-k="for"]`))
	con.accessible("retention")
	con.shot("console-retention")

	// The route preview on the flow page: an order over ¥5,000 goes to the
	// sales director; nothing is started.
	form := `{"order_no":"TM-2001","platform":"tmall","amount":"6800.00","items":[{"sku":"SKU-1","qty":2,"price":"3400.00"}]}`
	con.goTo(base + "/console/flows/order_fulfilment?" + url.Values{"applicant": {"u_chen"}, "form": {form}}.Encode() + "#forecast")
	require.Contains(t, con.text(`#forecast-steps`), "周总监")
	con.accessible("forecast")
	con.shot("console-forecast")

	// Switch to English.
	con.goTo(base + "/console/instances/" + id)
	con.follow(`#lang`)
	poll[bool](con, "the English page", `() => document.getElementById('h-timeline')?.textContent === 'Timeline'`)
	require.Equal(t, "Running", con.text(`#inst-status`))
	require.Equal(t, "en", eval[string](con, `document.documentElement.lang`))
	con.accessible("instance (en)")
	con.shot("console-13-instance-en")
	con.follow(`#lang`)
	poll[bool](con, "the Chinese page", `() => document.getElementById('h-timeline')?.textContent === '审批记录'`)
}

// TestBrowserConsolePhone: on a phone 390 px wide the menu folds away, the
// page never scrolls sideways and tables stack.
func TestBrowserConsolePhone(t *testing.T) {
	t.Parallel()
	chromium := testenv.Browser(t)
	base, _ := startApp(t)
	id := startOrderAPI(t, base)
	br := newBrowser(t, chromium)
	ph := br.open("phone", base+"/console/login", 390, 844)
	ph.do(chromedp.SendKeys(chromedp.CSS(`#name`), "ops"), chromedp.SendKeys(chromedp.CSS(`#password`), password))
	ph.follow(`#login`)
	ph.text(`#states`)
	require.False(t, eval[bool](ph, `document.querySelector('#menu nav').checkVisibility()`), "the menu is folded")
	require.LessOrEqual(t, eval[int](ph, `document.documentElement.scrollWidth`), 390, "nothing is wider than the screen")
	ph.shot("console-phone-01-dashboard")
	ph.click(`#menu summary`)
	poll[bool](ph, "the menu to open", `() => document.querySelector('#menu nav').checkVisibility()`)
	ph.accessible("phone menu")
	ph.shot("console-phone-02-menu")
	ph.goTo(base + "/console/instances/" + id)
	ph.text(`#timeline`)
	require.LessOrEqual(t, eval[int](ph, `document.documentElement.scrollWidth`), 390)
	require.Equal(t, "block", eval[string](ph, `getComputedStyle(document.querySelector('#cards tr') ?? document.body).display`))
	ph.shot("console-phone-03-instance")
	ph.goTo(base + "/console/tasks")
	ph.text(`#tasks`)
	require.LessOrEqual(t, eval[int](ph, `document.documentElement.scrollWidth`), 390)
	ph.shot("console-phone-04-tasks")
	ph.goTo(base + "/console/analytics")
	ph.text(`.an-flow[data-flow="order_fulfilment"] .an-instances`)
	require.LessOrEqual(t, eval[int](ph, `document.documentElement.scrollWidth`), 390, "charts scroll within themselves")
	ph.shot("console-phone-05-analytics")
}
