// Package exampletest gives tests of any package the example flows and org
// directory (the ones package configs embeds) on a fresh embedded store, so
// that each test does not repeat the set-up.
package exampletest

import (
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/configs"
	"cardflow/flows"
	"cardflow/storage/sqlite"
)

// Org returns the example org directory.
func Org(t testing.TB) flows.Org {
	t.Helper()
	src, err := fs.ReadFile(configs.Examples, "org.example.yaml")
	require.NoError(t, err)
	org, err := flows.ParseOrg("org.example.yaml", src)
	require.NoError(t, err)
	return org
}

// Flows returns the example flows.
func Flows(t testing.TB) []*flows.Flow {
	t.Helper()
	all, err := flows.LoadFS(configs.Examples, "flows", "configs/flows")
	require.NoError(t, err)
	return all
}

// Store opens a SQLite store in a temporary directory, closed when the test
// ends, and installs org (its leave proxies included).
func Store(t testing.TB, org flows.Org) *sqlite.Store {
	t.Helper()
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cardflow.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	require.NoError(t, store.ReplaceOrg(t.Context(), org))
	require.NoError(t, store.ReplaceProxies(t.Context(), flows.ProxySourceOrg, org.Proxies))
	return store
}

// Engine returns an engine on store with the example flows registered.
func Engine(t testing.TB, store flows.Store, opts ...flows.Option) *flows.Engine {
	t.Helper()
	engine := flows.NewEngine(store, opts...)
	_, err := engine.Register(t.Context(), Flows(t)...)
	require.NoError(t, err)
	return engine
}

// World is Store and Engine on the example org: the usual start of a test.
func World(t testing.TB, opts ...flows.Option) (*sqlite.Store, *flows.Engine) {
	t.Helper()
	store := Store(t, Org(t))
	return store, Engine(t, store, opts...)
}
