package api_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"

	"cardflow/config"
	"cardflow/flows"
	"cardflow/internal/exampletest"
	"cardflow/server/api"
)

// loadOpenAPI parses the served document as OpenAPI and validates it;
// the loader resolves every $ref on the way.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI())
	require.NoError(t, err)
	require.NoError(t, doc.Validate(t.Context()))
	return doc
}

func TestOpenAPIIsValid(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3."))

	// Every $ref names something the document has, wherever it sits.
	var raw any
	require.NoError(t, json.Unmarshal(api.OpenAPI(), &raw))
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "$ref" {
					refs = append(refs, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(raw)
	require.NotEmpty(t, refs)
	for _, ref := range refs {
		require.True(t, strings.HasPrefix(ref, "#/"), "%s: only local references", ref)
		node := raw
		for part := range strings.SplitSeq(strings.TrimPrefix(ref, "#/"), "/") {
			m, ok := node.(map[string]any)
			require.True(t, ok, "%s does not resolve", ref)
			node, ok = m[strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")]
			require.True(t, ok, "%s does not resolve", ref)
		}
	}
}

// TestOpenAPIServed serves the document without a token, even when the
// API is off.
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	for _, tokens := range [][]config.Secret{{token}, nil} {
		c := &client{t: t, base: newServer(t, tokens...)}
		code, body := c.send("GET", "/openapi.json")
		require.Equal(t, http.StatusOK, code, string(body))
		require.JSONEq(t, string(api.OpenAPI()), string(body))
	}
}

// TestOpenAPIRoutes walks the mounted router: every route is documented
// with its method, and every documented operation is mounted.
func TestOpenAPIRoutes(t *testing.T) {
	t.Parallel()
	_, engine := exampletest.World(t)
	r := chi.NewRouter()
	api.New(engine, []config.Secret{token}, nil).Routes(r)
	var mounted []string
	require.NoError(t, chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		mounted = append(mounted, method+" "+strings.TrimSuffix(route, "/"))
		return nil
	}))
	var documented []string
	for path, item := range loadOpenAPI(t).Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	slices.Sort(mounted)
	slices.Sort(documented)
	require.Equal(t, mounted, documented)
}

// TestOpenAPIScopes checks x-scope against the routes: a write token is
// refused admin_token_required exactly where the document says admin,
// and every operation but the document's own names its scope.
func TestOpenAPIScopes(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	for path, item := range loadOpenAPI(t).Paths.Map() {
		for method, op := range item.Operations() {
			scope, _ := op.Extensions["x-scope"].(string)
			if path == "/api/v1/openapi.json" {
				require.Empty(t, scope)
				require.NotNil(t, op.Security)
				require.Empty(t, *op.Security, "the document needs no token")
				continue
			}
			require.Contains(t, []string{"read", "write", "admin"}, scope, "%s %s", method, path)
			require.Contains(t, op.Responses.Map(), "401", "%s %s", method, path)
			require.Contains(t, op.Responses.Map(), "403", "%s %s", method, path)
			p := strings.NewReplacer("{id}", "x", "{topic}", "notify", "{v}", "1").Replace(strings.TrimPrefix(path, "/api/v1"))
			code, body := c.do(method, p, "{}")
			if scope == "admin" {
				require.Equal(t, http.StatusForbidden, code, "%s %s", method, path)
				require.Equal(t, api.CodeNotAdminToken, errCode(body), "%s %s", method, path)
			} else {
				require.NotEqual(t, api.CodeNotAdminToken, errCode(body), "%s %s needs admin but is documented %s", method, path, scope)
			}
			require.Contains(t, op.Responses.Map(), strconv.Itoa(code), "%s %s answered %d, not documented", method, path, code)
		}
	}
}

// serverCodes reads every Code* string constant of package server and
// package api from their source.
func serverCodes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	files = append(files, filepath.Join("..", "errors.go"))
	var codes []string
	fset := gotoken.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			spec, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, id := range spec.Names {
				if !strings.HasPrefix(id.Name, "Code") || i >= len(spec.Values) {
					continue
				}
				lit, ok := spec.Values[i].(*ast.BasicLit)
				require.True(t, ok && lit.Kind == gotoken.STRING, "%s: a code is a string literal", id.Name)
				s, err := strconv.Unquote(lit.Value)
				require.NoError(t, err)
				if !slices.Contains(codes, s) {
					codes = append(codes, s)
				}
			}
			return true
		})
	}
	slices.Sort(codes)
	return codes
}

func enumOf(t *testing.T, doc *openapi3.T, schema, property string) []string {
	t.Helper()
	s := doc.Components.Schemas[schema]
	require.NotNil(t, s, schema)
	if property != "" {
		s = s.Value.Properties[property]
		require.NotNil(t, s, schema+"."+property)
	}
	var out []string
	for _, v := range s.Value.Enum {
		out = append(out, v.(string))
	}
	return out
}

// TestOpenAPIVocabulary holds the document's enums to the code's: the
// error codes, the actions and the statuses.
func TestOpenAPIVocabulary(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	codes := serverCodes(t)
	require.Greater(t, len(codes), 25, "the source was read")
	documented := enumOf(t, doc, "ErrorCode", "")
	slices.Sort(documented)
	require.Equal(t, codes, documented, "every error code of package server and package api, and no other")

	names := func(kinds []flows.ActionKind) []string {
		out := make([]string, len(kinds))
		for i, k := range kinds {
			out[i] = string(k)
		}
		return out
	}
	require.Equal(t, names(flows.TaskActions), enumOf(t, doc, "TaskActionRequest", "action"))
	require.Equal(t, names(flows.InstanceActions), enumOf(t, doc, "InstanceActionRequest", "action"))
	var states []string
	for _, s := range flows.AlertStates {
		states = append(states, string(s))
	}
	require.Equal(t, states, enumOf(t, doc, "Alert", "state"))
	for _, s := range []flows.InstanceStatus{flows.InstanceRunning, flows.InstanceApproved, flows.InstanceRejected,
		flows.InstanceCompleted, flows.InstanceWithdrawn, flows.InstanceCancelled} {
		require.Contains(t, enumOf(t, doc, "InstanceStatus", ""), string(s))
	}
	for _, s := range []flows.TaskStatus{flows.TaskOpen, flows.TaskApproved, flows.TaskRejected, flows.TaskReturned,
		flows.TaskDone, flows.TaskCancelled, flows.TaskWaiting} {
		require.Contains(t, enumOf(t, doc, "TaskStatus", ""), string(s))
	}
}
