package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"cardflow/config"
	"cardflow/server"
	"cardflow/server/apitoken"
)

// Error codes of authentication, after RFC 6750's: no token at all is
// unauthorized; a token that is malformed, unknown, revoked or expired is
// invalid_token, one answer for all, so it does not tell which; a good
// token without the route's scope is insufficient_scope.
const (
	CodeInvalidToken      = "invalid_token"
	CodeInsufficientScope = "insufficient_scope"
)

// principal is what a request's bearer token may do, and the name it is
// logged under.
type principal struct {
	scope apitoken.Scope
	name  string
}

type principalKey struct{}

func principalOf(ctx context.Context) principal {
	p, _ := ctx.Value(principalKey{}).(principal)
	return p
}

// authenticate lets a request through only with a bearer token that is
// configured (server.api_tokens: write, server.admin_tokens: admin) or
// stored (`cardflow tokens create`), and whose scope allows the method:
// GET, HEAD and the read-only POST routes (readOnlyPosts) need read, every
// other request write. Routes that need more say so with requireAdmin.
func (a *API) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(a.tokens) == 0 && len(a.admin) == 0 && a.verifier == nil {
			server.WriteError(w, http.StatusServiceUnavailable, CodeAPIDisabled,
				"the API is off: no bearer token is configured (CARDFLOW_SERVER_API_TOKENS)")
			return
		}
		token, ok := bearerToken(r.Header.Get("Authorization"))
		if !ok || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cardflow"`)
			server.WriteError(w, http.StatusUnauthorized, CodeUnauthorized,
				say(r, "需要有效的 Bearer 令牌", "a valid bearer token is required"))
			return
		}
		p, err := a.principal(r, token)
		if errors.Is(err, apitoken.ErrInvalid) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cardflow", error="invalid_token"`)
			server.WriteError(w, http.StatusUnauthorized, CodeInvalidToken,
				say(r, "令牌无效、已过期或已被吊销", "the token is not valid, has expired or was revoked"))
			return
		}
		if err != nil {
			a.fail(w, r, err)
			return
		}
		server.SetCaller(r.Context(), p.name)
		need := apitoken.ScopeWrite
		if readOnly(r) {
			need = apitoken.ScopeRead
		}
		if !p.scope.Allows(need) {
			writeInsufficientScope(w, r, need, CodeInsufficientScope,
				say(r, "这个令牌只能读取，不能修改", "this token may read but not change anything"))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// principal returns what token may do. Configured tokens are compared
// first, every one in constant time; a token of the stored form is then
// looked up. Anything else is apitoken.ErrInvalid.
func (a *API) principal(r *http.Request, token string) (principal, error) {
	if i := matchToken(token, a.admin); i >= 0 {
		return principal{scope: apitoken.ScopeAdmin, name: fmt.Sprintf("config:admin_tokens[%d]", i)}, nil
	}
	if i := matchToken(token, a.tokens); i >= 0 {
		return principal{scope: apitoken.ScopeWrite, name: fmt.Sprintf("config:api_tokens[%d]", i)}, nil
	}
	if a.verifier == nil {
		return principal{}, apitoken.ErrInvalid
	}
	t, err := a.verifier.Verify(r.Context(), token)
	if err != nil {
		return principal{}, err
	}
	return principal{scope: t.Scope, name: "token:" + t.ID}, nil
}

// requireAdmin lets through only requests whose token has the admin scope.
// The answer keeps the code it had before scopes, admin_token_required.
func requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !principalOf(r.Context()).scope.Allows(apitoken.ScopeAdmin) {
			writeInsufficientScope(w, r, apitoken.ScopeAdmin, CodeNotAdminToken,
				say(r, "这个操作需要 admin 权限的令牌", "this needs a token with the admin scope"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeInsufficientScope(w http.ResponseWriter, r *http.Request, need apitoken.Scope, code, message string) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="cardflow", error="insufficient_scope", scope="%s"`, need))
	server.WriteError(w, http.StatusForbidden, code, message)
}

// matchToken returns the index of token among tokens, or -1. Every token
// is compared in constant time, and all of them, so the answer's timing
// does not tell how much of a guess was right, nor which one matched.
func matchToken(token string, tokens []config.Secret) int {
	found := -1
	for i, t := range tokens {
		if subtle.ConstantTimeCompare([]byte(token), []byte(t.Reveal())) == 1 && t.Reveal() != "" {
			found = i
		}
	}
	return found
}

// say returns the zh-CN text, or the English one when the request's
// Accept-Language starts with en.
func say(r *http.Request, zh, en string) string {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(r.Header.Get("Accept-Language"))), "en") {
		return en
	}
	return zh
}

// bearerToken takes the token out of an Authorization header. The scheme
// is matched without regard to case, as RFC 9110 says of every
// authentication scheme ("bearer x" is "Bearer x").
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}
