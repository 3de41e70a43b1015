package api

import (
	"net/http"
	"path"

	"github.com/go-chi/chi/v5"

	"cardflow/flows"
	"cardflow/server"
)

// readOnlyPosts are POST routes that change nothing: they take a body only
// because their question does not fit in a URL, and a read token may ask
// it. Patterns are path.Match patterns on the request path.
var readOnlyPosts = []string{"/api/v1/flows/*/forecast"}

// readOnly reports whether a request needs only the read scope: GET, HEAD
// and the read-only POST routes.
func readOnly(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return true
	case http.MethodPost:
		for _, p := range readOnlyPosts {
			if ok, _ := path.Match(p, r.URL.Path); ok {
				return true
			}
		}
	}
	return false
}

// forecastRequest is the body of POST /api/v1/flows/{id}/forecast: what a
// start of the flow would carry.
type forecastRequest struct {
	Applicant string         `json:"applicant"`
	Form      map[string]any `json:"form"`
	Context   map[string]any `json:"context"`
}

// forecastFlow answers which steps and people an instance of the flow would
// go through if the applicant started it now with this form, without
// starting it (flows.Engine.Forecast). An invalid form is refused as a
// start refuses it: 422 invalid_form with every bad field.
func (a *API) forecastFlow(w http.ResponseWriter, r *http.Request) {
	var req forecastRequest
	if _, ok := a.decode(w, r, &req); !ok {
		return
	}
	if missing := missingFields(map[string]string{"applicant": req.Applicant}); missing != "" {
		server.WriteError(w, http.StatusBadRequest, server.CodeBadRequest, missing)
		return
	}
	fc, err := a.engine.Forecast(r.Context(), flows.ForecastRequest{
		FlowID: chi.URLParam(r, "id"), Applicant: req.Applicant, Form: req.Form, Context: req.Context,
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"forecast": fc})
}
