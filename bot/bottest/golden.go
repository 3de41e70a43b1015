package bottest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
)

// NeutralGoldens is how many neutral golden cards bot/testdata/golden
// holds: every card kind, each platform's golden test renders them all.
const NeutralGoldens = 34

// Golden renders each neutral golden card (bot/testdata/golden, read from
// a platform package's directory as ../testdata/golden) with render, and
// compares the result with testdata/golden/<same name> of the platform;
// with update it writes the files instead, dropping any that no neutral
// card stands for. A card named *.en.json is rendered for an English
// reader. render may make the platform's own checks on what it rendered.
func Golden(t *testing.T, update bool, render func(t *testing.T, c bot.Card, l bot.Locale) []byte) {
	t.Helper()
	neutral, err := filepath.Glob("../testdata/golden/*.json")
	require.NoError(t, err)
	require.Len(t, neutral, NeutralGoldens, "the neutral goldens the platforms render")
	if update {
		old, _ := filepath.Glob("testdata/golden/*.json")
		for _, f := range old {
			require.NoError(t, os.Remove(f))
		}
		require.NoError(t, os.MkdirAll("testdata/golden", 0o755))
	}
	for _, src := range neutral {
		name := filepath.Base(src)
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(src)
			require.NoError(t, err)
			var c bot.Card
			require.NoError(t, json.Unmarshal(raw, &c))
			l := bot.LocaleZH
			if strings.HasSuffix(name, ".en.json") {
				l = bot.LocaleEN
			}
			got := render(t, c, l)
			golden := filepath.Join("testdata", "golden", name)
			if update {
				require.NoError(t, os.WriteFile(golden, got, 0o644))
				return
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run the package's TestGolden with -update to write it")
			require.Equal(t, string(want), string(got), "card %s (run with -update to accept)", name)
		})
	}
	got, err := filepath.Glob("testdata/golden/*.json")
	require.NoError(t, err)
	require.Len(t, got, NeutralGoldens, "one golden per neutral card, no stale ones")
}
