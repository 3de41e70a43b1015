package flows

import (
	"regexp"
	"slices"
	"strings"
	"time"
	// The zone database is built in, so that an org file's time zones
	// validate, and cards show times, the same on every host (a minimal
	// container image may have no /usr/share/zoneinfo).
	_ "time/tzdata"
)

// Platforms are the chat platforms a user may have an id on.
var Platforms = []string{"feishu", "wecom", "dingtalk", "sim"}

// Locales are the languages a user may read cards in: the org file's
// locale key takes one of them.
var Locales = []string{"zh-CN", "en"}

// Defaults of a user's locale and time zone in the org file.
const (
	DefaultLocale   = "zh-CN"
	DefaultTimeZone = "Asia/Shanghai"
)

// SystemActor is the actor of audit entries the engine writes by itself
// (timeouts, auto-skips), so no user may have it as id.
const SystemActor = "system"

// orgID is what user, role and department ids look like.
var orgID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// ParseOrg parses and validates an org directory file (see
// configs/org.example.yaml): roles, departments with parent and head, users
// with department, manager, roles and platform ids. The error is a
// *ValidationError listing every problem with its line: duplicate ids,
// unknown departments, managers, heads and roles, manager or department
// cycles, unknown platforms and platform ids used twice.
func ParseOrg(filename string, src []byte) (Org, error) {
	p := &problems{file: filename}
	root := p.parseDocument(src)
	if root == nil {
		return Org{}, p.err()
	}
	m, ok := p.mapping(root, "org")
	if !ok {
		return Org{}, p.err()
	}
	m.only("org", "roles", "departments", "users", "proxies")
	r := &orgReader{p: p, userLine: map[string]int{}, deptLine: map[string]int{}}
	r.roles(m)
	depts := r.departments(m)
	users := r.users(m)
	proxies := r.proxies(m)
	r.checkRefs(depts, users)
	if err := p.err(); err != nil {
		return Org{}, err
	}
	return Org{Users: users, Departments: depts, Proxies: proxies}, nil
}

// orgReader keeps the lines of ids for cross-reference messages.
type orgReader struct {
	p        *problems
	roleSet  map[string]bool // nil when the file declares no roles
	userLine map[string]int
	deptLine map[string]int
	// lines of references, checked once every id is known
	refs []orgRef
}

type orgRef struct {
	line             int
	subject, key, id string
	kind             string // "user" or "department"
}

func (r *orgReader) id(m *mapping, subject string, seen map[string]int) (string, string) {
	id := m.required(subject, "id")
	if id == "" {
		return "", subject
	}
	subject += " " + id
	switch {
	case !orgID.MatchString(id):
		r.p.atLine(m.line("id"), "%s: id may hold letters, digits, _ . - only", subject)
	case seen[id] > 0:
		r.p.atLine(m.line("id"), "%s: duplicate id (first at line %d)", subject, seen[id])
		return "", subject
	}
	seen[id] = m.line("id")
	return id, subject
}

func (r *orgReader) roles(m *mapping) {
	if !m.has("roles") {
		return
	}
	r.roleSet = map[string]bool{}
	seen := map[string]int{}
	for _, n := range m.seq("org", "roles") {
		rm, ok := r.p.mapping(n, "role")
		if !ok {
			continue
		}
		id, subject := r.id(rm, "role", seen)
		rm.only(subject, "id", "name")
		if id != "" {
			r.roleSet[id] = true
		}
	}
}

func (r *orgReader) departments(m *mapping) []Department {
	if !m.has("departments") {
		r.p.at(m.node, "org: departments is required")
	}
	var out []Department
	for _, n := range m.seq("org", "departments") {
		dm, ok := r.p.mapping(n, "department")
		if !ok {
			continue
		}
		id, subject := r.id(dm, "department", r.deptLine)
		dm.only(subject, "id", "name", "parent", "head")
		d := Department{ID: id, Name: dm.required(subject, "name"), Parent: dm.str(subject, "parent"), Head: dm.str(subject, "head")}
		r.ref(dm, subject, "parent", d.Parent, "department")
		if d.Parent != "" && d.Parent == id {
			r.p.atLine(dm.line("parent"), "%s: parent: a department cannot contain itself", subject)
		}
		r.ref(dm, subject, "head", d.Head, "user")
		if id != "" {
			out = append(out, d)
		}
	}
	return out
}

