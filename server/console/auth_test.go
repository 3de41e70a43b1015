package console_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/config"
	"cardflow/server/console"
)

func TestLogin(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name     string
		path     string
		form     url.Values
		lang     string
		status   int
		location string
		text     string
	}{
		{name: "good password", path: "/console/login", form: url.Values{"name": {"ops"}, "password": {password}},
			status: http.StatusSeeOther, location: "/console/"},
		{name: "wrong password", path: "/console/login", form: url.Values{"name": {"ops"}, "password": {"wrong"}},
			status: http.StatusUnauthorized, text: "用户名或密码不正确"},
		{name: "unknown user, same answer", path: "/console/login", form: url.Values{"name": {"nobody"}, "password": {password}},
			status: http.StatusUnauthorized, text: "用户名或密码不正确"},
		{name: "in English", path: "/console/login", form: url.Values{"name": {"ops"}, "password": {"wrong"}}, lang: "en",
			status: http.StatusUnauthorized, text: "Wrong user name or password"},
		{name: "admin token", path: "/console/login/token", form: url.Values{"token": {adminToken}},
			status: http.StatusSeeOther, location: "/console/"},
		{name: "wrong token", path: "/console/login/token", form: url.Values{"token": {"not-the-token-0123456789"}},
			status: http.StatusUnauthorized, text: "用户名或密码不正确"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := b.visitor()
			var header []string
			if tt.lang != "" {
				header = []string{"Cookie", "cf_console_lang=" + tt.lang}
			}
			p := br.do(http.MethodPost, tt.path, tt.form, header...)
			require.Equal(t, tt.status, p.status, p.body)
			require.Equal(t, tt.location, p.location)
			require.Contains(t, p.body, tt.text)
			cookie := strings.Join(p.header.Values("Set-Cookie"), "\n")
			if tt.status == http.StatusSeeOther {
				require.Contains(t, cookie, "cf_console_session=")
				require.Contains(t, cookie, "HttpOnly")
				require.Contains(t, cookie, "SameSite=Lax")
				require.Equal(t, http.StatusOK, br.get("/console/").status, "the session opens the dashboard")
			} else {
				require.NotContains(t, cookie, "cf_console_session=")
			}
		})
	}
}

