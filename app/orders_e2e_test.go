package app_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/orders"
	"cardflow/adapters/orders/orderstest"
	"cardflow/app"
	"cardflow/bot"
	"cardflow/bot/sim"
	"cardflow/config"
	"cardflow/flows"
)

const orderSecret = "whsec-e2e-0123456789"

// postOrder posts a signed order payload to /webhooks/orders/{source}.
func (c *chatServer) postOrder(t testing.TB, source string, body []byte) int {
	t.Helper()
	return c.postSigned(t, "/webhooks/orders/"+source, orderSecret, body)
}

// TestOrderWebhookToCard: a paid order posted by a shop's system starts the
// fulfilment flow (the example rules), whose card reaches finance in the
// simulator; the same post again starts nothing more; /order answers with
// the stored order and its instance; and, the order being over ¥5,000,
// finance's approval from the card brings it to the sales director.
func TestOrderWebhookToCard(t *testing.T) {
	t.Parallel()
	c := startChatWith(t, nil, func(cfg *config.Config) {
		cfg.Orders.Sources = []config.Secret{"tmall-main=taobao:" + orderSecret}
		cfg.Orders.RulesFile = "../configs/order_rules.example.yaml"
	})
	body := []byte(`{"trade_fullinfo_get_response":{"trade":{"tid":4012345678901234567,"status":"WAIT_SELLER_SEND_GOODS","seller_nick":"云栖旗舰店","payment":"6800.00","total_fee":"6800.00","created":"2026-11-30 09:00:00","pay_time":"2026-11-30 09:01:00","modified":"2026-11-30 09:01:00","orders":[{"sku_id":"512","outer_sku_id":"COAT-1","title":"羊毛大衣","num":2,"price":"3400.00","refund_status":"NO_REFUND"}]}}}`)
	require.Equal(t, http.StatusAccepted, c.postOrder(t, "tmall-main", body))
	card := c.waitCard(t, "qian", func(card bot.Card) bool {
		return strings.Contains(card.Title, "4012345678901234567") && len(card.Buttons) > 0
	})
	require.Equal(t, bot.StatusPending, card.Card.Status)

	require.Equal(t, http.StatusAccepted, c.postOrder(t, "tmall-main", body), "a resent post is a duplicate")
	var tasks struct {
		Tasks []struct {
			InstanceID string `json:"instance_id"`
		} `json:"tasks"`
	}
	require.Equal(t, http.StatusOK, c.do(t, http.MethodGet, "/api/v1/tasks?assignee=u_qian&status=open", nil, &tasks))
	require.Len(t, tasks.Tasks, 1, "one instance for the one order")
	var inst struct {
		Instance struct {
			CreatedAt time.Time `json:"created_at"`
		} `json:"instance"`
	}
	require.Equal(t, http.StatusOK, c.do(t, http.MethodGet, "/api/v1/instances/"+tasks.Tasks[0].InstanceID+"?viewer=u_qian", nil, &inst))
	started := inst.Instance.CreatedAt
	require.False(t, started.IsZero())
	china := time.FixedZone("CST", 8*3600)

	var said struct {
		Replies []sim.Message `json:"replies"`
	}
	// The router links the instance right after starting it, so the task
	// may show a moment before the link does; each question is an event
	// of the simulator, which wakes the wait.
	ctx, cancel := context.WithTimeout(t.Context(), patience)
	defer cancel()
	require.NoError(t, c.sim.Wait(ctx, func() bool {
		said.Replies = nil
		require.Equal(t, http.StatusOK, c.do(t, http.MethodPost, "/sim/api/message",
			map[string]any{"user": "chen", "text": "查单 4012345678901234567"}, &said))
		return len(said.Replies) == 1 && said.Replies[0].Card.Text != ""
	}), "the order card lists its instance: %+v", said.Replies)
	require.Equal(t, "订单 4012345678901234567 · ¥6,800.00", said.Replies[0].Card.Title)
	require.Equal(t, "**相关流程**\n- 订单履约 · 进行中 · "+started.In(china).Format("2006-01-02 15:04"),
		said.Replies[0].Card.Text, "the card lists the fulfilment instance the paid order started")

	// Over ¥5,000: once finance approves from the card, the sales director
	// gets it.
	reply := c.click(t, "qian", card, button(t, card.Card, flows.ActApprove), nil)
	require.Equal(t, bot.ToastSuccess, reply.Reply.Toast.Kind, "%+v", reply.Reply)
	director := c.waitCard(t, "zhou", func(card bot.Card) bool {
		return strings.Contains(card.Title, "4012345678901234567") && slices.ContainsFunc(card.Buttons, func(b bot.Button) bool {
			return b.Action == flows.ActApprove
		})
	})
	require.Equal(t, "订单履约 · 4012345678901234567 · ¥6,800.00", director.Card.Title)
}

