package console

import (
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCataloguesMatch: every text exists in both languages.
func TestCataloguesMatch(t *testing.T) {
	t.Parallel()
	zhKeys := slices.Sorted(maps.Keys(zh))
	enKeys := slices.Sorted(maps.Keys(en))
	require.Equal(t, zhKeys, enKeys)
	for k, v := range en {
		require.NotEmpty(t, v, k)
		require.NotEmpty(t, zh[k], k)
	}
}
