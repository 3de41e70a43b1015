package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

func proxyTests() []suiteTest {
	return []suiteTest{
		storeTest("put, list, replace a source, delete", testProxies),
	}
}

func testProxies(t *testing.T, s flows.Store) {
	ctx := t.Context()
	day := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	list := func() []flows.Proxy {
		got, err := s.Proxies(ctx)
		require.NoError(t, err)
		return got
	}
	require.Empty(t, list())

	byAPI := flows.Proxy{ID: "p-api", User: "u_zhou", By: "u_wang", From: day, Until: day.Add(72 * time.Hour),
		Flows: []string{"order_fulfilment", "return_exchange"}, Source: flows.ProxySourceAPI}
	require.NoError(t, s.PutProxy(ctx, byAPI))
	fromOrg := []flows.Proxy{
		{ID: "org-2", User: "u_qian", By: "u_sun", From: day.Add(-time.Hour), Until: day.Add(time.Hour)},
		{ID: "org-1", User: "u_zhao", By: "u_qian", From: day.Add(-time.Hour), Until: day.Add(24 * time.Hour)},
	}
	require.NoError(t, s.ReplaceProxies(ctx, flows.ProxySourceOrg, fromOrg))
	got := list()
	require.Len(t, got, 3)
	require.Equal(t, []string{"org-1", "org-2", "p-api"}, []string{got[0].ID, got[1].ID, got[2].ID}, "by from, then id")
	require.Equal(t, flows.ProxySourceOrg, got[0].Source)
	require.True(t, got[0].From.Equal(fromOrg[1].From))
	require.Nil(t, got[0].Flows, "no flows: every flow")
	require.Equal(t, byAPI.Flows, got[2].Flows)
	require.True(t, got[2].Until.Equal(byAPI.Until))

	// Loading the org file again replaces its rules and keeps the API's.
	require.NoError(t, s.ReplaceProxies(ctx, flows.ProxySourceOrg, fromOrg[:1]))
	got = list()
	require.Equal(t, []string{"org-2", "p-api"}, []string{got[0].ID, got[1].ID})

	byAPI.Until = day.Add(time.Hour)
	require.NoError(t, s.PutProxy(ctx, byAPI), "the same id replaces the rule")
	got = list()
	require.Len(t, got, 2)
	require.True(t, got[1].Until.Equal(byAPI.Until))

	require.NoError(t, s.DeleteProxy(ctx, "p-api"))
	require.ErrorIs(t, s.DeleteProxy(ctx, "p-api"), flows.ErrNotFound)
	require.Len(t, list(), 1)
}
