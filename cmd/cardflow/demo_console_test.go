package main

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDemoOpensTheConsole: the demo prints the console's URL and a log-in
// made up for the run, which opens the dashboard.
func TestDemoOpensTheConsole(t *testing.T) {
	t.Setenv("CARDFLOW_SERVER_ADDR", "127.0.0.1:0")
	t.Setenv("CARDFLOW_LOG_LEVEL", "warn")
	d := launchDemo(t, "--shop-day=false")
	m := regexp.MustCompile(`Web console:     (\S+/console/)   log in as admin / (\S+) \(acts as 沈管理员`).FindStringSubmatch(d.banner)
	require.NotNil(t, m, d.banner)
	require.Equal(t, d.base+"/console/", m[1])
	require.NotContains(t, d.banner, "shop's day", "no shop day is announced when it does not play")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range []struct {
		name     string
		password string
		status   int
	}{
		{name: "the printed password", password: m[2], status: http.StatusSeeOther},
		{name: "another password", password: m[2] + "x", status: http.StatusUnauthorized},
	} {
		resp, err := client.PostForm(d.base+"/console/login", url.Values{"name": {"admin"}, "password": {tt.password}})
		require.NoError(t, err, tt.name)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, tt.status, resp.StatusCode, tt.name)
	}
	require.Equal(t, 0, d.stop())
}
