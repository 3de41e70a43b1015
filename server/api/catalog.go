package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"cardflow/flows"
	"cardflow/server"
	"cardflow/server/apitoken"
)

// flowOut is a flow of GET /api/v1/flows: its latest version.
type flowOut struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Description   string    `json:"description,omitempty"`
	LatestVersion int       `json:"latest_version"`
	Trigger       string    `json:"trigger,omitempty"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// versionOut is a version of GET /api/v1/flows/{id}/versions.
type versionOut struct {
	Version   int       `json:"version"`
	Name      string    `json:"name"`
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
}

// definitionOut is GET /api/v1/flows/{id}/versions/{v}: the version as
// stored (its YAML source) and its graph in Mermaid.
type definitionOut struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Version     int       `json:"version"`
	Hash        string    `json:"hash"`
	CreatedAt   time.Time `json:"created_at"`
	Trigger     string    `json:"trigger,omitempty"`
	Source      string    `json:"source"`
	Mermaid     string    `json:"mermaid"`
}

func (a *API) listFlows(w http.ResponseWriter, r *http.Request) {
	defs, err := a.engine.Definitions(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]flowOut, len(defs))
	for i, d := range defs {
		f, err := a.engine.Flow(r.Context(), d.FlowID, d.Version)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		out[i] = flowOut{ID: d.FlowID, Name: f.Name, Description: f.Description, LatestVersion: d.Version,
			Trigger: f.Trigger.Event, UpdatedAt: d.CreatedAt}
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"flows": out})
}

func (a *API) listVersions(w http.ResponseWriter, r *http.Request) {
	defs, err := a.engine.Versions(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]versionOut, len(defs))
	for i, d := range defs {
		out[i] = versionOut{Version: d.Version, Name: d.Name, Hash: d.Hash, CreatedAt: d.CreatedAt}
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"versions": out})
}

func (a *API) getVersion(w http.ResponseWriter, r *http.Request) {
	v, err := strconv.Atoi(chi.URLParam(r, "v"))
	if err != nil || v < 1 {
		server.WriteError(w, http.StatusBadRequest, CodeInvalidInput, "the version in the path must be a whole number from 1")
		return
	}
	d, f, err := a.engine.Definition(r.Context(), chi.URLParam(r, "id"), v)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"flow": definitionOut{ID: d.FlowID, Name: f.Name,
		Description: f.Description, Version: d.Version, Hash: d.Hash, CreatedAt: d.CreatedAt,
		Trigger: f.Trigger.Event, Source: string(d.Source), Mermaid: f.Mermaid()}})
}

// userOut is a user of the org directory. PlatformIDs, which say who the
// user is on each chat platform, are shown to admin tokens only.
type userOut struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	Department     string            `json:"department,omitempty"`
	DepartmentName string            `json:"department_name,omitempty"`
	Manager        string            `json:"manager,omitempty"`
	Roles          []string          `json:"roles"`
	Locale         string            `json:"locale"`
	TimeZone       string            `json:"time_zone"`
	PlatformIDs    map[string]string `json:"platform_ids,omitempty"`
}

// userJSON renders u; depts remembers the department names looked up.
func (a *API) userJSON(ctx context.Context, u flows.User, admin bool, depts map[string]string) (userOut, error) {
	out := userOut{ID: u.ID, Name: u.Name, Department: u.Department, Manager: u.Manager, Roles: u.Roles,
		Locale: u.Locale, TimeZone: u.TimeZone}
	if out.Roles == nil {
		out.Roles = []string{}
	}
	if admin {
		out.PlatformIDs = u.PlatformIDs
	}
	if u.Department == "" {
		return out, nil
	}
	name, ok := depts[u.Department]
	if !ok {
		d, err := a.engine.Department(ctx, u.Department)
		if err != nil && !isNotFound(err) {
			return userOut{}, err
		}
		name, depts[u.Department] = d.Name, d.Name
	}
	out.DepartmentName = name
	return out, nil
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	users, err := a.engine.Users(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	admin := principalOf(r.Context()).scope.Allows(apitoken.ScopeAdmin)
	depts := map[string]string{}
	out := make([]userOut, len(users))
	for i, u := range users {
		if out[i], err = a.userJSON(r.Context(), u, admin, depts); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"users": out})
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := a.engine.User(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out, err := a.userJSON(r.Context(), u, principalOf(r.Context()).scope.Allows(apitoken.ScopeAdmin), map[string]string{})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"user": out})
}

func isNotFound(err error) bool { return errors.Is(err, flows.ErrNotFound) }
