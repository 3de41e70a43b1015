package flows

import (
	"os"
	"path/filepath"
	"testing"
)

// The engine evaluates conditions and validates forms on every start and
// decision; these keep both far below its 2,000 decisions/s budget
// (see shared BENCH.md). Run: go test ./flows/ -run '^$' -bench . -benchtime 2000x -count 3

func exampleFlow(b *testing.B, name string) (*Flow, []byte) {
	b.Helper()
	src, err := os.ReadFile(filepath.Join("..", "configs", "flows", name+".yaml"))
	if err != nil {
		b.Fatal(err)
	}
	f, err := ParseFlow(name+".yaml", src)
	if err != nil {
		b.Fatal(err)
	}
	return f, src
}

func BenchmarkParseFlow(b *testing.B) {
	_, src := exampleFlow(b, "order_fulfilment")
	for b.Loop() {
		if _, err := ParseFlow("order_fulfilment.yaml", src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEval(b *testing.B) {
	f, _ := exampleFlow(b, "order_fulfilment")
	when := f.Step("director").When
	env := Env{Form: map[string]any{
		"order_no": "TM-1", "platform": "tmall", "amount": "5000.01",
		"items": []any{map[string]any{"sku": "A", "qty": 1, "price": "5000.01"}},
	}}
	for b.Loop() {
		ok, err := f.Eval(when, env)
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkValidateFormJSON(b *testing.B) {
	f, _ := exampleFlow(b, "order_fulfilment")
	raw := []byte(`{"order_no":"TM-1001","platform":"tmall","amount":5000.01,"cost":"3000","buyer_note":"请尽快发货",
		"items":[{"sku":"SKU-1","qty":2,"price":"2500.00"},{"sku":"SKU-2","qty":1,"price":0.01}]}`)
	for b.Loop() {
		if _, err := f.ValidateFormJSON(raw); err != nil {
			b.Fatal(err)
		}
	}
}
