package kpi_test

import (
	"cardflow/flows"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/kpi"
	"cardflow/bot"
)

func TestFiguresCard(t *testing.T) {
	t.Parallel()
	b, _ := newBoard(t)
	figs, err := b.Figures(t.Context(), []string{"sales", "aov", "refund_rate", "roi", "turnover_days"}, kpi.Day, today, kpi.China)
	require.NoError(t, err)
	tests := []struct {
		name   string
		reader bot.Reader
		want   bot.Card
	}{
		{name: "in Chinese", reader: bot.Reader{Locale: bot.LocaleZH, Zone: kpi.China}, want: bot.Card{
			Subject: "kpi-day-20261130", Status: bot.StatusInfo, Title: "今天经营指标", Subtitle: "11月30日",
			Tables: []bot.Table{{Columns: []string{"指标", "数值", "较前一日", "较上周同日"}, Rows: [][]string{
				{"销售额", "¥150.00", "↑87.5%", "↓25.0%"},
				{"客单价", "¥75.00", "↓6.3%", "↓62.5%"},
				{"退款率", "50.0%", "—", "—"},
				{"广告 ROI", "5.00", "—", "—"},
				{"库存周转天数", "1125.0 天", "↓37.5%", "↓50.0%"},
			}}},
			Note: "退款按付款日统计：当期付款的订单中已退款的部分。 库存周转天数：近 30 天日末在库件数的平均值 ÷ 日均销售件数。",
		}},
		{name: "in English, the period read in the reader's zone", reader: bot.Reader{Locale: bot.LocaleEN,
			Zone: time.FixedZone("UTC-5", -5*3600)}, want: bot.Card{
			Subject: "kpi-day-20261129", Status: bot.StatusInfo, Title: "今天经营指标", Subtitle: "11/29",
			Tables: []bot.Table{{Columns: []string{"KPI", "Value", "vs day before", "vs a week ago"}, Rows: [][]string{
				{"Sales", "¥150.00", "↑87.5%", "↓25.0%"},
				{"AOV", "¥75.00", "↓6.3%", "↓62.5%"},
				{"Refund rate", "50.0%", "—", "—"},
				{"Ad ROI", "5.00", "—", "—"},
				{"Stock turnover", "1125.0 days", "↓37.5%", "↓50.0%"},
			}}},
			Note: "Refunds count by payment day: the orders paid in the period that were refunded. " +
				"Turnover days: the average pieces on hand at each day's end over 30 days ÷ pieces sold per day.",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, kpi.FiguresCard(figs, "今天经营指标", tt.reader))
		})
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    kpi.Value
		unit kpi.Unit
		en   bool
		want string
	}{
		{name: "money", v: dec("6800"), unit: kpi.UnitMoney, want: "¥6,800.00"},
		{name: "negative money", v: dec("-1234567.891"), unit: kpi.UnitMoney, want: "-¥1,234,567.89"},
		{name: "a count", v: dec("1234"), unit: kpi.UnitCount, want: "1,234"},
		{name: "a count of a million, rounded", v: dec("999999.5"), unit: kpi.UnitCount, want: "1,000,000"},
		{name: "a small count", v: dec("12"), unit: kpi.UnitCount, want: "12"},
		{name: "a percent", v: dec("0.042"), unit: kpi.UnitPercent, want: "4.2%"},
		{name: "a ratio", v: dec("3.254"), unit: kpi.UnitRatio, want: "3.25"},
		{name: "days", v: dec("12.46"), unit: kpi.UnitDays, want: "12.5 天"},
		{name: "days in English", v: dec("12.46"), unit: kpi.UnitDays, en: true, want: "12.5 days"},
		{name: "hours", v: dec("1.54"), unit: kpi.UnitHours, want: "1.5 小时"},
		{name: "under an hour in minutes", v: dec("0.034"), unit: kpi.UnitHours, want: "2 分钟"},
		{name: "under an hour in English", v: dec("0.5"), unit: kpi.UnitHours, en: true, want: "30 min"},
		{name: "under a minute", v: dec("0.004"), unit: kpi.UnitHours, want: "不到 1 分钟"},
		{name: "unknown", v: kpi.Value{}, unit: kpi.UnitMoney, want: "—"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, kpi.Format(tt.v, tt.unit, tt.en))
		})
	}
	require.Equal(t, "↑12.3%", kpi.Change(dec("112.3"), dec("100")))
	require.Equal(t, "↓4.0%", kpi.Change(dec("96"), dec("100")))
	require.Equal(t, "0.0%", kpi.Change(dec("100"), dec("100")))
	require.Equal(t, "↑200.0%", kpi.Change(dec("100"), dec("-100")), "a change from a loss is against its size")
	require.Equal(t, "—", kpi.Change(dec("1"), dec("0")))
	require.Equal(t, "—", kpi.Change(dec("1"), kpi.Value{}))
}

