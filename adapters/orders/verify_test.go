package orders_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/orders"
)

func TestSignVector(t *testing.T) {
	t.Parallel()
	// Computed independently: printf '1700000000.{"order_no":"1"}' |
	//   openssl dgst -sha256 -hmac whsec-test
	got := orders.Sign([]byte("whsec-test"), 1700000000, []byte(`{"order_no":"1"}`))
	require.Equal(t, "sha256=1b894f5b1ad7c64b7c29283535b9644d28fbe9d1baa3fc135b782b4b6dab9fba", got)
}

func TestVerify(t *testing.T) {
	t.Parallel()
	secret := []byte("whsec-test")
	body := []byte(`{"order_no":"1"}`)
	now := time.Unix(1700000000, 0)
	signed := func(ts int64, b []byte) http.Header {
		h := http.Header{}
		h.Set(orders.HeaderTimestamp, strconv.FormatInt(ts, 10))
		h.Set(orders.HeaderSignature, orders.Sign(secret, ts, b))
		return h
	}
	tests := []struct {
		name string
		h    http.Header
		body []byte
		want error
	}{
		{name: "good", h: signed(now.Unix(), body), body: body},
		{name: "4 minutes old", h: signed(now.Unix()-240, body), body: body},
		{name: "6 minutes old", h: signed(now.Unix()-360, body), body: body, want: orders.ErrStale},
		{name: "6 minutes ahead", h: signed(now.Unix()+360, body), body: body, want: orders.ErrStale},
		{name: "body changed", h: signed(now.Unix(), body), body: []byte(`{"order_no":"2"}`), want: orders.ErrBadSignature},
		{name: "timestamp moved", h: func() http.Header {
			h := signed(now.Unix()-360, body)
			h.Set(orders.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
			return h
		}(), body: body, want: orders.ErrBadSignature},
		{name: "no headers", h: http.Header{}, body: body, want: orders.ErrNoSignature},
		{name: "timestamp not a number", h: func() http.Header {
			h := signed(now.Unix(), body)
			h.Set(orders.HeaderTimestamp, "yesterday")
			return h
		}(), body: body, want: orders.ErrStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := orders.Verify(tt.h, tt.body, secret, now)
			if tt.want == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.want)
			}
		})
	}
}

func TestDouyinPush(t *testing.T) {
	t.Parallel()
	body := []byte(`[{"tag":"101","msg_id":"7381234567890","data":"{\"p_id\":6923456789012345678,\"s_ids\":[6923456789012345678],\"shop_id\":4463798,\"order_status\":105,\"pay_amount\":8900,\"pay_time\":1718702460}"},` +
		`{"tag":"999","msg_id":"1","data":"{}"}]`)
	h := http.Header{}
	h.Set("app-id", "7000000000000000001")
	h.Set("event-sign", orders.DouyinSign("7000000000000000001", "dy-secret", body))
	require.NoError(t, orders.VerifyDouyin(h, body, "7000000000000000001", "dy-secret"))
	require.ErrorIs(t, orders.VerifyDouyin(h, body, "7000000000000000001", "other"), orders.ErrBadSignature)
	require.ErrorIs(t, orders.VerifyDouyin(h, append(body, ' '), "7000000000000000001", "dy-secret"), orders.ErrBadSignature)
	h2 := h.Clone()
	h2.Set("app-id", "7000000000000000002")
	require.ErrorIs(t, orders.VerifyDouyin(h2, body, "7000000000000000001", "dy-secret"), orders.ErrBadSignature)

	now := time.Unix(1718702461, 0)
	evs, err := orders.DouyinPush(body, now)
	require.NoError(t, err)
	require.Len(t, evs, 1, "tags cardflow does not act on are left out")
	require.Equal(t, orders.Event{ID: "douyin/7381234567890", Kind: orders.EventPaid, At: now, Order: orders.Order{
		Platform: "douyin", Shop: "4463798", No: "6923456789012345678", Status: orders.StatusPaid, PlatformStatus: "105", Paid: 8900}}, evs[0])

	_, err = orders.DouyinPush([]byte(`[{"tag":"101","data":"{\"p_id\":1}"},{"tag":"102","msg_id":"9","data":"not json"}]`), now)
	require.ErrorContains(t, err, "message 0: no msg_id")
	require.ErrorContains(t, err, "message 1 (tag 102): data:")
}

func TestOrderEventIDFollowsState(t *testing.T) {
	t.Parallel()
	o, err := orders.Generic(sample(t, "generic.json"))
	require.NoError(t, err)
	now := time.Now()
	a, b := orders.OrderEvent("erp", o, now), orders.OrderEvent("erp", o, now.Add(time.Minute))
	require.Equal(t, a.ID, b.ID, "one state sent twice is one event")
	require.Equal(t, orders.EventPaid, a.Kind)
	o.Refund = orders.RefundRequested
	c := orders.OrderEvent("erp", o, now)
	require.NotEqual(t, a.ID, c.ID)
	require.Equal(t, orders.EventRefundRequested, c.Kind)
}
