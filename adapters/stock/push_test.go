package stock_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/stock"
	"cardflow/config"
)

func TestParsePushTargets(t *testing.T) {
	t.Parallel()
	got, err := stock.ParsePushTargets([]config.Secret{"tmall-bridge=https://bridge.example.com/stock#" + pushSecret,
		"wms=http://wms.local:8080/in?token=abc#0123456789abcdef"})
	require.NoError(t, err)
	require.Equal(t, []stock.PushTarget{
		{Name: "tmall-bridge", URL: "https://bridge.example.com/stock", Secret: pushSecret},
		{Name: "wms", URL: "http://wms.local:8080/in?token=abc", Secret: "0123456789abcdef"},
	}, got)

	tests := []struct {
		name    string
		entries []config.Secret
		want    string
	}{
		{name: "no secret", entries: []config.Secret{"shop=https://x.example.com/s"},
			want: "item 0 (target shop): add a signing secret of at least 16 bytes after the URL as #<secret>"},
		{name: "a short secret", entries: []config.Secret{"shop=https://x.example.com/s#short-secret"},
			want: "item 0 (target shop): add a signing secret of at least 16 bytes after the URL as #<secret>"},
		{name: "a bad name", entries: []config.Secret{"Shop!=https://x.example.com/s#" + pushSecret},
			want: "item 0: expected name=<URL>#<secret>"},
		{name: "not http", entries: []config.Secret{"shop=ftp://x.example.com/s#" + pushSecret},
			want: "item 0 (target shop): the URL is not an http(s) URL"},
		{name: "named twice", entries: []config.Secret{"shop=https://a.example.com#" + pushSecret,
			"shop=https://b.example.com#" + pushSecret}, want: `item 1: target "shop" is named twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := stock.ParsePushTargets(tt.entries)
			require.ErrorContains(t, err, tt.want)
			require.NotContains(t, err.Error(), pushSecret)
			require.NotContains(t, err.Error(), "short-secret")
		})
	}
}