// TestLoginRateLimited: five failures for a name, then every attempt waits,
// even with the right password, twice as long after each further failure;
// another name from the same address waits too.
func TestLoginRateLimited(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.visitor()
	bad := url.Values{"name": {"ops"}, "password": {"wrong"}}
	for range 5 {
		require.Equal(t, http.StatusUnauthorized, br.post("/console/login", bad).status)
	}
	p := br.post("/console/login", url.Values{"name": {"ops"}, "password": {password}})
	require.Equal(t, http.StatusTooManyRequests, p.status)
	require.Equal(t, "1", p.header.Get("Retry-After"))
	require.Contains(t, p.body, "尝试次数过多，请 1 秒后再试")
	p = br.post("/console/login", url.Values{"name": {"someone-else"}, "password": {"x"}})
	require.Equal(t, http.StatusTooManyRequests, p.status, "the address is throttled too")

	b.clock.Advance(time.Second)
	require.Equal(t, http.StatusUnauthorized, br.post("/console/login", bad).status, "one more try after the wait")
	p = br.post("/console/login", url.Values{"name": {"ops"}, "password": {password}})
	require.Equal(t, http.StatusTooManyRequests, p.status)
	require.Equal(t, "2", p.header.Get("Retry-After"), "the wait doubles")

	b.clock.Advance(2 * time.Second)
	p = br.post("/console/login", url.Values{"name": {"ops"}, "password": {password}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.visitor()
	token := br.login()
	id := b.startOrder("6800.00")
	path := "/console/instances/" + id + "/urge"
	tests := []struct {
		name   string
		form   url.Values
		header []string
		status int
	}{
		{name: "cross-origin", form: url.Values{"csrf": {token}}, header: []string{"Sec-Fetch-Site", "cross-site"},
			status: http.StatusForbidden},
		{name: "other origin header", form: url.Values{"csrf": {token}}, header: []string{"Origin", "https://evil.example"},
			status: http.StatusForbidden},
		{name: "no token", form: url.Values{}, status: http.StatusForbidden},
		{name: "wrong token", form: url.Values{"csrf": {token + "x"}}, status: http.StatusForbidden},
		{name: "good token", form: url.Values{"csrf": {token}}, status: http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := br.do(http.MethodPost, path, tt.form, tt.header...)
			require.Equal(t, tt.status, p.status, p.body)
		})
	}
	audit, err := b.store.Audit(t.Context(), id)
	require.NoError(t, err)
	urged := 0
	for _, a := range audit {
		if a.Action == "urge" {
			urged++
			require.Equal(t, "u_shen", a.Actor, "the operator acts as their org user")
		}
	}
	require.Equal(t, 1, urged, "only the good request urged")
	other := b.visitor()
	p := other.post(path, url.Values{"csrf": {token}})
	require.Equal(t, http.StatusUnauthorized, p.status, "another session's token without its cookie is refused")
}

func TestLogout(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.visitor()
	token := br.login()
	p := br.post("/console/logout", url.Values{"csrf": {token}})
	require.Equal(t, http.StatusSeeOther, p.status)
	require.Equal(t, "/console/login", p.location)
	require.Contains(t, strings.Join(p.header.Values("Set-Cookie"), "\n"), "cf_console_session=; Path=/console/; Max-Age=0")
	login := br.get("/console/login")
	require.Contains(t, login.body, "已退出登录")
	p = br.get("/console/")
	require.Equal(t, http.StatusSeeOther, p.status)
	require.Equal(t, "/console/login", p.location)
}

func TestSessionExpires(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.visitor()
	br.login()
	b.clock.Advance(time.Hour)
	p := br.get("/console/")
	require.Equal(t, http.StatusSeeOther, p.status, "a session ends after console.session_ttl")
}

// TestForgedSession: a session cookie whose body was changed after it was
// signed is refused, here one given a later expiry once the real one ran
// out.
func TestForgedSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cookie := sessionCookieOf(t, b.visitor().post("/console/login", url.Values{"name": {"ops"}, "password": {password}}))
	b64, sig, ok := strings.Cut(strings.TrimPrefix(cookie, "cf_console_session="), ".")
	require.True(t, ok)
	body, err := base64.RawURLEncoding.DecodeString(b64)
	require.NoError(t, err)
	var se map[string]any
	require.NoError(t, json.Unmarshal(body, &se))
	require.Contains(t, se, "e")
	se["e"] = b.clock.Now().Add(24 * time.Hour).Unix()
	body, err = json.Marshal(se)
	require.NoError(t, err)
	forged := "cf_console_session=" + base64.RawURLEncoding.EncodeToString(body) + "." + sig

	require.Equal(t, http.StatusOK, b.visitor().do(http.MethodGet, "/console/", nil, "Cookie", cookie).status,
		"the real cookie opens the dashboard")
	b.clock.Advance(2 * time.Hour)
	p := b.visitor().do(http.MethodGet, "/console/", nil, "Cookie", forged)
	require.Equal(t, http.StatusSeeOther, p.status, "the forged expiry does not pass the signature")
	require.Equal(t, "/console/login", p.location)
}

// sessionCookieOf is the session cookie an answer sets, as a Cookie header.
func sessionCookieOf(t *testing.T, p page) string {
	t.Helper()
	for _, c := range p.header.Values("Set-Cookie") {
		if v, ok := strings.CutPrefix(c, "cf_console_session="); ok {
			return "cf_console_session=" + strings.SplitN(v, ";", 2)[0]
		}
	}
	t.Fatalf("no session cookie in %v", p.header)
	return ""
}

func TestSwitchLanguage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.visitor()
	br.login()
	require.Contains(t, br.get("/console/").body, "各状态的流程实例")
	p := br.get("/console/lang?to=en&back=" + url.QueryEscape("/console/tasks"))
	require.Equal(t, http.StatusSeeOther, p.status)
	require.Equal(t, "/console/tasks", p.location)
	require.Contains(t, br.get("/console/").body, "Instances by state")
	p = br.get("/console/lang?to=zh-CN&back=" + url.QueryEscape("https://evil.example/"))
	require.Equal(t, "/console/", p.location, "only the console's own pages are gone back to")
	for _, out := range []string{"/console/../api/v1/openapi.json", "/console/%2e%2e/sim/", "/console//x"} {
		p = br.get("/console/lang?to=zh-CN&back=" + url.QueryEscape(out))
		require.Equal(t, "/console/", p.location, "%s climbs out of the console", out)
	}
}

