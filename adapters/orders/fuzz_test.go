package orders_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"cardflow/adapters/orders"
)

// FuzzNormalise feeds every normaliser arbitrary bytes: none may panic, and
// what one accepts is a valid order with no negative amount.
func FuzzNormalise(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"trade":{"tid":1e400}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for format, normalise := range orders.Normalisers {
			o, err := normalise(b)
			if err != nil {
				continue
			}
			if verr := o.Validate(); verr != nil {
				t.Fatalf("%s accepted an invalid order: %v", format, verr)
			}
			for _, m := range []orders.Money{o.Total, o.Paid, o.Postage, o.Discount} {
				if m < 0 {
					t.Fatalf("%s accepted a negative amount %d", format, m)
				}
			}
		}
	})
}

// FuzzDouyinPush: the push decoder never panics, and every event it returns
// names an order and has an id.
func FuzzDouyinPush(f *testing.F) {
	f.Add([]byte(`[{"tag":"101","msg_id":"7381234567890","data":"{\"p_id\":6923456789012345678,\"shop_id\":4463798,\"order_status\":105,\"pay_amount\":8900}"}]`))
	f.Add([]byte(`[{"tag":"206","msgId":"1","data":"{\"p_id\":\"1\"}"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, err := orders.DouyinPush(b, time.Unix(0, 0))
		if err != nil {
			return
		}
		for _, e := range evs {
			if e.ID == "douyin/" || e.Order.No == "" {
				t.Fatalf("event without id or order: %+v", e)
			}
		}
	})
}
