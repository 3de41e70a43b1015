package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

func orgTests() []suiteTest {
	return []suiteTest{
		storeTest("lookups", testOrgLookups),
		storeTest("replace removes what the new org lacks", testOrgReplace),
		{name: "invalid org keeps the old one", run: testOrgInvalid},
	}
}

func testOrgLookups(t *testing.T, s flows.Store) {
	ctx := t.Context()
	org := SampleOrg()
	require.NoError(t, s.ReplaceOrg(ctx, org))
	byID := map[string]flows.User{}
	for _, u := range org.Users {
		byID[u.ID] = u
		got, err := s.User(ctx, u.ID)
		require.NoError(t, err)
		RequireUser(t, u, got)
		for platform, pid := range u.PlatformIDs {
			got, err := s.UserByPlatformID(ctx, platform, pid)
			require.NoError(t, err, "%s %s", platform, pid)
			RequireUser(t, u, got)
		}
	}
	all, err := s.Users(ctx)
	require.NoError(t, err)
	require.Len(t, all, len(org.Users))
	for i := 1; i < len(all); i++ {
		require.Less(t, all[i-1].ID, all[i].ID, "users are ordered by id")
	}
	for _, u := range all {
		RequireUser(t, byID[u.ID], u)
	}
	for _, d := range org.Departments {
		got, err := s.Department(ctx, d.ID)
		require.NoError(t, err)
		require.Equal(t, d, got)
	}

	tests := []struct {
		name string
		role string
		want []string
	}{
		{name: "several holders ordered by id", role: "finance", want: []string{"u-bob", "u-carol"}},
		{name: "one holder", role: "director", want: []string{"u-boss"}},
		{name: "nobody", role: "warehouse", want: []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := s.UsersWithRole(ctx, tc.role)
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(got, userID))
			for _, u := range got {
				RequireUser(t, byID[u.ID], u)
			}
		})
	}

	// A platform id is looked up on its own platform only.
	_, err = s.UserByPlatformID(ctx, "wecom", "ou_bob")
	require.ErrorIs(t, err, flows.ErrNotFound)
}

func testOrgReplace(t *testing.T, s flows.Store) {
	ctx := t.Context()
	require.NoError(t, s.ReplaceOrg(ctx, SampleOrg()))

	// Bob leaves, d-fin is dissolved, Carol changes her Feishu id,
	// department, locale and time zone, Alice becomes finance, a new
	// department appears.
	next := SampleOrg()
	next.Departments = []flows.Department{next.Departments[0], {ID: "d-ops", Name: "运营部", Parent: "d-root"}}
	carol := next.Users[1]
	carol.Department = "d-ops"
	carol.Locale, carol.TimeZone = "en", "America/New_York"
	carol.PlatformIDs = map[string]string{"feishu": "ou_carol2"}
	alice := next.Users[3]
	alice.Roles = []string{"finance"}
	next.Users = []flows.User{next.Users[0], carol, alice}
	require.NoError(t, s.ReplaceOrg(ctx, next))

	gone := []struct {
		name string
		call func() error
	}{
		{name: "removed user", call: func() error { _, err := s.User(ctx, "u-bob"); return err }},
		{name: "removed user's platform id", call: func() error { _, err := s.UserByPlatformID(ctx, "sim", "bob"); return err }},
		{name: "replaced platform id", call: func() error { _, err := s.UserByPlatformID(ctx, "feishu", "ou_carol"); return err }},
		{name: "dropped platform", call: func() error { _, err := s.UserByPlatformID(ctx, "dingtalk", "0123carol"); return err }},
		{name: "removed department", call: func() error { _, err := s.Department(ctx, "d-fin"); return err }},
	}
	for _, tc := range gone {
		require.ErrorIs(t, tc.call(), flows.ErrNotFound, tc.name)
	}

	got, err := s.UserByPlatformID(ctx, "feishu", "ou_carol2")
	require.NoError(t, err)
	RequireUser(t, carol, got)
	finance, err := s.UsersWithRole(ctx, "finance")
	require.NoError(t, err)
	require.Equal(t, []string{"u-alice", "u-carol"}, ids(finance, userID))
	dept, err := s.Department(ctx, "d-ops")
	require.NoError(t, err)
	require.Equal(t, next.Departments[1], dept)

	require.NoError(t, s.ReplaceOrg(ctx, flows.Org{}))
	_, err = s.User(ctx, "u-boss")
	require.ErrorIs(t, err, flows.ErrNotFound, "an empty org removes everyone")
}

func testOrgInvalid(t *testing.T, newStore NewStoreFunc) {
	tests := []struct {
		name  string
		spoil func(o *flows.Org)
	}{
		{name: "duplicate user id", spoil: func(o *flows.Org) { o.Users = append(o.Users, flows.User{ID: "u-bob", Name: "Bob 2"}) }},
		{
			name: "platform id mapped to two users",
			spoil: func(o *flows.Org) {
				o.Users = append(o.Users, flows.User{ID: "u-dave", PlatformIDs: map[string]string{"feishu": "ou_bob"}})
			},
		},
		{
			name: "duplicate department id",
			spoil: func(o *flows.Org) {
				o.Departments = append(o.Departments, flows.Department{ID: "d-fin", Name: "又一个"})
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			ctx := t.Context()
			old := SampleOrg()
			require.NoError(t, s.ReplaceOrg(ctx, old))

			bad := SampleOrg()
			bad.Users = bad.Users[1:] // would remove u-boss if it were applied
			tc.spoil(&bad)
			require.Error(t, s.ReplaceOrg(ctx, bad))

			boss, err := s.User(ctx, "u-boss")
			require.NoError(t, err, "the old org must be intact")
			RequireUser(t, old.Users[0], boss)
			bob, err := s.UserByPlatformID(ctx, "feishu", "ou_bob")
			require.NoError(t, err)
			RequireUser(t, old.Users[2], bob)
		})
	}
}
