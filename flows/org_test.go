package flows

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func loadExampleOrg(t *testing.T) Org {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "configs", "org.example.yaml"))
	require.NoError(t, err)
	o, err := ParseOrg("org.example.yaml", src)
	require.NoError(t, err)
	return o
}

func TestParseOrgExample(t *testing.T) {
	t.Parallel()
	o := loadExampleOrg(t)
	require.Len(t, o.Users, 13)
	require.Len(t, o.Departments, 7)
	require.Equal(t, Department{ID: "finance", Name: "财务部", Parent: "hq", Head: "u_zhao"}, o.Departments[1])
	require.Equal(t, User{
		ID: "u_qian", Name: "钱多多", Department: "finance", Manager: "u_zhao", Roles: []string{"finance"},
		PlatformIDs: map[string]string{"feishu": "ou_qian0003", "wecom": "QianDuoduo", "dingtalk": "0202", "sim": "qian"},
		Locale:      DefaultLocale, TimeZone: DefaultTimeZone,
	}, o.Users[2], "locale and time zone default to Chinese in China")
	shen := o.Users[len(o.Users)-1]
	require.Equal(t, "u_shen", shen.ID)
	require.Equal(t, "en", shen.Locale, "the IT admin reads English")
	require.Equal(t, DefaultTimeZone, shen.TimeZone)
	for _, u := range o.Users {
		require.Len(t, u.PlatformIDs, len(Platforms), "%s has an id on every platform", u.ID)
	}
	require.Equal(t, []Proxy{{ID: "org-1", User: "u_zhou", By: "u_wang", Source: ProxySourceOrg,
		From: time.Date(2027, 1, 31, 16, 0, 0, 0, time.UTC), Until: time.Date(2027, 2, 7, 16, 0, 0, 0, time.UTC),
		Flows: []string{"order_fulfilment", "campaign_launch"}}}, o.Proxies, "dates are China time")
}

func TestParseOrgBad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want []string
	}{
		{
			name: "bad",
			want: []string{
				`bad.yaml:3: role finance: duplicate id (first at line 2)`,
				`bad.yaml:4: role bad id: id may hold letters, digits, _ . - only`,
				`bad.yaml:6: department hq: head: unknown user "u_ghost"`,
				`bad.yaml:7: department a: parent: departments form a cycle: a → b → a`,
				`bad.yaml:8: department b: parent: departments form a cycle: b → a → b`,
				`bad.yaml:9: department c: parent: unknown department "nowhere"`,
				`bad.yaml:10: department hq: duplicate id (first at line 6)`,
				`bad.yaml:11: department: id is required`,
				`bad.yaml:16: user u1: manager: a user cannot manage themselves`,
				`bad.yaml:17: user u1: roles: "cook" is not a declared role`,
				`bad.yaml:18: user u1: platform_ids: unknown key "slack" (want one of dingtalk, feishu, sim, wecom)`,
				`bad.yaml:21: user u2: department: unknown department "mars"`,
				`bad.yaml:22: user u2: manager: managers form a cycle: u2 → u3 → u2`,
				`bad.yaml:23: user u2: platform_ids: feishu id "ou_1" is already used at line 18`,
				`bad.yaml:23: user u2: platform_ids: wecom must not be empty`,
				`bad.yaml:27: user u3: manager: managers form a cycle: u3 → u2 → u3`,
				`bad.yaml:28: user u1: duplicate id (first at line 13)`,
				`bad.yaml:31: user system: id "system" is reserved for the engine's own actions`,
				`bad.yaml:34: user u4: unknown key "colour" (want one of department, id, locale, manager, name, platform_ids, roles, time_zone)`,
				`bad.yaml:34: user u4: name is required`,
				`bad.yaml:35: user u5: locale: "fr" is not supported (want one of zh-CN, en)`,
				`bad.yaml:35: user u5: time_zone: "Mars/Olympus" is not a time zone (want an IANA name like Asia/Shanghai)`,
				`bad.yaml:36: user u6: locale must not be empty`,
				`bad.yaml:36: user u6: time_zone: "Local" is not a time zone (want an IANA name like Asia/Shanghai)`,
			},
		},
		{
			name: "proxies",
			want: []string{
				`proxies.yaml:7: proxy #1: u1 cannot be their own proxy`,
				`proxies.yaml:8: proxy #2: until must be after from`,
				`proxies.yaml:8: proxy #2: by: unknown user "u_ghost"`,
				`proxies.yaml:9: proxy #3: unknown key "note" (want one of by, flows, from, until, user)`,
				`proxies.yaml:9: proxy #3: from: "tomorrow" is not a time: write 2026-12-01, 2026-12-01 09:00 (China time) or RFC 3339`,
				`proxies.yaml:10: proxy #4: user is required`,
				`proxies.yaml:10: proxy #4: from is required`,
			},
		},
		{
			name: "missing",
			want: []string{
				`missing.yaml:1: org: unknown key "teams" (want one of departments, proxies, roles, users)`,
				`missing.yaml:1: org: departments is required`,
				`missing.yaml:1: org: users is required`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(filepath.Join("testdata", "org", tt.name+".yaml"))
			require.NoError(t, err)
			o, err := ParseOrg(tt.name+".yaml", src)
			require.Equal(t, Org{}, o)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tt.want, strings.Split(err.Error(), "\n"))
		})
	}
}

func TestParseOrgSelfParent(t *testing.T) {
	t.Parallel()
	_, err := ParseOrg("o.yaml", []byte("departments: [{id: a, name: A, parent: a}]\nusers: []\n"))
	require.EqualError(t, err, "o.yaml:1: department a: parent: a department cannot contain itself")
	_, err = ParseOrg("o.yaml", nil)
	require.EqualError(t, err, "o.yaml: empty file")
}

func TestCheckOrg(t *testing.T) {
	t.Parallel()
	o := loadExampleOrg(t)
	f, err := ParseFlow("typos.yaml", []byte(`id: typos
name: typos
settings:
  fallback: {role: root}
form:
  - {key: buyer, type: user}
steps:
  - id: a
    type: approval
    assignees: [{role: finance}, {role: financ}, {user: u_nobody}, {user: u_wang}]
    cc: {department_head: marketing}
    sla: 1h
    on_timeout: {escalate_to: {role: cfo}}
  - id: b
    type: alert
    assignees: [{department_head: applicant}, {manager_of: applicant}, {form_field: buyer}]
    dedupe_key: buyer
    escalation: [{after: 1h, assignees: {department_head: hq}}, {after: 2h, assignees: {department_head: nohead}}]
`))
	require.NoError(t, err)
	o.Departments = append(o.Departments, Department{ID: "nohead", Name: "空部门", Parent: "hq"})
	err = f.CheckOrg(o)
	require.Equal(t, []string{
		`typos.yaml:4: settings: fallback: no user in the org has role "root"`,
		`typos.yaml:10: step a: assignees: no user in the org has role "financ"`,
		`typos.yaml:10: step a: assignees: no user "u_nobody" in the org`,
		`typos.yaml:11: step a: cc: no department "marketing" in the org`,
		`typos.yaml:13: step a: on_timeout: escalate_to: no user in the org has role "cfo"`,
		`typos.yaml:18: step b: escalation: department "nohead" has no head`,
	}, strings.Split(err.Error(), "\n"))
}
