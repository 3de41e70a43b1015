package wecom_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/bottest"
	"cardflow/bot/wecom"
	"cardflow/flows"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the neutral cards")

// TestGolden renders every neutral golden card (bot/testdata/golden) to a
// template card and compares it with testdata/golden; -update rewrites
// them.
func TestGolden(t *testing.T) {
	t.Parallel()
	bottest.Golden(t, *update, func(t *testing.T, c bot.Card, l bot.Locale) []byte {
		tc, err := wecom.Render(c, l, "cf-golden")
		require.NoError(t, err)
		checkLimits(t, c, tc)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		require.NoError(t, enc.Encode(tc))
		return buf.Bytes()
	})
}

// checkLimits holds every rendered card to WeCom's limits and to the
// promise that no button needing input is offered.
func checkLimits(t *testing.T, c bot.Card, tc wecom.TemplateCard) {
	t.Helper()
	require.LessOrEqual(t, len(tc.ButtonList), 6)
	require.LessOrEqual(t, len(tc.HorizontalContentList), 6)
	require.LessOrEqual(t, len([]rune(tc.MainTitle.Title)), 26)
	require.Equal(t, len(tc.ButtonList) > 0, tc.CardType == wecom.CardButtons)
	needs := 0
	for _, b := range c.Buttons {
		if b.NeedsInput {
			needs++
			require.Contains(t, tc.SubTitleText, b.Label, "a left-out button is named")
		}
	}
	actions := 0
	for _, b := range tc.ButtonList {
		require.LessOrEqual(t, len(b.Key), 1024)
		if strings.HasPrefix(b.Key, "cmd=") {
			continue
		}
		actions++
		action, payload, _, err := wecom.ParseButtonKey(b.Key)
		require.NoError(t, err)
		_, err = bot.ParsePayload(payload)
		require.NoError(t, err)
		require.NotEmpty(t, action)
	}
	require.Equal(t, len(c.Buttons)-needs, actions)
	// Every card calls back, so WeCom lets it be updated, and a
	// text_notice opens a link, as WeCom requires.
	if tc.CardType == wecom.CardNotice {
		require.NotNil(t, tc.CardAction)
		require.NotNil(t, tc.ActionMenu)
	}
	if actions == 0 && tc.CardType == wecom.CardButtons {
		require.Len(t, tc.ButtonList, 1)
		require.True(t, strings.HasPrefix(tc.ButtonList[0].Key, "cmd=todo"))
	}
}

func TestCardWithoutButtonsOrLinkStillCallsBack(t *testing.T) {
	t.Parallel()
	tc, err := wecom.Render(bot.Card{Subject: "i1", Title: "订单履约 · TM-1", Status: bot.StatusApproved}, bot.LocaleZH, "cf-1")
	require.NoError(t, err)
	require.Equal(t, wecom.CardButtons, tc.CardType)
	require.Equal(t, []wecom.TemplateButton{{Text: "我的待办", Style: 2, Key: "cmd=todo&s=i1"}}, tc.ButtonList)
}

func TestButtonKeyRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		b    bot.Button
	}{
		{name: "approve", b: bot.Button{Label: "同意", Action: flows.ActApprove, Payload: "t:i1.t0001:3"}},
		{name: "snooze", b: bot.Button{Label: "稍后", Action: flows.ActSnooze, Payload: "t:a-1.t2:9",
			Values: map[string]string{bot.ValueSnoozeFor: "1h"}}},
		{name: "odd characters", b: bot.Button{Label: "x", Action: flows.ActReturn, Payload: "t:a&b=c|d:1",
			Values: map[string]string{bot.ValueReturnTo: "步骤 & 1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			key, err := wecom.ButtonKey(tc.b)
			require.NoError(t, err)
			action, payload, values, err := wecom.ParseButtonKey(key)
			require.NoError(t, err)
			require.Equal(t, tc.b.Action, action)
			require.Equal(t, tc.b.Payload, payload)
			want := tc.b.Values
			if want == nil {
				want = map[string]string{}
			}
			require.Equal(t, want, values)
		})
	}
	_, err := wecom.ButtonKey(bot.Button{Action: flows.ActApprove, Payload: strings.Repeat("x", 1100)})
	require.ErrorIs(t, err, wecom.ErrCard)
	for _, bad := range []string{"", "a=approve", "p=t:1:1", "%zz", strings.Repeat("a", 1025)} {
		_, _, _, err := wecom.ParseButtonKey(bad)
		require.ErrorIs(t, err, wecom.ErrCard, bad)
	}
	_, err = wecom.Render(bot.Card{Title: "x"}, bot.LocaleZH, "bad id!")
	require.ErrorIs(t, err, wecom.ErrCard)
}
