package api

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3 document of /api/v1: every route, its
// parameters, bodies, answers and error codes, and the token scope it
// needs (x-scope). Tests keep it true: every mounted route is in it and
// nothing else, every error code the server has is in its enum and no
// other, and real answers validate against it.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the API's OpenAPI 3 document (JSON), as served at
// /api/v1/openapi.json.
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }

// serveOpenAPI answers GET /api/v1/openapi.json. It needs no token: the
// document describes the API and holds no secret.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openAPI)
}
