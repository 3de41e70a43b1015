package app

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/bot/sim"
	"cardflow/flows"
	"cardflow/storage/sqlite"
)

// countingStore counts the store's look-ups of a user by platform id.
type countingStore struct {
	*sqlite.Store
	byPlatform int
}

func (s *countingStore) UserByPlatformID(ctx context.Context, platform, id string) (flows.User, error) {
	s.byPlatform++
	return s.Store.UserByPlatformID(ctx, platform, id)
}

// TestSimStoreReadsPeopleThroughTheEngine: the simulator names the sender
// of every click and message by its sim id; it is looked up through the
// engine's directory cache, so repeated clicks by one person read the store
// once, and an unknown id is still not found.
func TestSimStoreReadsPeopleThroughTheEngine(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sim.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.ReplaceOrg(ctx, flows.Org{Users: []flows.User{
		{ID: "u_qian", Name: "钱多多", PlatformIDs: map[string]string{sim.Name: "qian"}},
	}}))
	store := &countingStore{Store: db}
	s := simStore{Store: store, engine: flows.NewEngine(store)}

	for range 3 {
		u, err := s.UserByPlatformID(ctx, sim.Name, "qian")
		require.NoError(t, err)
		require.Equal(t, "u_qian", u.ID)
	}
	require.Equal(t, 1, store.byPlatform, "three clicks by one person read the store once")

	_, err = s.UserByPlatformID(ctx, sim.Name, "nobody")
	require.ErrorIs(t, err, flows.ErrNotFound)
}
