package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/orders"
	"cardflow/config"
)

// TestStockPushedToShop: a server with a push target tells it each SKU's
// new sellable stock, signed like the inbound webhooks: the warehouse's
// count, then the count less a paid order's reservation.
func TestStockPushedToShop(t *testing.T) {
	t.Parallel()
	const (
		stockSecret = "whsec-stock-0123456789"
		pushSecret  = "push-secret-0123456789"
	)
	type push struct {
		SKU      string `json:"sku"`
		Sellable int64  `json:"sellable"`
		Version  int64  `json:"version"`
	}
	pushes := make(chan push, 16)
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := orders.Verify(r.Header, body, []byte(pushSecret), time.Now()); err != nil {
			t.Errorf("push not verified: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p push
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("push body: %v", err)
		}
		w.WriteHeader(http.StatusOK)
		pushes <- p
	}))
	t.Cleanup(shop.Close)
	c := startChatWith(t, nil, func(cfg *config.Config) {
		cfg.Orders.Sources = []config.Secret{"tmall-main=taobao:" + orderSecret}
		cfg.Stock.Sources = []config.Secret{"wms=generic:" + stockSecret}
		cfg.Stock.PushTargets = []config.Secret{config.Secret("tmall-bridge=" + shop.URL + "/stock#" + pushSecret)}
		cfg.Stock.PushInterval = 20 * time.Millisecond
	})
	next := func() push {
		t.Helper()
		select {
		case p := <-pushes:
			return p
		case <-time.After(patience):
			t.Fatal("no push")
			return push{}
		}
	}
	require.Equal(t, http.StatusAccepted, c.postSigned(t, "/webhooks/stock/wms", stockSecret,
		[]byte(`{"event_id":"count-1","sku":"COAT-1","warehouse":"main","kind":"set","qty":3}`)))
	require.Equal(t, push{SKU: "COAT-1", Sellable: 3, Version: 1}, next())

	order := []byte(`{"trade":{"tid":4012345678901234888,"status":"WAIT_SELLER_SEND_GOODS","seller_nick":"云栖旗舰店","payment":"6800.00","orders":[{"sku_id":"512","outer_sku_id":"COAT-1","title":"羊毛大衣","num":2,"price":"3400.00"}]}}`)
	require.Equal(t, http.StatusAccepted, c.postSigned(t, "/webhooks/orders/tmall-main", orderSecret, order))
	require.Equal(t, push{SKU: "COAT-1", Sellable: 1, Version: 2}, next())
}