func TestKPICommand(t *testing.T) {
	t.Parallel()
	b, _ := newBoard(t)
	router := bot.NewRouter()
	kpi.RegisterCommands(router, b, b.File(), roles{"u_wang": {"gm"}, "u_chu": {"cs"}})
	askAs := func(t *testing.T, user string, l bot.Locale, text string) bot.Card {
		t.Helper()
		cards, err := router.Handle(t.Context(), bot.Request{Reader: bot.Reader{UserID: user, Locale: l},
			Message: bot.Message{Text: text}})
		require.NoError(t, err)
		require.Len(t, cards, 1)
		return cards[0]
	}
	ask := func(t *testing.T, l bot.Locale, text string) bot.Card { return askAs(t, "u_wang", l, text) }
	t.Run("a KPI for some roles only", func(t *testing.T) {
		all := ask(t, bot.LocaleZH, "/kpi")
		c := askAs(t, "u_chu", bot.LocaleZH, "/kpi")
		require.Len(t, c.Tables[0].Rows, len(all.Tables[0].Rows)-1, "customer service does not see the margin")
		for _, row := range c.Tables[0].Rows {
			require.NotEqual(t, "毛利率", row[0])
		}
		c = askAs(t, "u_chu", bot.LocaleZH, "/kpi 毛利率")
		require.Equal(t, "没有权限查看：毛利率", c.Title)
		require.Equal(t, "毛利率 · 今天", ask(t, bot.LocaleZH, "/kpi gross_margin").Title, "the GM does")
	})
	t.Run("every KPI today", func(t *testing.T) {
		c := ask(t, bot.LocaleZH, "/kpi")
		require.Equal(t, "今天经营指标", c.Title)
		require.Equal(t, "11月30日", c.Subtitle)
		require.Len(t, c.Tables[0].Rows, len(b.File().KPIs))
	})
	t.Run("one KPI yesterday, in Chinese words", func(t *testing.T) {
		c := ask(t, bot.LocaleZH, "指标 sales 昨天")
		require.Equal(t, "销售额 · 昨天", c.Title)
		require.Equal(t, "11月29日", c.Subtitle)
		require.Equal(t, [][]string{{"销售额", "¥80.00", "—", "—"}}, c.Tables[0].Rows)
	})
	t.Run("a KPI by its label, as the README writes it", func(t *testing.T) {
		require.Equal(t, "销售额 · 昨天", ask(t, bot.LocaleZH, "指标 销售额 昨天").Title)
		require.Equal(t, "Sales · Yesterday", ask(t, bot.LocaleEN, "/kpi Sales yesterday").Title)
	})
	t.Run("this week, in English", func(t *testing.T) {
		c := ask(t, bot.LocaleEN, "/kpi week")
		require.Equal(t, "This week’s figures", c.Title)
		require.Equal(t, "11/30–12/6", c.Subtitle)
		require.Equal(t, []string{"KPI", "Value", "vs last week"}, c.Tables[0].Columns)
	})
	t.Run("last month", func(t *testing.T) {
		c := ask(t, bot.LocaleEN, "/kpi sales last_month")
		require.Equal(t, "Sales · Last month", c.Title)
		require.Equal(t, "2026/10", c.Subtitle)
	})
	t.Run("an unknown KPI names the known ones", func(t *testing.T) {
		c := ask(t, bot.LocaleZH, "/kpi profit")
		require.Equal(t, "没有这个指标：profit", c.Title)
		require.True(t, strings.HasPrefix(c.Text, "可以查看的指标：\n- `sales` 销售额\n- `gmv` GMV\n"), c.Text)
	})
	t.Run("a bad period is answered with the usage", func(t *testing.T) {
		c := ask(t, bot.LocaleZH, "/kpi sales fortnight")
		require.Equal(t, "用法", c.Title)
		c = ask(t, bot.LocaleEN, "/kpi a b c")
		require.Equal(t, "Usage", c.Title)
	})
}

// roles is an org directory of users' roles.
type roles map[string][]string

func (r roles) User(_ context.Context, id string) (flows.User, error) {
	rs, ok := r[id]
	if !ok {
		return flows.User{}, flows.ErrNotFound
	}
	return flows.User{ID: id, Roles: rs}, nil
}