func (r *orgReader) users(m *mapping) []User {
	if !m.has("users") {
		r.p.at(m.node, "org: users is required")
	}
	var out []User
	platformIDs := map[string]map[string]int{}
	for _, n := range m.seq("org", "users") {
		um, ok := r.p.mapping(n, "user")
		if !ok {
			continue
		}
		id, subject := r.id(um, "user", r.userLine)
		um.only(subject, "id", "name", "department", "manager", "roles", "platform_ids", "locale", "time_zone")
		if id == SystemActor {
			r.p.atLine(um.line("id"), "%s: id %q is reserved for the engine's own actions", subject, id)
		}
		u := User{ID: id, Name: um.required(subject, "name"), Department: um.required(subject, "department"),
			Manager: um.str(subject, "manager"), Roles: um.list(subject, "roles")}
		r.ref(um, subject, "department", u.Department, "department")
		r.ref(um, subject, "manager", u.Manager, "user")
		if u.Manager != "" && u.Manager == id {
			r.p.atLine(um.line("manager"), "%s: manager: a user cannot manage themselves", subject)
		}
		for _, role := range u.Roles {
			if r.roleSet != nil && !r.roleSet[role] {
				r.p.atLine(um.line("roles"), "%s: roles: %q is not a declared role", subject, role)
			}
		}
		u.PlatformIDs = r.platformIDs(um, subject, platformIDs)
		u.Locale, u.TimeZone = r.locale(um, subject), r.timeZone(um, subject)
		if id != "" {
			out = append(out, u)
		}
	}
	return out
}

// locale reads the language a user reads cards in; DefaultLocale when the
// file names none.
func (r *orgReader) locale(um *mapping, subject string) string {
	if !um.has("locale") {
		return DefaultLocale
	}
	l := um.required(subject, "locale")
	if strings.TrimSpace(l) != "" && !slices.Contains(Locales, l) {
		r.p.atLine(um.line("locale"), "%s: locale: %q is not supported (want one of %s)", subject, l, strings.Join(Locales, ", "))
	}
	return l
}

// timeZone reads the zone a user reads times in, an IANA name;
// DefaultTimeZone when the file names none. "Local" is refused: it would
// mean whatever zone the server runs in.
func (r *orgReader) timeZone(um *mapping, subject string) string {
	if !um.has("time_zone") {
		return DefaultTimeZone
	}
	z := um.required(subject, "time_zone")
	if strings.TrimSpace(z) == "" {
		return z
	}
	if _, err := time.LoadLocation(z); err != nil || z == "Local" {
		r.p.atLine(um.line("time_zone"), "%s: time_zone: %q is not a time zone (want an IANA name like %s)", subject, z, DefaultTimeZone)
	}
	return z
}

// platformIDs reads platform → id, each id unique on its platform, since
// a callback's signed user id must map to one user.
func (r *orgReader) platformIDs(um *mapping, subject string, used map[string]map[string]int) map[string]string {
	if !um.has("platform_ids") {
		return nil
	}
	sub := subject + ": platform_ids"
	pm, ok := r.p.mapping(um.get("platform_ids"), sub)
	if !ok {
		return nil
	}
	pm.only(sub, Platforms...)
	out := map[string]string{}
	for _, k := range pm.keys {
		if !slices.Contains(Platforms, k.Value) {
			continue
		}
		v := pm.required(sub, k.Value)
		if v == "" {
			continue
		}
		if used[k.Value] == nil {
			used[k.Value] = map[string]int{}
		}
		if first := used[k.Value][v]; first > 0 {
			r.p.atLine(pm.line(k.Value), "%s: %s id %q is already used at line %d", sub, k.Value, v, first)
		}
		used[k.Value][v] = pm.line(k.Value)
		out[k.Value] = v
	}
	return out
}

func (r *orgReader) ref(m *mapping, subject, key, id, kind string) {
	if id != "" {
		r.refs = append(r.refs, orgRef{line: m.line(key), subject: subject, key: key, id: id, kind: kind})
	}
}

// checkRefs reports references to unknown ids and cycles of managers and
// of parent departments, which would make manager_of and department
// lookups loop.
func (r *orgReader) checkRefs(depts []Department, users []User) {
	at := map[string]int{} // "user u1.manager" → line of that key
	for _, ref := range r.refs {
		at[ref.subject+"."+ref.key] = ref.line
		known := r.userLine
		if ref.kind == "department" {
			known = r.deptLine
		}
		if known[ref.id] == 0 {
			r.p.atLine(ref.line, "%s: %s: unknown %s %q", ref.subject, ref.key, ref.kind, ref.id)
		}
	}
	manager := map[string]string{}
	for _, u := range users {
		manager[u.ID] = u.Manager
	}
	parent := map[string]string{}
	for _, d := range depts {
		parent[d.ID] = d.Parent
	}
	for _, u := range users {
		if c := cycleFrom(u.ID, manager); c != "" {
			r.p.atLine(at["user "+u.ID+".manager"], "user %s: manager: managers form a cycle: %s", u.ID, c)
		}
	}
	for _, d := range depts {
		if c := cycleFrom(d.ID, parent); c != "" {
			r.p.atLine(at["department "+d.ID+".parent"], "department %s: parent: departments form a cycle: %s", d.ID, c)
		}
	}
}

// cycleFrom returns "a → b → a" when following next from start returns to
// start, else "". Each cycle is reported at each of its members, which
// is where an operator may fix it. A self-reference is reported on its
// own, not as a cycle.
func cycleFrom(start string, next map[string]string) string {
	if next[start] == start {
		return ""
	}
	path := []string{start}
	for cur, steps := next[start], 0; cur != "" && steps <= len(next); cur, steps = next[cur], steps+1 {
		path = append(path, cur)
		if cur == start {
			return strings.Join(path, " → ")
		}
	}
	return ""
}
