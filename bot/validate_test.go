package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
)

func validCard() bot.CardMessage {
	at := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	return bot.CardMessage{
		CardKey:    bot.CardKey{Platform: "feishu", Recipient: "u-alice", Subject: "i-1.t0001"},
		InstanceID: "i-1", MessageID: "om_1", StateVersion: 1, SentAt: at, UpdatedAt: at,
	}
}

func TestCardMessageValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		edit    func(c *bot.CardMessage)
		wantErr string // "" when valid
	}{
		{name: "minimal card", edit: func(*bot.CardMessage) {}},
		{name: "every limit reached", edit: func(c *bot.CardMessage) {
			c.Platform, c.Recipient, c.Subject = strings.Repeat("p", bot.MaxPlatformLen), strings.Repeat("r", bot.MaxIDLen), strings.Repeat("s", bot.MaxIDLen)
			c.InstanceID, c.MessageID = strings.Repeat("i", bot.MaxIDLen), strings.Repeat("m", bot.MaxIDLen)
			c.UpdateToken, c.Digest = strings.Repeat("t", bot.MaxTokenLen), strings.Repeat("d", bot.MaxDigestLen)
		}},
		{name: "platform too long", edit: func(c *bot.CardMessage) { c.Platform = strings.Repeat("p", bot.MaxPlatformLen+1) }, wantErr: "bot: platform: invalid value: 33 bytes, more than 32"},
		{name: "no recipient", edit: func(c *bot.CardMessage) { c.Recipient = "" }, wantErr: "bot: recipient: invalid value: must be set"},
		{name: "subject with NUL", edit: func(c *bot.CardMessage) { c.Subject = "a\x00" }, wantErr: "bot: subject: invalid value: holds a NUL byte"},
		{name: "message id not UTF-8", edit: func(c *bot.CardMessage) { c.MessageID = "\xc3" }, wantErr: "bot: message id: invalid value: not UTF-8"},
		{name: "token too long", edit: func(c *bot.CardMessage) { c.UpdateToken = strings.Repeat("t", bot.MaxTokenLen+1) }, wantErr: "bot: update token: invalid value"},
		{name: "negative version", edit: func(c *bot.CardMessage) { c.StateVersion = -2 }, wantErr: "bot: state version: invalid value: -2 is negative"},
		{name: "no times", edit: func(c *bot.CardMessage) { c.UpdatedAt = time.Time{} }, wantErr: "bot: sent at, updated at: invalid value: both must be set"},
		{name: "every problem reported", edit: func(c *bot.CardMessage) { c.Platform, c.InstanceID = "", "" }, wantErr: "bot: platform: invalid value: must be set\nbot: instance id: invalid value: must be set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := validCard()
			tt.edit(&c)
			err := c.Validate()
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, bot.ErrInvalid)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestEventValidate(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		e       bot.Event
		wantErr string
	}{
		{name: "no answer", e: bot.Event{Platform: "wecom", ID: "m1", At: at}},
		{name: "limits reached", e: bot.Event{Platform: "wecom", ID: strings.Repeat("e", bot.MaxEventIDLen), Answer: make([]byte, bot.MaxAnswerLen), At: at}},
		{name: "id too long", e: bot.Event{Platform: "wecom", ID: strings.Repeat("e", bot.MaxEventIDLen+1), At: at}, wantErr: "bot: event id: invalid value: 513 bytes, more than 512"},
		{name: "answer too long", e: bot.Event{Platform: "wecom", ID: "m1", Answer: make([]byte, bot.MaxAnswerLen+1), At: at}, wantErr: "bot: answer: invalid value"},
		{name: "no time", e: bot.Event{Platform: "wecom", ID: "m1"}, wantErr: "bot: event at: invalid value: must be set"},
		{name: "no platform", e: bot.Event{ID: "m1", At: at}, wantErr: "bot: platform: invalid value: must be set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.e.Validate()
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, bot.ErrInvalid)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestCardKeyString(t *testing.T) {
	t.Parallel()
	require.Equal(t, "wecom/u-bob/i-1", bot.CardKey{Platform: "wecom", Recipient: "u-bob", Subject: "i-1"}.String())
}
