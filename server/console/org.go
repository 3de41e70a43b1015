package console

import (
	"net/http"
	"slices"
	"strings"

	"cardflow/flows"
)

type orgUser struct {
	flows.User
	Dept      string
	Manager   string
	Platforms string // "飞书: ou_…, 聊天模拟器: qian", sorted
}

type orgData struct {
	Users       []orgUser
	Proxies     []flows.Proxy
	Names       map[string]string
	Delegations []taskRow
}

// org shows the directory: people with their roles and platform ids, the
// leave proxies, and the tasks delegated now (委派).
func (c *Console) org(w http.ResponseWriter, r *http.Request) {
	l := c.locale(r)
	ctx := r.Context()
	users, err := c.d.Engine.Users(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := orgData{Names: map[string]string{}}
	depts := map[string]string{}
	for _, u := range users {
		d.Names[u.ID] = u.Name
	}
	for _, u := range users {
		ou := orgUser{User: u, Manager: d.Names[u.Manager]}
		if u.Department != "" {
			name, ok := depts[u.Department]
			if !ok {
				name = u.Department
				if dep, err := c.d.Engine.Department(ctx, u.Department); err == nil && dep.Name != "" {
					name = dep.Name
				}
				depts[u.Department] = name
			}
			ou.Dept = name
		}
		var ids []string
		for p, id := range u.PlatformIDs {
			ids = append(ids, platformName(l, p)+": "+id)
		}
		slices.Sort(ids)
		ou.Platforms = strings.Join(ids, ", ")
		d.Users = append(d.Users, ou)
	}
	if d.Proxies, err = c.d.Engine.ListProxies(ctx); err != nil {
		c.fail(w, r, err)
		return
	}
	// The store selects the delegated tasks: among many open tasks, the
	// newest delegations are not cut off by a cap on all of them.
	delegated, err := c.d.Store.Tasks(ctx, flows.TaskFilter{Status: flows.TaskOpen, Delegated: true, Limit: countCap})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Delegations, err = c.taskRows(ctx, r, delegated); err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "org", "org", d)
}
