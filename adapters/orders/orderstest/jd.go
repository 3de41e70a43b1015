// Package orderstest holds local fakes of the shop platforms' order APIs,
// for the orders adapter's tests and the server's end-to-end tests.
package orderstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"cardflow/adapters/orders"
)

var china = time.FixedZone("CST", 8*3600)

// JD is JD's JOS router answering jingdong.pop.order.enSearch: it checks
// each request's signature with its app secret and pages through its orders
// modified within the searched window.
type JD struct {
	secret string

	mu     sync.Mutex
	orders []map[string]any // orderInfo objects, each with "modified"
	calls  int
	fail   bool
}

// NewJD returns a JOS router signing with secret; serve it with httptest.
func NewJD(secret string) *JD { return &JD{secret: secret} }

// Add adds a paid order of one mug (MUG-350, ¥25.00) modified at modified.
func (f *JD) Add(no string, modified time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.orders = append(f.orders, map[string]any{"orderId": no, "venderId": "10012345", "orderState": "WAIT_SELLER_STOCK_OUT",
		"orderPayment": "25.00", "orderStartTime": modified.In(china).Format(time.DateTime),
		"modified":     modified.In(china).Format(time.DateTime),
		"itemInfoList": []any{map[string]any{"skuId": "1", "outerSkuId": "MUG-350", "jdPrice": "25.00", "itemTotal": "1"}}})
}

// Fail makes every later request fail with 502 (true) or not.
func (f *JD) Fail(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = on
}

// Calls counts the requests served.
func (f *JD) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// ServeHTTP answers one JOS request.
func (f *JD) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	w.Header().Set("Content-Type", "application/json")
	_ = r.ParseForm()
	if f.fail {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	if r.PostForm.Get("sign") != orders.JOSSign(f.secret, r.PostForm) {
		fmt.Fprint(w, `{"error_response":{"code":"19","zh_desc":"签名错误"}}`)
		return
	}
	var q map[string]string
	_ = json.Unmarshal([]byte(r.PostForm.Get("360buy_param_json")), &q)
	start, _ := time.ParseInLocation(time.DateTime, q["start_date"], china)
	end, _ := time.ParseInLocation(time.DateTime, q["end_date"], china)
	page, _ := strconv.Atoi(q["page"])
	size, _ := strconv.Atoi(q["page_size"])
	var in []map[string]any
	for _, o := range f.orders {
		m, _ := time.ParseInLocation(time.DateTime, o["modified"].(string), china)
		if !m.Before(start) && m.Before(end) {
			in = append(in, o)
		}
	}
	from, to := min(max(page-1, 0)*size, len(in)), min(page*size, len(in))
	_ = json.NewEncoder(w).Encode(map[string]any{"jingdong_pop_order_enSearch_responce": map[string]any{"code": "0",
		"searchorderinfo_result": map[string]any{"orderTotal": len(in), "orderInfoList": in[from:to]}}})
}
