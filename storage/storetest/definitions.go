package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

func definitionTests() []suiteTest {
	return []suiteTest{
		storeTest("versioned by hash", testDefinitionVersions),
		storeTest("latest of every flow", testDefinitionsLatest),
	}
}

func testDefinitionVersions(t *testing.T, s flows.Store) {
	ctx := t.Context()
	v1 := NewDefinition("purchase", "id: purchase\nversion: a\n")
	v2 := NewDefinition("purchase", "id: purchase\nversion: b\n")
	v2.CreatedAt = At(time.Hour)
	v3 := v1 // the first source again: it differs from the latest, so it is new
	v3.CreatedAt = At(2 * time.Hour)

	steps := []struct {
		name        string
		put         flows.Definition
		wantCreated bool
		want        flows.Definition
	}{
		{name: "new flow", put: v1, wantCreated: true, want: withVersion(v1, 1)},
		{name: "unchanged", put: withCreatedAt(v1, At(time.Minute)), want: withVersion(v1, 1)},
		{name: "changed", put: v2, wantCreated: true, want: withVersion(v2, 2)},
		{name: "unchanged again", put: withVersion(v2, 9), want: withVersion(v2, 2)},
		{name: "back to an older source", put: v3, wantCreated: true, want: withVersion(v3, 3)},
	}
	for _, step := range steps {
		got, created, err := s.PutDefinition(ctx, step.put)
		require.NoError(t, err, step.name)
		require.Equal(t, step.wantCreated, created, step.name)
		RequireDefinition(t, step.want, got)
	}

	for _, want := range []flows.Definition{withVersion(v1, 1), withVersion(v2, 2), withVersion(v3, 3)} {
		got, err := s.Definition(ctx, "purchase", want.Version)
		require.NoError(t, err)
		RequireDefinition(t, want, got)
	}
	_, err := s.Definition(ctx, "purchase", 4)
	require.ErrorIs(t, err, flows.ErrNotFound)
	latest, err := s.LatestDefinition(ctx, "purchase")
	require.NoError(t, err)
	RequireDefinition(t, withVersion(v3, 3), latest)
}

func testDefinitionsLatest(t *testing.T, s flows.Store) {
	ctx := t.Context()
	empty, err := s.Definitions(ctx)
	require.NoError(t, err)
	require.Empty(t, empty)

	want := map[string]flows.Definition{}
	for _, flow := range []struct {
		id       string
		versions int
	}{{"returns", 2}, {"campaign", 1}, {"order_fulfilment", 3}} {
		var last flows.Definition
		for v := 1; v <= flow.versions; v++ {
			d := NewDefinition(flow.id, fmt.Sprintf("%s source %d", flow.id, v))
			var created bool
			last, created, err = s.PutDefinition(ctx, d)
			require.NoError(t, err)
			require.True(t, created)
			require.Equal(t, v, last.Version)
		}
		want[flow.id] = last
	}
	got, err := s.Definitions(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"campaign@1", "order_fulfilment@3", "returns@2"}, ids(got, definitionID))
	for _, d := range got {
		RequireDefinition(t, want[d.FlowID], d)
	}
}

func withVersion(d flows.Definition, v int) flows.Definition {
	d.Version = v
	return d
}

func withCreatedAt(d flows.Definition, at time.Time) flows.Definition {
	d.CreatedAt = at
	return d
}
