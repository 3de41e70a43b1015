package api

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"cardflow/config"
	"cardflow/flows"
	"cardflow/server"
	"cardflow/server/apitoken"
)

// CodeNotAdminToken answers a request that needs an admin token.
const CodeNotAdminToken = "admin_token_required"

// WithAdminTokens sets the configured bearer tokens of the admin scope:
// they may also administer (set and delete leave proxies), and are
// accepted wherever an API token is.
func (a *API) WithAdminTokens(tokens []config.Secret) *API {
	a.admin = tokens
	return a
}

// WithTokenStore makes the API accept the tokens of `cardflow tokens
// create` too, each with its own scope, checked by v. With it the API is on
// even without configured tokens: tokens can be created while it runs.
func (a *API) WithTokenStore(v *apitoken.Verifier) *API {
	a.verifier = v
	return a
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
