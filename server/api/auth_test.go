package api_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot/bottest"
	"cardflow/config"
	"cardflow/internal/exampletest"
	"cardflow/server"
	"cardflow/server/api"
	"cardflow/server/apitoken"
)

// authWorld is a server whose API takes the configured token (write) and
// adminToken (admin), and stored tokens checked at now.
type authWorld struct {
	url   string
	store apitoken.Store
	log   *bottest.Log
	now   time.Time
	// plain are the stored tokens by role: read, write, admin, revoked,
	// expired.
	plain map[string]string
	ids   map[string]string
}

// created is when the world's stored tokens were made; the server's clock
// reads two hours later, past the expired token's end.
var created = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func newAuthWorld(t *testing.T) *authWorld {
	t.Helper()
	store, engine := exampletest.World(t)
	w := &authWorld{store: store, log: bottest.NewLog(), now: created.Add(2 * time.Hour),
		plain: map[string]string{}, ids: map[string]string{}}
	for _, c := range []struct {
		role    string
		scope   apitoken.Scope
		expires time.Time
	}{
		{"read", apitoken.ScopeRead, time.Time{}},
		{"write", apitoken.ScopeWrite, time.Time{}},
		{"admin", apitoken.ScopeAdmin, time.Time{}},
		{"revoked", apitoken.ScopeAdmin, time.Time{}},
		{"expired", apitoken.ScopeAdmin, created.Add(time.Hour)},
	} {
		tok, plain, err := apitoken.Create(t.Context(), store, apitoken.CreateParams{
			Name: c.role, Scope: c.scope, CreatedBy: "test", ExpiresAt: c.expires}, created)
		require.NoError(t, err)
		w.plain[c.role], w.ids[c.role] = plain, tok.ID
	}
	_, err := store.RevokeAPIToken(t.Context(), w.ids["revoked"], created.Add(time.Minute))
	require.NoError(t, err)

	verifier := apitoken.NewVerifier(store, func() time.Time { return w.now }, w.log.Logger)
	a := api.New(engine, []config.Secret{token}, w.log.Logger).
		WithAdminTokens([]config.Secret{adminToken}).WithTokenStore(verifier)
	w.url = serveAPI(t, config.Default(), server.Deps{Logger: w.log.Logger, Routes: a.Routes})
	return w
}

// proxyRule is a valid leave proxy rule for the admin route.
func proxyRule() string {
	from := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	until := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	return `{"user":"u_qian","by":"u_wu","from":"` + from + `","until":"` + until + `"}`
}