// TestLoginGoesOnToThePageAskedFor: a link to a console page, opened
// without a session, lands on that page once logged in; a next that is
// not a console page lands on the dashboard.
func TestLoginGoesOnToThePageAskedFor(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.startOrder("100.00")
	br := b.visitor()
	p := br.get("/console/instances/" + id)
	require.Equal(t, http.StatusSeeOther, p.status)
	require.Equal(t, "/console/login?next="+url.QueryEscape("/console/instances/"+id), p.location)
	form := br.get(p.location)
	require.Contains(t, form.body, `name="next" value="/console/instances/`+id+`"`)
	p = br.post("/console/login", url.Values{"name": {"ops"}, "password": {password}, "next": {"/console/instances/" + id}})
	require.Equal(t, "/console/instances/"+id, p.location)
	for _, bad := range []string{"https://evil.example/", "/console/../sim/", "/console/login"} {
		p = b.visitor().post("/console/login", url.Values{"name": {"ops"}, "password": {password}, "next": {bad}})
		require.Equal(t, "/console/", p.location, bad)
	}
}

// TestSecureCookies: behind an https server.public_url every cookie is
// Secure, though the request reaching cardflow is plain HTTP.
func TestSecureCookies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		secure bool
	}{
		{name: "https public URL", secure: true},
		{name: "plain HTTP", secure: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setupWith(t, func(c *console.Config) { c.Secure = tt.secure })
			p := b.visitor().post("/console/login", url.Values{"name": {"ops"}, "password": {password}})
			require.Equal(t, http.StatusSeeOther, p.status)
			cookie := strings.Join(p.header.Values("Set-Cookie"), "\n")
			require.Contains(t, cookie, "cf_console_session=")
			if tt.secure {
				require.Contains(t, cookie, "; Secure")
			} else {
				require.NotContains(t, cookie, "Secure")
			}
		})
	}
}

// TestSessionEndsWithItsCredential: a session is good on every instance
// with the same session secret only while the credential it logged in
// with is configured there for the same identity: a changed password, a
// removed user, a moved acts_as or a revoked admin token ends it.
func TestSessionEndsWithItsCredential(t *testing.T) {
	t.Parallel()
	a := setup(t)
	user := sessionCookieOf(t, a.visitor().post("/console/login", url.Values{"name": {"ops"}, "password": {password}}))
	token := sessionCookieOf(t, a.visitor().post("/console/login/token", url.Values{"token": {adminToken}}))
	tests := []struct {
		name   string
		edit   func(*console.Config)
		cookie string
		good   bool
	}{
		{name: "the same admin token elsewhere", edit: func(*console.Config) {}, cookie: token, good: true},
		{name: "a new password hash", edit: func(*console.Config) {}, cookie: user},
		{name: "the user removed", edit: func(c *console.Config) { c.Users = nil }, cookie: user},
		{name: "the admin token revoked", edit: func(c *console.Config) {
			c.AdminTokens = []config.Secret{"another-admin-token-0123456789"}
		}, cookie: token},
		{name: "token log-in acting as someone else now", edit: func(c *console.Config) { c.AdminActsAs = "u_zhou" }, cookie: token},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupWith(t, tt.edit) // same session secret; each build hashes the password anew
			p := b.visitor().do(http.MethodGet, "/console/", nil, "Cookie", tt.cookie)
			if tt.good {
				require.Equal(t, http.StatusOK, p.status)
				return
			}
			require.Equal(t, http.StatusSeeOther, p.status)
			require.Equal(t, "/console/login", p.location)
			require.Contains(t, strings.Join(p.header.Values("Set-Cookie"), "\n"), "cf_console_session=;",
				"the stale cookie is cleared")
			login := b.visitor().do(http.MethodGet, "/console/login", nil, "Cookie", tt.cookie)
			require.Equal(t, http.StatusOK, login.status, "the log-in page shows: no loop between it and the dashboard")
		})
	}
	require.Equal(t, http.StatusOK, a.visitor().do(http.MethodGet, "/console/", nil, "Cookie", user).status,
		"where the credential stands, the session does")
}
