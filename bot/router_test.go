package bot_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
)

// TestRouterReadsCommandsAsPeopleType: a command typed with a Chinese
// input method's full-width letters, digits, slash and space, or a Chinese
// name glued to its argument (查单5001, 查单：5001), reaches its command
// with the argument as typed half-width.
func TestRouterReadsCommandsAsPeopleType(t *testing.T) {
	t.Parallel()
	r := bot.NewRouter()
	var got []string
	r.Register(bot.Command{Names: []string{"/order", "查单"}, UsageZH: "/order <订单号>", UsageEN: "/order <no>",
		Run: func(_ context.Context, _ bot.Request, args []string) ([]bot.Card, error) {
			got = args
			return []bot.Card{{Title: "ok"}}, nil
		}})
	for _, text := range []string{"/order 1001", "／order　１００１", "查单 1001", "查单1001", "查单：1001", "查单:1001", "ＯＲＤＥＲ 1001"} {
		got = nil
		cards, err := r.Handle(t.Context(), bot.Request{Message: bot.Message{Text: text}})
		require.NoError(t, err)
		if text == "ＯＲＤＥＲ 1001" {
			require.Nil(t, got, "a command name needs its slash")
			continue
		}
		require.Equal(t, "ok", cards[0].Title, text)
		require.Equal(t, []string{"1001"}, got, text)
	}
	got = nil
	cards, err := r.Handle(t.Context(), bot.Request{Message: bot.Message{Text: "查单"}})
	require.NoError(t, err)
	require.NotNil(t, got, "查单 alone reaches its command")
	require.Empty(t, got, "with no argument")
	require.NotEmpty(t, cards)
}
