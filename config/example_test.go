package config

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

const examplePath = "../configs/cardflow.example.yaml"

// configKey is one leaf of Config, found by reflection.
type configKey struct {
	path   string
	secret bool
	sample string // a valid environment value for the key's type
}

// keys lists every leaf key of Config, so the tests below cover keys that
// later sections add without being edited.
func keys(t *testing.T) []configKey {
	t.Helper()
	var out []configKey
	walkLeaves(reflect.ValueOf(Default()).Elem(), "", func(path string, f reflect.Value) {
		k := configKey{path: path, secret: isSecret(f.Type())}
		switch {
		case f.Type() == durationType:
			k.sample = "3s"
		case f.Type() == sizeType:
			k.sample = "2KiB"
		case f.Type() == secretsType:
			k.sample = "a-token-of-16-chars,another-token-16chars"
		case f.Kind() == reflect.String:
			k.sample = "sample"
		case f.Kind() == reflect.Bool:
			k.sample = "true"
		case f.Kind() == reflect.Int:
			k.sample = "7"
		default:
			t.Fatalf("key %s has type %s that keys() cannot sample", path, f.Type())
		}
		out = append(out, k)
	})
	require.NotEmpty(t, out)
	return out
}

func TestExampleLoadsAndValidates(t *testing.T) {
	t.Parallel()
	c, err := Load(examplePath, nil)
	require.NoError(t, err)
	want := Default()
	c.sources = nil
	require.Equal(t, want, c, "the example documents the defaults")
}

// TestExampleDocumentsEveryKey walks Config by reflection: every key must be
// in the example with a comment, and every secret must be named there by
// its environment variable (it cannot appear as a key: Load refuses that).
func TestExampleDocumentsEveryKey(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(examplePath)
	require.NoError(t, err)
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(data, &doc))
	for _, k := range keys(t) {
		if k.secret {
			name := k.path[strings.LastIndex(k.path, ".")+1:]
			require.Contains(t, string(data), "# "+name+":", "secret %s is described in a comment", k.path)
			require.Contains(t, string(data), EnvVar(k.path), "secret %s names its variable", k.path)
			continue
		}
		key := findKey(doc.Content[0], strings.Split(k.path, "."))
		require.NotNil(t, key, "key %s is missing from %s", k.path, examplePath)
		require.NotEmpty(t, strings.TrimSpace(key.HeadComment+key.LineComment), "key %s has no comment", k.path)
	}
}

// findKey returns the key node at path in a mapping, or nil.
func findKey(n *yaml.Node, path []string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != path[0] {
			continue
		}
		if len(path) == 1 {
			return n.Content[i]
		}
		return findKey(n.Content[i+1], path[1:])
	}
	return nil
}
