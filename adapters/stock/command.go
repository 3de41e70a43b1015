package stock

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"cardflow/bot"
)

// RegisterCommands adds /stock (库存) to the chat router: a SKU's stock on
// every warehouse, answered as a card.
func RegisterCommands(r *bot.Router, store Store) {
	cmd := bot.Command{Names: []string{"/stock", "库存"},
		UsageZH: "/stock <SKU> 或 库存 <SKU>  查询各仓库存", UsageEN: "/stock <SKU>  stock on every warehouse"}
	cmd.Run = func(ctx context.Context, req bot.Request, args []string) ([]bot.Card, error) {
		if len(args) != 1 || len(args[0]) > MaxKeyLen {
			return []bot.Card{bot.UsageCard(req.Reader.Locale, cmd)}, nil
		}
		sku := args[0]
		var levels []Level
		if Storable(sku) {
			var err error
			if levels, err = store.StockOf(ctx, sku); err != nil {
				return nil, fmt.Errorf("stock: look up %s: %w", clip(sku), err)
			}
			// Merchant codes are mostly upper case; sock-3p typed on a
			// phone means SOCK-3P when only that one is known.
			if up := strings.ToUpper(sku); len(levels) == 0 && up != sku {
				if levels, err = store.StockOf(ctx, up); err != nil {
					return nil, fmt.Errorf("stock: look up %s: %w", clip(up), err)
				}
				if len(levels) > 0 {
					sku = up
				}
			}
		}
		return []bot.Card{StockCard(sku, levels, req.Reader)}, nil
	}
	r.Register(cmd)
}

// StockCard shows a SKU's rows to a reader in their language: one table
// line per warehouse, and the total. It is an alert-coloured card when a
// warehouse is oversold.
func StockCard(sku string, levels []Level, r bot.Reader) bot.Card {
	en := r.Locale == bot.LocaleEN
	pick := func(zh, english string) string {
		if en {
			return english
		}
		return zh
	}
	c := bot.Card{Subject: "stock-" + sku, Status: bot.StatusInfo, Title: pick("库存 ", "Stock ") + sku}
	if len(levels) == 0 {
		c.Title = pick("没有这个 SKU：", "No such SKU: ") + sku
		c.Text = pick("库存台账里没有这个 SKU 的记录；请核对商家编码（外部 SKU）。",
			"The stock ledger has no row for this SKU; check the merchant code (outer SKU).")
		return c
	}
	t := bot.Table{Columns: []string{pick("仓库", "Warehouse"), pick("在库", "On hand"), pick("占用", "Reserved"),
		pick("可售", "Sellable")}}
	var onHand, reserved int64
	var oversold []string
	for _, l := range levels {
		t.Rows = append(t.Rows, []string{l.Warehouse, itoa(l.OnHand), itoa(l.Reserved), itoa(l.Sellable())})
		onHand += l.OnHand
		reserved += l.Reserved
		if l.Sellable() < 0 {
			oversold = append(oversold, l.Warehouse)
		}
	}
	if len(levels) > 1 {
		t.Rows = append(t.Rows, []string{pick("合计", "Total"), itoa(onHand), itoa(reserved), itoa(onHand - reserved)})
	}
	c.Tables = []bot.Table{t}
	c.Subtitle = fmt.Sprintf(pick("%d 个仓库 · 可售 %d", "%d warehouse(s) · %d sellable"), len(levels), onHand-reserved)
	if len(oversold) > 0 {
		c.Status = bot.StatusAlert
		c.Text = pick("**超卖**：", "**Oversold** in ") + strings.Join(oversold, pick("、", ", "))
	}
	return c
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
