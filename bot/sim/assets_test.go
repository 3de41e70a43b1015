package sim_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/bot/sim"
)

// assetServer serves the page from the binary, without any other file.
func assetServer(t *testing.T) func(path string) (int, string) {
	t.Helper()
	ts := httptest.NewServer(newPlatform(t, sim.Config{}).Handler())
	t.Cleanup(ts.Close)
	return func(path string) (int, string) {
		resp, err := http.Get(ts.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
}

var (
	moduleImport = regexp.MustCompile(`from '\./([a-z0-9]+\.js)'`)
	pageRef      = regexp.MustCompile(`(?:src|href)="([^"]+)"`)
)

func TestThePageAndEveryModuleItImportsAreInTheBinary(t *testing.T) {
	t.Parallel()
	get := assetServer(t)
	status, page := get("/sim/")
	require.Equal(t, http.StatusOK, status)

	var pending []string
	for _, m := range pageRef.FindAllStringSubmatch(page, -1) {
		if m[1] == "/console/" {
			continue // the link to the web console: a page to go to, not a file this one loads
		}
		require.True(t, strings.HasPrefix(m[1], "static/"), "the page loads only its own files: %s", m[1])
		pending = append(pending, strings.TrimPrefix(m[1], "static/"))
	}
	require.ElementsMatch(t, []string{"style.css", "app.js"}, pending)
	seen := map[string]bool{}
	for len(pending) > 0 {
		name := pending[0]
		pending = pending[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		status, src := get("/sim/static/" + name)
		require.Equal(t, http.StatusOK, status, name)
		require.NotEmpty(t, strings.TrimSpace(src), name)
		for _, m := range moduleImport.FindAllStringSubmatch(src, -1) {
			pending = append(pending, m[1])
		}
	}
	for _, name := range []string{"app.js", "api.js", "card.js", "dom.js", "form.js", "i18n.js", "md.js", "route.js", "style.css"} {
		require.True(t, seen[name], "%s is loaded by the page", name)
	}
}

func TestTheScriptsNeverParseServerTextAsMarkup(t *testing.T) {
	t.Parallel()
	get := assetServer(t)
	for _, name := range []string{"app.js", "api.js", "card.js", "dom.js", "form.js", "i18n.js", "md.js", "route.js"} {
		_, src := get("/sim/static/" + name)
		for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "javascript:"} {
			require.NotContains(t, src, sink, "%s uses %s", name, sink)
		}
		require.NotRegexp(t, `https?://[a-z]`, src, "%s loads nothing from the network", name)
	}
}

func TestEveryControlOfThePageHasALabel(t *testing.T) {
	t.Parallel()
	get := assetServer(t)
	_, page := get("/sim/")
	controls := regexp.MustCompile(`<(button|input|select|textarea)\b[^>]*>`).FindAllString(page, -1)
	require.NotEmpty(t, controls)
	for _, c := range controls {
		require.Contains(t, c, "aria-label=", c)
	}
	// Controls the scripts build carry a label too; each builder names one.
	for _, name := range []string{"app.js", "card.js", "form.js"} {
		_, src := get("/sim/static/" + name)
		for _, call := range regexp.MustCompile(`h\('(?:button|select|textarea|input)', \{[^}]*`).FindAllString(src, -1) {
			if strings.Contains(call, "type: 'hidden'") {
				continue
			}
			require.Regexp(t, `aria-label|\.\.\.common|common,`, call, "%s: %s", name, call)
		}
	}
}
