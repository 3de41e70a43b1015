package api

import (
	"context"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"cardflow/config"
	"cardflow/flows"
	"cardflow/server"
)

// CodeNotAdminToken answers a request that needs an admin token.
const CodeNotAdminToken = "admin_token_required"

// WithAdminTokens sets the bearer tokens that may also administer (set and
// delete leave proxies). They are accepted wherever an API token is.
func (a *API) WithAdminTokens(tokens []config.Secret) *API {
	a.admin = tokens
	return a
}

// adminKey marks a request made with an admin token.
type adminKey struct{}

func isAdmin(ctx context.Context) bool { ok, _ := ctx.Value(adminKey{}).(bool); return ok }

// requireAdmin lets through only requests made with an admin token.
func requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isAdmin(r.Context()) {
			server.WriteError(w, http.StatusForbidden, CodeNotAdminToken,
				"setting leave proxies needs an admin token (CARDFLOW_SERVER_ADMIN_TOKENS)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// proxyJSON is a leave proxy rule (代理) as the API reads and writes it.
type proxyJSON struct {
	ID     string    `json:"id"`
	User   string    `json:"user"`
	By     string    `json:"by"`
	From   time.Time `json:"from"`
	Until  time.Time `json:"until"`
	Flows  []string  `json:"flows,omitempty"`
	Source string    `json:"source"`
}

func toProxyJSON(p flows.Proxy) proxyJSON {
	return proxyJSON{ID: p.ID, User: p.User, By: p.By, From: p.From, Until: p.Until, Flows: p.Flows, Source: p.Source}
}

func (a *API) listProxies(w http.ResponseWriter, r *http.Request) {
	ps, err := a.engine.ListProxies(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]proxyJSON, len(ps))
	for i, p := range ps {
		out[i] = toProxyJSON(p)
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"proxies": out})
}

// setProxyRequest is the body of POST /api/v1/proxies.
type setProxyRequest struct {
	ID    string    `json:"id"`
	User  string    `json:"user"`
	By    string    `json:"by"`
	From  time.Time `json:"from"`
	Until time.Time `json:"until"`
	Flows []string  `json:"flows"`
}

func (a *API) setProxy(w http.ResponseWriter, r *http.Request) {
	var req setProxyRequest
	if _, ok := a.decode(w, r, &req); !ok {
		return
	}
	p, err := a.engine.SetProxy(r.Context(), flows.Proxy{ID: req.ID, User: req.User, By: req.By,
		From: req.From, Until: req.Until, Flows: req.Flows})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.log.Info("leave proxy set", "id", p.ID, "user", p.User, "by", p.By, "from", p.From, "until", p.Until, "flows", p.Flows)
	server.WriteJSON(w, http.StatusOK, map[string]any{"proxy": toProxyJSON(p)})
}

func (a *API) deleteProxy(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if err := a.engine.DeleteProxy(r.Context(), id); err != nil {
		a.fail(w, r, err)
		return
	}
	a.log.Info("leave proxy deleted", "id", id)
	server.WriteJSON(w, http.StatusOK, map[string]any{"deleted": id})
}
