package api

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"

	"cardflow/config"
	"cardflow/server"
)

// authenticate lets a request through only with a configured bearer token.
// Every token is compared in constant time, so the answer's timing does not
// tell how much of a guess was right.
func (a *API) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(a.tokens) == 0 && len(a.admin) == 0 {
			server.WriteError(w, http.StatusServiceUnavailable, CodeAPIDisabled,
				"the API is off: no bearer token is configured (CARDFLOW_SERVER_API_TOKENS)")
			return
		}
		token, ok := bearerToken(r.Header.Get("Authorization"))
		user, admin := ok && validToken(token, a.tokens), ok && validToken(token, a.admin)
		if !user && !admin {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cardflow"`)
			server.WriteError(w, http.StatusUnauthorized, CodeUnauthorized, "a valid bearer token is required")
			return
		}
		if admin {
			r = r.WithContext(context.WithValue(r.Context(), adminKey{}, true))
		}
		next.ServeHTTP(w, r)
	})
}

func validToken(token string, tokens []config.Secret) bool {
	valid := 0
	for _, t := range tokens {
		valid |= subtle.ConstantTimeCompare([]byte(token), []byte(t.Reveal()))
	}
	return valid == 1 && token != ""
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
