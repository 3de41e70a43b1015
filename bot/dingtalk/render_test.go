package dingtalk_test

import (
	"encoding/json"
	"flag"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/bottest"
	"cardflow/bot/dingtalk"
	"cardflow/flows"
)

var update = flag.Bool("update", false, "rewrite testdata/golden with the cards rendered now")

// TestGolden renders each neutral golden card of bot/testdata/golden to
// the cardData createAndDeliver sends, and compares it with
// testdata/golden/<same name>.
func TestGolden(t *testing.T) {
	t.Parallel()
	bottest.Golden(t, *update, func(t *testing.T, c bot.Card, l bot.Locale) []byte {
		params := dingtalk.Render(c, l)
		checkRendered(t, c, params)
		got, err := json.MarshalIndent(map[string]any{"cardParamMap": params}, "", "  ")
		require.NoError(t, err)
		return append(got, '\n')
	})
}

// checkRendered holds what every rendered card must: all variables set,
// strings only, every button's id read back to the button.
func checkRendered(t *testing.T, c bot.Card, m map[string]string) {
	t.Helper()
	for _, k := range []string{dingtalk.ParamTitle, dingtalk.ParamSubtitle, dingtalk.ParamStatus, dingtalk.ParamColor,
		dingtalk.ParamMarkdown, dingtalk.ParamButtons, dingtalk.ParamHasButtons, dingtalk.ParamInputs,
		dingtalk.ParamHasInputs, dingtalk.ParamStatusLine, dingtalk.ParamNote} {
		_, ok := m[k]
		require.True(t, ok, "variable %s missing", k)
	}
	require.Equal(t, c.Title, m[dingtalk.ParamTitle])
	var buttons []struct{ Label, Style, ID string }
	require.NoError(t, json.Unmarshal([]byte(m[dingtalk.ParamButtons]), &buttons))
	require.Len(t, buttons, len(c.Buttons))
	for i, b := range c.Buttons {
		action, payload, values, ok := dingtalk.ParseButtonID(buttons[i].ID)
		require.True(t, ok, buttons[i].ID)
		require.Equal(t, b.Action, action)
		require.Equal(t, b.Payload, payload)
		for k, v := range b.Values {
			require.Equal(t, v, values[k])
		}
		require.Len(t, values, len(b.Values))
	}
	for _, f := range c.Fields {
		require.Contains(t, m[dingtalk.ParamMarkdown], f.Label)
	}
}

func TestFieldsCannotBecomeMarkdown(t *testing.T) {
	t.Parallel()
	c := bot.Card{Title: "t", Fields: []bot.Field{{Label: "买家留言", Value: "[点我](https://evil.example) **急**\n# 标题"}},
		Link: "javascript:alert(1)", Image: &bot.Image{URL: "https://x.example/a b.png)", Alt: "a"}}
	md := dingtalk.Render(c, bot.LocaleZH)[dingtalk.ParamMarkdown]
	require.NotContains(t, md, "](https://evil")
	require.NotContains(t, md, "**急**")
	require.NotContains(t, md, "\n#")
	require.NotContains(t, md, "javascript")
	require.NotContains(t, md, "a b.png")
}

func TestParseButtonID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, id string
		ok       bool
	}{
		{name: "approve", id: "approve|t:i1.t1:3", ok: true},
		{name: "return with its target", id: "return|t:i1.t1:3|_return_to=applicant", ok: true},
		{name: "empty", id: ""},
		{name: "unknown action", id: "delete|t:i1.t1:3"},
		{name: "bad payload", id: "approve|x"},
		{name: "value without underscore", id: "approve|t:i1.t1:3|comment=hi"},
		{name: "value twice", id: "return|t:i1.t1:3|_return_to=a&_return_to=b"},
		{name: "too long", id: "approve|t:i1.t1:3|_x=" + strings.Repeat("a", 600)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, _, ok := dingtalk.ParseButtonID(tc.id)
			require.Equal(t, tc.ok, ok)
		})
	}
	id := dingtalk.ButtonID(bot.Button{Action: flows.ActReturn, Payload: "t:i1.t1:3", Values: map[string]string{bot.ValueReturnTo: "a&b=c"}})
	_, _, v, ok := dingtalk.ParseButtonID(id)
	require.True(t, ok)
	require.Equal(t, "a&b=c", v[bot.ValueReturnTo])
}

// TestInputsHoldTheirValues: the template's inputs carry the value a box
// holds when shown (a field's current value the step may change).
func TestInputsHoldTheirValues(t *testing.T) {
	t.Parallel()
	c := bot.Card{Title: "退货 · JD-1", Buttons: []bot.Button{{Label: "同意", Action: "approve", Payload: "t:i.t0001:1", NeedsInput: true}},
		Inputs: []bot.Input{{Name: bot.InputEdit + "refund_amount", Label: "退款金额", Kind: bot.InputNumber, Value: "99.90"},
			{Name: bot.InputComment, Label: "意见", Kind: bot.InputText}}}
	var inputs []map[string]any
	require.NoError(t, json.Unmarshal([]byte(dingtalk.Render(c, bot.LocaleZH)[dingtalk.ParamInputs]), &inputs))
	require.Len(t, inputs, 2)
	require.Equal(t, "99.90", inputs[0]["value"])
	require.NotContains(t, inputs[1], "value")
}
