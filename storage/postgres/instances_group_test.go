package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
	"cardflow/storage/storetest"
)

// TestInstanceReadGroup answers a hand-made group of instance reads (as a
// worker does): each read gets its own instance, the same id asked twice
// gets it twice, an id of no instance gets not-found, and a caller gone
// before the group ran gets its context's error.
func TestInstanceReadGroup(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, Options{Migrate: true})
	var ids []string
	for i := range 4 {
		in := storetest.NewInstance(fmt.Sprintf("i-%d", i))
		in.Title = fmt.Sprintf("第 %d 单", i)
		if i%2 == 0 {
			storetest.MustApply(t, s, flows.Change{Instance: &in, Create: true})
		}
		ids = append(ids, in.ID)
	}
	ids = append(ids, ids[0]) // asked twice
	gone, cancel := context.WithCancel(t.Context())
	cancel()
	group := make([]*readReq[string, flows.Instance], len(ids)+1)
	for i, id := range ids {
		group[i] = &readReq[string, flows.Instance]{ctx: t.Context(), key: id, done: make(chan readResult[flows.Instance], 1)}
	}
	group[len(ids)] = &readReq[string, flows.Instance]{ctx: gone, key: ids[0], done: make(chan readResult[flows.Instance], 1)}
	s.instanceReads.answer(context.WithoutCancel(t.Context()), group)
	for i, r := range group[:len(ids)] {
		res := <-r.done
		n := i % 4
		if n%2 == 1 {
			require.ErrorIs(t, notFound(res.err), flows.ErrNotFound, "read %d", i)
			continue
		}
		require.NoError(t, res.err, "read %d", i)
		require.Equal(t, ids[i], res.v.ID)
		require.Equal(t, fmt.Sprintf("第 %d 单", n), res.v.Title)
		require.Equal(t, int64(1), res.v.Version)
	}
	require.ErrorIs(t, (<-group[len(ids)].done).err, context.Canceled)

	// Through Instance, read by many at once.
	errs := make(chan error, 40)
	for i := range 40 {
		go func() {
			in, err := s.Instance(t.Context(), ids[i%4])
			switch {
			case i%2 == 1 && errors.Is(err, flows.ErrNotFound):
				err = nil
			case i%2 == 1:
				err = fmt.Errorf("read %d of a missing instance: %v", i, err)
			case err == nil && in.ID != ids[i%4]:
				err = fmt.Errorf("read %d: got %s", i, in.ID)
			}
			errs <- err
		}()
	}
	for range 40 {
		require.NoError(t, <-errs)
	}
}
