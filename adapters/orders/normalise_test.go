package orders_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/orders"
)

var china = time.FixedZone("CST", 8*3600)

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// TestNormaliseSamples reads the sample payloads of ../shared/orders.md §4
// (invented values in each platform's documented shape).
func TestNormaliseSamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		format string
		file   string
		want   orders.Order
	}{
		{name: "taobao trade.fullinfo.get", format: "taobao", file: "taobao_fullinfo.json", want: orders.Order{
			Platform: "taobao", Shop: "云栖旗舰店", No: "4012345678901234567", Status: orders.StatusPaid,
			PlatformStatus: "WAIT_SELLER_SEND_GOODS", Total: 19800, Paid: 18800, Discount: 1000, Buyer: "t**1",
			Province: "浙江省", City: "杭州市",
			Lines:     []orders.Line{{SKU: "5123456789012", OuterSKU: "TS-BLK-L", Title: "纯棉T恤 黑 L", Qty: 2, Price: 9900, Paid: 18800}},
			CreatedAt: time.Date(2024, 6, 18, 20, 15, 3, 0, china), PaidAt: time.Date(2024, 6, 18, 20, 15, 40, 0, china),
			UpdatedAt: time.Date(2024, 6, 18, 20, 15, 41, 0, china)}},
		{name: "jd pop.order.enGet", format: "jd", file: "jd_enget.json", want: orders.Order{
			Platform: "jd", Shop: "10012345", No: "298765432101", Status: orders.StatusPaid, PlatformStatus: "WAIT_SELLER_STOCK_OUT",
			Total: 25900, Paid: 22900, Discount: 3000, Buyer: "138****0000", Province: "广东", City: "深圳市",
			Lines:     []orders.Line{{SKU: "100012345678", OuterSKU: "MUG-350", Title: "陶瓷马克杯 350ml", Qty: 2, Price: 12950}},
			CreatedAt: time.Date(2024, 6, 18, 21, 2, 11, 0, china), PaidAt: time.Date(2024, 6, 18, 21, 2, 30, 0, china)}},
		{name: "pdd order.information.get, amounts as JSON numbers", format: "pdd", file: "pdd_information.json", want: orders.Order{
			Platform: "pdd", Shop: "778899", No: "240618-512345678901234", Status: orders.StatusPaid, PlatformStatus: "1",
			Total: 4980, Paid: 4580, Discount: 400, Buyer: "李*", Province: "四川省", City: "成都市",
			Lines:     []orders.Line{{SKU: "987654321", OuterSKU: "SOCK-3P", Title: "棉袜三双装", Qty: 2, Price: 2490}},
			CreatedAt: time.Date(2024, 6, 18, 9, 12, 0, 0, china), PaidAt: time.Date(2024, 6, 18, 9, 12, 30, 0, china)}},
		{name: "douyin order.orderDetail, fen and Unix seconds", format: "douyin", file: "douyin_detail.json", want: orders.Order{
			Platform: "douyin", Shop: "4463798", No: "6923456789012345678", Status: orders.StatusPaid, PlatformStatus: "105",
			Total: 9900, Paid: 8900, Discount: 1000, Buyer: "王**", Province: "江苏省", City: "南京市",
			Lines:     []orders.Line{{SKU: "1790000000001", OuterSKU: "CUP-WHT", Title: "白色保温杯", Qty: 1, Price: 9900, Paid: 8900}},
			CreatedAt: time.Unix(1718702400, 0).In(china), PaidAt: time.Unix(1718702460, 0).In(china),
			UpdatedAt: time.Unix(1718702461, 0).In(china)}},
		{name: "generic", format: "generic", file: "generic.json", want: orders.Order{
			Platform: "erp", Shop: "main", No: "TM-1001", Status: orders.StatusPaid, PlatformStatus: "paid",
			Total: 680000, Paid: 680000, Buyer: "陈*", Province: "浙江省", City: "杭州市",
			Lines:     []orders.Line{{SKU: "SKU-1", Title: "羊毛大衣", Qty: 2, Price: 340000}},
			CreatedAt: time.Date(2026, 11, 30, 9, 0, 0, 0, china), PaidAt: time.Date(2026, 11, 30, 9, 1, 0, 0, china)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := orders.Normalisers[tt.format](sample(t, tt.file))
			require.NoError(t, err)
			for _, p := range []*time.Time{&got.CreatedAt, &got.PaidAt, &got.ShippedAt, &got.UpdatedAt} {
				if !p.IsZero() {
					*p = p.In(china)
				}
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestNormaliseRefusesWithEveryReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		format string
		body   string
		want   []string
	}{
		{name: "taobao float-ish and unknown status", format: "taobao",
			body: `{"trade":{"tid":1,"status":"SHIPPED","payment":"1.005","created":"18/06/2024","orders":[{"num":0,"price":"x"}]}}`,
			want: []string{`status "SHIPPED": not a Taobao trade status`, `payment: amount "1.005": more than two decimals`,
				`created "18/06/2024": expected a time such as 2024-06-18 20:15:03`, `orders[0].num "0": expected a positive whole quantity`,
				`orders[0].price: amount "x": not an amount in yuan such as 188.00`}},
		{name: "douyin fen with decimals", format: "douyin",
			body: `{"data":{"shop_order_detail":{"order_id":"1","order_status":105,"pay_amount":89.5}}}`,
			want: []string{`pay_amount: amount "89.5": not a whole number of fen`}},
		{name: "pdd unknown status", format: "pdd", body: `{"order_info":{"order_sn":"a","order_status":9}}`,
			want: []string{`order_status "9": not a PDD order status (1, 2 or 3)`}},
		{name: "jd object where a string belongs", format: "jd", body: `{"orderInfo":{"orderId":{"x":1}}}`,
			want: []string{"jd: expected a string or a number"}},
		{name: "generic misspelt field", format: "generic", body: `{"order_no":"1","status":"paid","amout":"1.00"}`,
			want: []string{`unknown field "amout"`}},
		{name: "generic negative amount", format: "generic", body: `{"order_no":"1","platform":"erp","status":"paid","paid":"-1.00"}`,
			want: []string{`paid: amount "-1.00": not an amount in yuan`}},
		{name: "no order at all", format: "taobao", body: `{}`, want: []string{"taobao: no trade"}},
		{name: "not JSON", format: "douyin", body: `<xml/>`, want: []string{"douyin: invalid character"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := orders.Normalisers[tt.format]([]byte(tt.body))
			require.Error(t, err)
			for _, w := range tt.want {
				require.ErrorContains(t, err, w)
			}
		})
	}
}

func TestBigIDsKeepEveryDigit(t *testing.T) {
	t.Parallel()
	// 2^63-1 and a Douyin id beyond float64's 53 bits of precision.
	o, err := orders.Taobao([]byte(`{"trade":{"tid":9223372036854775807,"status":"TRADE_FINISHED","orders":[{"sku_id":6923456789012345679,"num":1,"price":"1"}]}}`))
	require.NoError(t, err)
	require.Equal(t, "9223372036854775807", o.No)
	require.Equal(t, "6923456789012345679", o.Lines[0].SKU)
}

func TestMoney(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		fen  orders.Money
		text string
	}{{"188.00", 18800, "¥188.00"}, {"45.8", 4580, "¥45.80"}, {"0", 0, "¥0.00"}, {"6800", 680000, "¥6,800.00"},
		{"1234567.10", 123456710, "¥1,234,567.10"}, {"4.000", 400, "¥4.00"}} {
		m, err := orders.ParseYuan(tt.in)
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.fen, m, tt.in)
		require.Equal(t, tt.text, m.String())
	}
	for _, bad := range []string{"", "1e3", "+1", "-1", "1.001", "abc", "1000000000001"} {
		_, err := orders.ParseYuan(bad)
		require.Error(t, err, bad)
	}
}
