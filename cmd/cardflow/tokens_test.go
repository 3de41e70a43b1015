package main

import (
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/bot/bottest"
	"cardflow/config"
	"cardflow/internal/exampletest"
	"cardflow/server"
	"cardflow/server/api"
	"cardflow/server/apitoken"
	"cardflow/storage/sqlite"
)

var tokenLine = regexp.MustCompile(`^cf_tok_[a-z2-7]{8}_[A-Za-z0-9_-]{43}\n$`)

// apiOn serves /api/v1 on the SQLite file at path, as `cardflow serve`
// would with no configured token, and returns its URL and its log.
func apiOn(t *testing.T, path string) (string, *bottest.Log) {
	t.Helper()
	store, err := sqlite.Open(t.Context(), path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	require.NoError(t, store.ReplaceOrg(t.Context(), exampletest.Org(t)))
	engine := exampletest.Engine(t, store)
	log := bottest.NewLog()
	a := api.New(engine, nil, log.Logger).WithTokenStore(apitoken.NewVerifier(store, nil, log.Logger))
	ts := httptest.NewServer(server.New(config.Default(), server.Deps{Logger: log.Logger, Routes: a.Routes}).Router())
	t.Cleanup(ts.Close)
	return ts.URL + "/api/v1", log
}

// call sends an empty-bodied request with token and returns the status.
func call(t *testing.T, method, url, token string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader("{}"))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return resp.StatusCode
}

func TestTokensCreateListRevoke(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardflow.db")
	t.Setenv("CARDFLOW_STORE_SQLITE_PATH", path)
	base, log := apiOn(t, path)

	code, out, errOut := runCmd("tokens", "create", "--name", "ERP 同步", "--scope", "read", "--expires", "90d", "--by", "ops")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, tokenLine, out, "stdout is the token alone")
	plain := strings.TrimSpace(out)
	id, hash, ok := apitoken.Parse(plain)
	require.True(t, ok)
	require.Contains(t, errOut, "shown only this once")
	require.Contains(t, errOut, "scope read, expires ")
	require.NotContains(t, errOut, plain[len("cf_"+id+"_"):], "the token is printed once")

	tasks := base + "/tasks?assignee=u_qian"
	require.Equal(t, http.StatusOK, call(t, "GET", tasks, plain), "the token works against a server on the same store")
	require.Equal(t, http.StatusForbidden, call(t, "POST", base+"/instances", plain), "a read token may not start")

	code, out, errOut = runCmd("tokens", "list")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `(?m)^ID +NAME +SCOPE +STATE +CREATED +CREATED BY +LAST USED +EXPIRES +REVOKED$`, out)
	require.Regexp(t, `(?m)^`+id+` +ERP 同步 +read +active +\d{4}-\d\d-\d\d \d\d:\d\d \S+ +ops +\d{4}-\d\d-\d\d \d\d:\d\d \S+ +\d{4}-`, out,
		"last used and expiry are shown")
	requireNoSecret(t, plain, hash[:], out+errOut)

	code, out, errOut = runCmd("tokens", "revoke", id)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "Revoked "+id+` "ERP 同步": requests with it are refused from now on.`+"\n", out)
	require.Equal(t, http.StatusUnauthorized, call(t, "GET", tasks, plain), "revoked")

	code, out, _ = runCmd("tokens", "revoke", id)
	require.Equal(t, 0, code)
	require.Contains(t, out, "was already revoked at ")
	_, out, _ = runCmd("tokens", "list")
	require.Regexp(t, `(?m)^`+id+` +ERP 同步 +read +revoked `, out)

	code, _, errOut = runCmd("tokens", "revoke", plain)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "give the token's id")
	requireNoSecret(t, plain, hash[:], errOut+log.String())
}

func requireNoSecret(t *testing.T, plain string, hash []byte, text string) {
	t.Helper()
	bottest.AssertNoLeak(t, []string{plain, plain[len(plain)-43:], hex.EncodeToString(hash)}, nil, text)
}

func TestTokensRefuseBadInput(t *testing.T) {
	t.Setenv("CARDFLOW_STORE_SQLITE_PATH", filepath.Join(t.TempDir(), "cardflow.db"))
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"no subcommand", []string{"tokens"}, 2, "cardflow tokens create --name NAME"},
		{"help", []string{"tokens", "--help"}, 0, "printed once"},
		{"unknown subcommand", []string{"tokens", "delete"}, 2, "cardflow tokens revoke"},
		{"no name", []string{"tokens", "create", "--scope", "read"}, 2, "--name and --scope are required"},
		{"no scope", []string{"tokens", "create", "--name", "x"}, 2, "--name and --scope are required"},
		{"bad scope", []string{"tokens", "create", "--name", "x", "--scope", "root"}, 2,
			`--scope: unknown scope "root": expected read, write or admin`},
		{"bad expiry", []string{"tokens", "create", "--name", "x", "--scope", "read", "--expires", "3 months"}, 2,
			`--expires: "3 months": expected whole days such as 90d, or a duration such as 12h`},
		{"zero expiry", []string{"tokens", "create", "--name", "x", "--scope", "read", "--expires", "0d"}, 2,
			`--expires: "0d": must be more than zero`},
		{"negative expiry", []string{"tokens", "create", "--name", "x", "--scope", "read", "--expires", "-1h"}, 2,
			"must be more than zero"},
		{"endless expiry", []string{"tokens", "create", "--name", "x", "--scope", "read", "--expires", "99999999999d"}, 2,
			"at most 3650d"},
		{"long name", []string{"tokens", "create", "--name", strings.Repeat("x", 65), "--scope", "read"}, 1,
			"name: is 65 characters long, more than 64"},
		{"revoke without id", []string{"tokens", "revoke"}, 2, "give one token id"},
		{"revoke a bad id", []string{"tokens", "revoke", "tok_1"}, 2, `"tok_1" is not a token id`},
		{"revoke an unknown id", []string{"tokens", "revoke", "tok_aaaaaaaa"}, 1, "there is no token tok_aaaaaaaa"},
		{"list with an argument", []string{"tokens", "list", "all"}, 2, `unexpected argument "all"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCmd(tt.args...)
			require.Equal(t, tt.code, code, "stdout: %s\nstderr: %s", out, errOut)
			require.Contains(t, out+errOut, tt.contains)
		})
	}
	_, out, _ := runCmd("tokens", "list")
	require.Contains(t, out, "No API tokens yet", "nothing refused was stored")
}