// postSigned posts a signed body to a webhook path with secret.
func (c *chatServer) postSigned(t testing.TB, path, secret string, body []byte) int {
	t.Helper()
	ts := time.Now().Unix()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, c.base+path, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set(orders.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(orders.HeaderSignature, orders.Sign([]byte(secret), ts, body))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestPaidOrderOversellsStock: the warehouse counts one coat, a paid order
// for two reserves them, and the oversell alert opens for the warehouse's
// on-call people; /stock shows the ledger; a delivery restores the stock
// and resolves the alert.
func TestPaidOrderOversellsStock(t *testing.T) {
	t.Parallel()
	const stockSecret = "whsec-stock-0123456789"
	c := startChatWith(t, nil, func(cfg *config.Config) {
		cfg.Orders.Sources = []config.Secret{"tmall-main=taobao:" + orderSecret}
		cfg.Orders.RulesFile = "../configs/order_rules.example.yaml"
		cfg.Stock.Sources = []config.Secret{"wms=generic:" + stockSecret}
	})
	require.Equal(t, http.StatusAccepted, c.postSigned(t, "/webhooks/stock/wms", stockSecret,
		[]byte(`{"event_id":"count-1","sku":"COAT-1","warehouse":"main","kind":"set","qty":1}`)))
	order := []byte(`{"trade":{"tid":4012345678901234999,"status":"WAIT_SELLER_SEND_GOODS","seller_nick":"云栖旗舰店","payment":"6800.00","orders":[{"sku_id":"512","outer_sku_id":"COAT-1","title":"羊毛大衣","num":2,"price":"3400.00"}]}}`)
	require.Equal(t, http.StatusAccepted, c.postSigned(t, "/webhooks/orders/tmall-main", orderSecret, order))

	var tasks struct {
		Tasks []struct {
			FlowID string `json:"flow_id"`
			Title  string `json:"title"`
		} `json:"tasks"`
	}
	ctx, cancel := context.WithTimeout(t.Context(), patience)
	defer cancel()
	require.NoError(t, c.sim.Wait(ctx, func() bool {
		c.do(t, http.MethodGet, "/api/v1/tasks?assignee=u_zheng&status=open", nil, &tasks)
		return slices.ContainsFunc(tasks.Tasks, func(x struct {
			FlowID string `json:"flow_id"`
			Title  string `json:"title"`
		}) bool {
			return x.FlowID == "oversell_alert"
		})
	}), "the warehouse on call gets the oversell alert: %+v", tasks)

	var said struct {
		Replies []sim.Message `json:"replies"`
	}
	require.Equal(t, http.StatusOK, c.do(t, http.MethodPost, "/sim/api/message",
		map[string]any{"user": "zheng", "text": "库存 COAT-1"}, &said))
	require.Len(t, said.Replies, 1)
	card := said.Replies[0].Card
	require.Equal(t, bot.StatusAlert, card.Status, "oversold: %+v", card)
	require.Equal(t, [][]string{{"main", "1", "2", "-1"}}, card.Tables[0].Rows)
}

// TestJDPollerToCard: the server polls a JD shop (a local fake of the JOS
// router); the paid order it finds starts the fulfilment flow, whose card
// reaches finance in the simulator.
func TestJDPollerToCard(t *testing.T) {
	t.Parallel()
	jd := orderstest.NewJD("jd-secret-0123456789")
	srv := httptest.NewServer(jd)
	t.Cleanup(srv.Close)
	jd.Add("J-7001", time.Now().Add(-5*time.Minute))
	c := startChatWith(t, nil, func(cfg *config.Config) {
		cfg.Orders.RulesFile = "../configs/order_rules.example.yaml"
		cfg.Orders.JD = config.JDPollConfig{Shops: "10012345", Source: "jd", AppKey: "jd-app",
			AppSecret: "jd-secret-0123456789", AccessToken: "jd-token-abcdef", BaseURL: srv.URL}
	})
	card := c.waitCard(t, "qian", func(card bot.Card) bool { return strings.Contains(card.Title, "J-7001") && len(card.Buttons) > 0 })
	require.Equal(t, "订单履约 · J-7001 · ¥25.00", card.Card.Title)
	require.Positive(t, jd.Calls())
}

// TestOversellAcknowledgedThenResolvedByRestock: an order oversells a coat,
// the warehouse on call is paged (its group_wait at SLA scale 60), one of
// them acknowledges from the card, and a delivery that restores the stock
// resolves the alert: the card says so and loses its buttons.
func TestOversellAcknowledgedThenResolvedByRestock(t *testing.T) {
	t.Parallel()
	const stockSecret = "whsec-stock-0123456789"
	c := startChatRun(t, nil, func(cfg *config.Config) {
		cfg.Orders.Sources = []config.Secret{"tmall-main=taobao:" + orderSecret}
		cfg.Orders.RulesFile = "../configs/order_rules.example.yaml"
		cfg.Stock.Sources = []config.Secret{"wms=generic:" + stockSecret}
	}, app.RunOptions{SLAScale: 60})
	require.Equal(t, http.StatusAccepted, c.postSigned(t, "/webhooks/stock/wms", stockSecret,
		[]byte(`{"event_id":"count-1","sku":"COAT-1","warehouse":"main","kind":"set","qty":1}`)))
	order := []byte(`{"trade":{"tid":4012345678901230777,"status":"WAIT_SELLER_SEND_GOODS","seller_nick":"云栖旗舰店","payment":"6800.00","orders":[{"sku_id":"512","outer_sku_id":"COAT-1","title":"羊毛大衣","num":2,"price":"3400.00"}]}}`)
	require.Equal(t, http.StatusAccepted, c.postSigned(t, "/webhooks/orders/tmall-main", orderSecret, order))

	page := c.waitCard(t, "zheng", func(card bot.Card) bool {
		return strings.HasPrefix(card.Title, "超卖 · COAT-1") && slices.ContainsFunc(card.Buttons, func(b bot.Button) bool {
			return b.Action == flows.ActAcknowledge
		})
	})
	reply := c.click(t, "zheng", page, button(t, page.Card, flows.ActAcknowledge), nil)
	require.Equal(t, bot.ToastSuccess, reply.Reply.Toast.Kind, "%+v", reply.Reply)

	require.Equal(t, http.StatusAccepted, c.postSigned(t, "/webhooks/stock/wms", stockSecret,
		[]byte(`{"event_id":"delivery-1","sku":"COAT-1","warehouse":"main","kind":"receive","qty":5}`)))
	resolved := c.waitCard(t, "zheng", func(card bot.Card) bool {
		return card.Subject == page.Card.Subject && len(card.Buttons) == 0 && card.Status != bot.StatusAlert
	})
	require.Equal(t, bot.StatusDone, resolved.Card.Status)
	require.True(t, strings.HasPrefix(resolved.Card.StatusLine, "已自动恢复 · "), resolved.Card.StatusLine)
}
