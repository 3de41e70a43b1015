package bot

import (
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestEveryMessageInBothLocales: a text added in one language only would
// show an empty line or the other language's arguments on some cards.
func TestEveryMessageInBothLocales(t *testing.T) {
	t.Parallel()
	verb := regexp.MustCompile(`%\[\d\][sd]`)
	for m := mSystem; m <= mListSep; m++ {
		pair, ok := messages[m]
		require.True(t, ok, "message %d has no texts", m)
		require.NotEmpty(t, pair[0], "message %d in Chinese", m)
		require.NotEmpty(t, pair[1], "message %d in English", m)
		zh, en := verb.FindAllString(pair[0], -1), verb.FindAllString(pair[1], -1)
		slices.Sort(zh)
		slices.Sort(en)
		require.Equal(t, zh, en, "message %d takes the same arguments in both: %q / %q", m, pair[0], pair[1])
	}
	require.Len(t, messages, int(mListSep)+1, "no text without a name")
	for outcome, pair := range verbs {
		require.NotEmpty(t, pair[0], outcome)
		require.NotEmpty(t, pair[1], outcome)
	}
}

func TestWhen(t *testing.T) {
	t.Parallel()
	shanghai := shanghai
	berlin := mustZone("Europe/Berlin")
	now := time.Date(2027, 2, 3, 10, 50, 0, 0, shanghai)
	tests := []struct {
		name   string
		at     time.Time
		zone   *time.Location
		zh, en string
	}{
		{name: "today", at: time.Date(2027, 2, 3, 2, 42, 0, 0, time.UTC), zone: shanghai, zh: "10:42", en: "10:42"},
		{name: "yesterday", at: time.Date(2027, 2, 2, 23, 59, 0, 0, shanghai), zone: shanghai, zh: "02-02 23:59", en: "Feb 2 23:59"},
		{name: "last year", at: time.Date(2026, 12, 31, 8, 0, 0, 0, shanghai), zone: shanghai, zh: "2026-12-31 08:00", en: "Dec 31, 2026 08:00"},
		// 00:30 on the 3rd in Shanghai is still the 2nd in Berlin, where
		// it is 03:50 on the 3rd now.
		{name: "the reader's own day", at: time.Date(2027, 2, 3, 0, 30, 0, 0, shanghai), zone: berlin, zh: "02-02 17:30", en: "Feb 2 17:30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.zh, translator(LocaleZH).when(tt.at, now, tt.zone))
			require.Equal(t, tt.en, translator(LocaleEN).when(tt.at, now, tt.zone))
		})
	}
}

func TestGroupDigits(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{name: "small", in: "2", want: "2"},
		{name: "thousands", in: "12000", want: "12,000"},
		{name: "decimals kept", in: "1234567.25", want: "1,234,567.25"},
		{name: "negative", in: "-1000", want: "-1,000"},
		{name: "not a number", in: "12a", want: "12a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, groupDigits(tt.in))
		})
	}
}

func TestTranslatorLocales(t *testing.T) {
	t.Parallel()
	require.Equal(t, "已通过", translator("").status("approved"), "Chinese by default")
	require.Equal(t, "Approved", translator(LocaleEN).status("approved"))
	require.Equal(t, "Approved", translator("en-GB").status("approved"))
	require.Equal(t, "Approved", translator(LocaleEN).done("approve"))
	require.Equal(t, "同意", translator(LocaleZH).done("approve"))
	require.Equal(t, "钱多多、孙会计", translator(LocaleZH).list([]string{"钱多多", "孙会计"}))
}