func TestScopes(t *testing.T) {
	t.Parallel()
	w := newAuthWorld(t)
	wrongSecret := w.plain["admin"][:len(w.plain["admin"])-4] + "AAAA"
	if wrongSecret == w.plain["admin"] {
		wrongSecret = w.plain["admin"][:len(w.plain["admin"])-4] + "BBBA"
	}
	const read, write, admin = "GET", "POST", "POST"
	tests := []struct {
		name   string
		auth   string // the Authorization header; a role names a stored token
		method string
		path   string
		body   string
		status int
		code   string
	}{
		{"read token reads", "read", read, "/tasks?assignee=u_qian", "", 200, ""},
		{"read token may not start", "read", write, "/instances", order("500.00"), 403, api.CodeInsufficientScope},
		{"read token may not set proxies", "read", admin, "/proxies", proxyRule(), 403, api.CodeInsufficientScope},
		{"write token starts", "write", write, "/instances", order("500.00"), 201, ""},
		{"write token reads", "write", read, "/proxies", "", 200, ""},
		{"write token may not set proxies", "write", admin, "/proxies", proxyRule(), 403, api.CodeNotAdminToken},
		{"admin token sets proxies", "admin", admin, "/proxies", proxyRule(), 200, ""},
		{"admin token starts", "admin", write, "/instances", order("600.00"), 201, ""},
		{"revoked token", "revoked", read, "/tasks?assignee=u_qian", "", 401, api.CodeInvalidToken},
		{"expired token", "expired", read, "/tasks?assignee=u_qian", "", 401, api.CodeInvalidToken},
		{"wrong secret", "Bearer " + wrongSecret, read, "/tasks?assignee=u_qian", "", 401, api.CodeInvalidToken},
		{"unknown id", "Bearer cf_tok_aaaaaaaa_" + strings.Repeat("A", 43), read, "/tasks?assignee=u_qian", "", 401, api.CodeInvalidToken},
		{"malformed", "Bearer cf_tok_short", read, "/tasks?assignee=u_qian", "", 401, api.CodeInvalidToken},
		{"unknown config-like token", "Bearer nope-nope-nope-nope-nope", read, "/tasks?assignee=u_qian", "", 401, api.CodeInvalidToken},
		{"no header", "", read, "/tasks?assignee=u_qian", "", 401, api.CodeUnauthorized},
		{"not bearer", "Basic " + token, read, "/tasks?assignee=u_qian", "", 401, api.CodeUnauthorized},
		{"empty bearer", "Bearer ", read, "/tasks?assignee=u_qian", "", 401, api.CodeUnauthorized},
		{"config token acts", "Bearer " + token, write, "/instances", order("700.00"), 201, ""},
		{"config token may not set proxies", "Bearer " + token, admin, "/proxies", proxyRule(), 403, api.CodeNotAdminToken},
		{"config admin token sets proxies", "Bearer " + adminToken, admin, "/proxies", proxyRule(), 200, ""},
	}
	invalid := map[string]bool{} // the bodies of every invalid_token answer
	for _, tt := range tests {
		auth := tt.auth
		if p, ok := w.plain[auth]; ok {
			auth = "Bearer " + p
		}
		c := &client{t: t, base: w.url, auth: auth}
		status, body := c.do(tt.method, tt.path, nilIfEmpty(tt.body))
		require.Equal(t, tt.status, status, "%s: %v", tt.name, body)
		require.Equal(t, tt.code, errCode(body), tt.name)
		if tt.code == api.CodeInvalidToken {
			invalid[body["error"].(map[string]any)["message"].(string)] = true
		}
	}
	require.Len(t, invalid, 1, "one answer for every invalid token, so none tells why: %v", invalid)

	got, err := w.store.APIToken(t.Context(), w.ids["read"])
	require.NoError(t, err)
	require.Equal(t, w.now, got.LastUsedAt, "a use is recorded")
	got, err = w.store.APIToken(t.Context(), w.ids["revoked"])
	require.NoError(t, err)
	require.True(t, got.LastUsedAt.IsZero(), "a refused token is not used")

	logged := w.log.String()
	require.Contains(t, logged, `"caller":"token:`+w.ids["read"]+`"`, "requests are attributed to the token id")
	require.Contains(t, logged, `"caller":"config:admin_tokens[0]"`)
	var secrets []string
	for _, p := range w.plain {
		secrets = append(secrets, p, p[len(p)-43:])
	}
	bottest.AssertNoLeak(t, append(secrets, token, adminToken), nil, logged)
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// TestScopeAnswers checks what a refused client reads: the challenge
// header naming the scope it lacks, and the text in its language.
func TestScopeAnswers(t *testing.T) {
	t.Parallel()
	w := newAuthWorld(t)
	tests := []struct {
		name      string
		token     string
		lang      string
		status    int
		challenge string
		message   string
	}{
		{"read token posts, zh", w.plain["read"], "", 403,
			`Bearer realm="cardflow", error="insufficient_scope", scope="write"`, "这个令牌只能读取，不能修改"},
		{"read token posts, en", w.plain["read"], "en-US,en;q=0.9", 403,
			`Bearer realm="cardflow", error="insufficient_scope", scope="write"`, "this token may read but not change anything"},
		{"revoked, zh", w.plain["revoked"], "zh-CN", 401,
			`Bearer realm="cardflow", error="invalid_token"`, "令牌无效、已过期或已被吊销"},
		{"revoked, en", w.plain["revoked"], "en", 401,
			`Bearer realm="cardflow", error="invalid_token"`, "the token is not valid, has expired or was revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("POST", w.url+"/instances", strings.NewReader(order("500.00")))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+tt.token)
			if tt.lang != "" {
				req.Header.Set("Accept-Language", tt.lang)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, tt.status, resp.StatusCode, string(raw))
			require.Equal(t, tt.challenge, resp.Header.Get("WWW-Authenticate"))
			require.Contains(t, string(raw), `"message":"`+tt.message+`"`)
		})
	}
}

// TestTokenStoreUnavailable: a token that cannot be checked because the
// store is down is answered 503 (try again), not 401 (which would tell a
// client its good token is bad).
func TestTokenStoreUnavailable(t *testing.T) {
	t.Parallel()
	store, engine := exampletest.World(t)
	_, plain, err := apitoken.Create(t.Context(), store, apitoken.CreateParams{Name: "n", Scope: apitoken.ScopeRead}, time.Now())
	require.NoError(t, err)
	require.NoError(t, store.Close())
	a := api.New(engine, nil, nil).WithTokenStore(apitoken.NewVerifier(store, nil, nil))
	base := serveAPI(t, config.Default(), server.Deps{Routes: a.Routes})
	c := bearer(t, base, plain)
	status, body := c.do("GET", "/proxies", nil)
	require.Equal(t, http.StatusServiceUnavailable, status, body)
	require.Equal(t, api.CodeUnavailable, errCode(body))
}
