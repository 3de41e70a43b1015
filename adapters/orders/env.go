package orders

// Env is what a rule's expressions see: the order, with amounts as yuan
// decimals in strings (the flows' money format, exact: what a form gets)
// and the paid amount also as a number, for comparisons only
// (order.paid_yuan > 5000).
type Env struct {
	Order OrderEnv `expr:"order"`
}

// OrderEnv is an order as rules see it.
type OrderEnv struct {
	No       string `expr:"no"`
	Platform string `expr:"platform"`
	// Channel is the platform as the example flows' enum names it: tmall
	// for taobao, the others as they are.
	Channel  string  `expr:"channel"`
	Shop     string  `expr:"shop"`
	Status   string  `expr:"status"`
	Refund   string  `expr:"refund"`
	Paid     string  `expr:"paid"`
	Total    string  `expr:"total"`
	PaidYuan float64 `expr:"paid_yuan"`
	Buyer    string  `expr:"buyer"`
	Province string  `expr:"province"`
	City     string  `expr:"city"`
	// Items are the order's lines, each a map of sku, qty and price: what
	// a flow's table field of those columns takes.
	Items []any `expr:"items"`
	Lines int   `expr:"lines"`
}

// EnvOf is the rule environment of o.
func EnvOf(o Order) Env {
	e := OrderEnv{No: o.No, Platform: o.Platform, Channel: Channel(o.Platform), Shop: o.Shop, Status: string(o.Status),
		Refund: string(o.Refund), Paid: o.Paid.Decimal().StringFixed(2), Total: o.Total.Decimal().StringFixed(2),
		PaidYuan: o.Paid.Decimal().InexactFloat64(), Buyer: o.Buyer, Province: o.Province, City: o.City, Lines: len(o.Lines)}
	for _, l := range o.Lines {
		sku := l.OuterSKU
		if sku == "" {
			sku = l.SKU
		}
		e.Items = append(e.Items, map[string]any{"sku": sku, "qty": l.Qty, "price": l.Price.Decimal().StringFixed(2)})
	}
	return Env{Order: e}
}

// Channel is a shop platform as the example flows' platform enums name it:
// tmall for taobao, the others as they are.
func Channel(platform string) string {
	if platform == "taobao" {
		return "tmall"
	}
	return platform
}
