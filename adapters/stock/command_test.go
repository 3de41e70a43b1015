package stock_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/stock"
	"cardflow/bot"
)

func TestStockCommand(t *testing.T) {
	t.Parallel()
	b := newLedger(t, stock.Config{}, nil)
	for _, m := range []stock.Movement{
		{Source: "wms", EventID: "1", SKU: "TEA-LJ-250", Warehouse: "hz-1", Kind: stock.KindSet, Qty: 12, At: at},
		{Source: "wms", EventID: "2", SKU: "TEA-LJ-250", Warehouse: "bj-1", Kind: stock.KindSet, Qty: 1, At: at},
		{Source: "orders", EventID: "3", SKU: "TEA-LJ-250", Warehouse: "bj-1", Kind: stock.KindReserve, Qty: 3, At: at},
		{Source: "orders", EventID: "4", SKU: "TEA-LJ-250", Warehouse: "hz-1", Kind: stock.KindReserve, Qty: 2, At: at},
		{Source: "wms", EventID: "5", SKU: "CUP-01", Warehouse: "hz-1", Kind: stock.KindReceive, Qty: 4, At: at},
	} {
		b.apply(t, m, true)
	}
	router := bot.NewRouter()
	stock.RegisterCommands(router, b.store)
	tests := []struct {
		name   string
		locale bot.Locale
		text   string
		want   bot.Card
	}{
		{name: "two warehouses, one oversold, in Chinese", locale: bot.LocaleZH, text: "库存 TEA-LJ-250", want: bot.Card{
			Subject: "stock-TEA-LJ-250", Status: bot.StatusAlert, Title: "库存 TEA-LJ-250", Subtitle: "2 个仓库 · 可售 8",
			Text: "**超卖**：bj-1",
			Tables: []bot.Table{{Columns: []string{"仓库", "在库", "占用", "可售"},
				Rows: [][]string{{"bj-1", "1", "3", "-2"}, {"hz-1", "12", "2", "10"}, {"合计", "13", "5", "8"}}}},
		}},
		{name: "one warehouse, in English", locale: bot.LocaleEN, text: "/stock CUP-01", want: bot.Card{
			Subject: "stock-CUP-01", Status: bot.StatusInfo, Title: "Stock CUP-01", Subtitle: "1 warehouse(s) · 4 sellable",
			Tables: []bot.Table{{Columns: []string{"Warehouse", "On hand", "Reserved", "Sellable"},
				Rows: [][]string{{"hz-1", "4", "0", "4"}}}},
		}},
		{name: "typed in lower case, full-width, glued", locale: bot.LocaleEN, text: "库存ｃｕｐ－０１", want: bot.Card{
			Subject: "stock-CUP-01", Status: bot.StatusInfo, Title: "Stock CUP-01", Subtitle: "1 warehouse(s) · 4 sellable",
			Tables: []bot.Table{{Columns: []string{"Warehouse", "On hand", "Reserved", "Sellable"},
				Rows: [][]string{{"hz-1", "4", "0", "4"}}}},
		}},
		{name: "an unknown SKU", locale: bot.LocaleZH, text: "/stock NOPE", want: bot.Card{
			Subject: "stock-NOPE", Status: bot.StatusInfo, Title: "没有这个 SKU：NOPE",
			Text: "库存台账里没有这个 SKU 的记录；请核对商家编码（外部 SKU）。",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cards, err := router.Handle(t.Context(), bot.Request{Reader: bot.Reader{UserID: "u_feng", Locale: tt.locale},
				Message: bot.Message{Text: tt.text}})
			require.NoError(t, err)
			require.Equal(t, []bot.Card{tt.want}, cards)
		})
	}

}

func TestStockCommandUsageAndFailure(t *testing.T) {
	t.Parallel()
	store := newMemStore()
	router := bot.NewRouter()
	stock.RegisterCommands(router, store)
	ask := func(text string) ([]bot.Card, error) {
		return router.Handle(t.Context(), bot.Request{Reader: bot.Reader{Locale: bot.LocaleEN}, Message: bot.Message{Text: text}})
	}
	for _, text := range []string{"/stock", "/stock A B", "库存 " + strings.Repeat("x", 129)} {
		cards, err := ask(text)
		require.NoError(t, err)
		require.Equal(t, "Usage", cards[0].Title, text)
	}
	store.fail = errStoreDown
	cards, err := ask("/stock CUP-01")
	require.NoError(t, err, "the router answers a failed command with its error card")
	require.Equal(t, "error", cards[0].Subject)
}
