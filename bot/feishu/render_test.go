package feishu_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/bottest"
	"cardflow/bot/feishu"
	"cardflow/bot/feishu/feishutest"
)

var update = flag.Bool("update", false, "rewrite testdata/golden with the cards rendered now")

// TestGolden renders every neutral golden card (bot/testdata/golden) as a
// Feishu card and compares it with testdata/golden/<same name>.
func TestGolden(t *testing.T) {
	t.Parallel()
	bottest.Golden(t, *update, func(t *testing.T, c bot.Card, l bot.Locale) []byte {
		out, err := feishu.Render(c, l)
		require.NoError(t, err)
		checkCard(t, c, out)
		var pretty bytes.Buffer
		require.NoError(t, json.Indent(&pretty, out, "", "  "))
		pretty.WriteByte('\n')
		return pretty.Bytes()
	})
}

// checkCard checks what Feishu requires of a card and what the reader must
// be able to do with it: schema 2.0, shared, under 30 KB, every button
// brings its action and payload back, every input is in the form its
// buttons submit.
func checkCard(t *testing.T, c bot.Card, out []byte) {
	t.Helper()
	require.Less(t, len(out), 30*1024)
	var root struct {
		Schema string `json:"schema"`
		Config struct {
			UpdateMulti bool `json:"update_multi"`
		} `json:"config"`
		Header struct {
			Template string `json:"template"`
		} `json:"header"`
	}
	require.NoError(t, json.Unmarshal(out, &root))
	require.Equal(t, "2.0", root.Schema)
	require.True(t, root.Config.UpdateMulti)
	require.NotEmpty(t, root.Header.Template)
	for _, b := range c.Buttons {
		v, err := feishutest.ButtonValue(out, b.Label)
		require.NoError(t, err)
		require.Equal(t, string(b.Action), v["a"])
		require.Equal(t, b.Payload, v["p"])
		for k, want := range b.Values {
			require.Equal(t, want, v["v"].(map[string]any)[k])
		}
	}
	for _, in := range c.Inputs {
		require.Contains(t, string(out), fmt.Sprintf(`"name":%q`, in.Name))
	}
	if len(c.Inputs) > 0 && len(c.Buttons) > 0 {
		require.Contains(t, string(out), `"tag":"form"`)
		require.Equal(t, len(c.Buttons), strings.Count(string(out), `"form_action_type":"submit"`))
	}
}

// TestRenderFitsFeishusLimit cuts a long table, saying how many rows are
// left out, and a long text.
func TestRenderFitsFeishusLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		card bot.Card
		note string
	}{
		{name: "long table", card: bot.Card{Subject: "s", Title: "库存", Status: bot.StatusInfo,
			Tables: []bot.Table{{Columns: []string{"SKU", "仓库", "数量"}, Rows: rows(2000)}}}, note: "…另有 1980 行"},
		{name: "long text", card: bot.Card{Subject: "s", Title: "说明", Status: bot.StatusInfo,
			Text: strings.Repeat("很长的说明。", 20000)}, note: "内容过长"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := feishu.Render(tt.card, bot.LocaleZH)
			require.NoError(t, err)
			require.LessOrEqual(t, len(out), 30*1024)
			require.Contains(t, string(out), tt.note)
		})
	}
}

func rows(n int) [][]string {
	out := make([][]string, n)
	for i := range out {
		out[i] = []string{fmt.Sprintf("SKU-%05d", i), "杭州一号仓", fmt.Sprint(i)}
	}
	return out
}

// TestInputsHoldTheirValues: a box for a field the step may change shows
// its current value (an input's default_value, a select's initial_option).
func TestInputsHoldTheirValues(t *testing.T) {
	t.Parallel()
	c := bot.Card{Title: "退货 · JD-1", Buttons: []bot.Button{{Label: "同意", Action: "approve", Payload: "t:i.t0001:1", NeedsInput: true}},
		Inputs: []bot.Input{
			{Name: bot.InputEdit + "refund_amount", Label: "退款金额", Kind: bot.InputNumber, Value: "99.90"},
			{Name: bot.InputEdit + "kind", Label: "类型", Kind: bot.InputSelect, Value: "换货",
				Options: []bot.Option{{Value: "退货", Label: "退货"}, {Value: "换货", Label: "换货"}}},
			{Name: bot.InputComment, Label: "意见", Kind: bot.InputText},
		}}
	out, err := feishu.Render(c, bot.LocaleZH)
	require.NoError(t, err)
	checkCard(t, c, out)
	require.Contains(t, string(out), `"name":"E_refund_amount","label":{"tag":"plain_text","content":"退款金额"},"label_position":"top","default_value":"99.90"`)
	require.Contains(t, string(out), `"name":"E_kind","placeholder":{"tag":"plain_text","content":"类型"},"initial_option":"换货"`)
	require.Equal(t, 1, strings.Count(string(out), `"default_value"`), "an empty comment box holds nothing")
}
