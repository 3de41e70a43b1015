package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The leaf types a config struct may hold besides string, bool and int.
var (
	durationType = reflect.TypeFor[time.Duration]()
	sizeType     = reflect.TypeFor[ByteSize]()
	secretType   = reflect.TypeFor[Secret]()
	secretsType  = reflect.TypeFor[[]Secret]()
	dsnType      = reflect.TypeFor[DSN]()
)

// EnvVar returns the environment variable that overrides a key path:
// "server.body_limit" → "CARDFLOW_SERVER_BODY_LIMIT".
func EnvVar(key string) string {
	return "CARDFLOW_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// isSecret reports whether a field may be set from the environment only.
func isSecret(t reflect.Type) bool { return t == secretType || t == secretsType }

// isSection reports whether a field is a nested mapping of keys.
func isSection(t reflect.Type) bool { return t.Kind() == reflect.Struct }

// yamlKey returns the key a struct field is spelled as, or "" if none.
func yamlKey(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if !f.IsExported() || name == "-" {
		return ""
	}
	return name
}

// walkLeaves calls fn for every leaf key of a config struct, in declaration
// order, with its dotted key path.
func walkLeaves(v reflect.Value, prefix string, fn func(key string, f reflect.Value)) {
	t := v.Type()
	for i := range t.NumField() {
		name := yamlKey(t.Field(i))
		if name == "" {
			continue
		}
		key := prefix + name
		if isSection(t.Field(i).Type) {
			walkLeaves(v.Field(i), key+".", fn)
			continue
		}
		fn(key, v.Field(i))
	}
}

// yamlLine finds the line number in yaml.v3's syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// decodeFile lays the YAML document in data over cfg and records where each
// key came from; it returns every problem, each as "file:line: key: what".
func decodeFile(cfg *Config, file string, data []byte) []error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file sets nothing
		}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			return []error{fmt.Errorf("%s:%s: %s", file, m[1], m[2])}
		}
		return []error{fmt.Errorf("%s: %w", file, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return []error{fmt.Errorf("%s:%d: only one YAML document is allowed", file, extra.Line)}
	}
	d := &fileDecoder{file: file, sources: cfg.sources}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	d.section(root, reflect.ValueOf(cfg).Elem(), "")
	return d.errs
}

// fileDecoder walks a yaml.Node tree against the config structs.
type fileDecoder struct {
	file    string
	sources map[string]string
	errs    []error
}

func (d *fileDecoder) fail(n *yaml.Node, key, format string, args ...any) {
	where := fmt.Sprintf("%s:%d", d.file, n.Line)
	if key != "" {
		where += ": " + key
	}
	d.errs = append(d.errs, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...)))
}

// section decodes a mapping node into the struct v; prefix is its key path
// with a trailing dot ("" at the top).
func (d *fileDecoder) section(n *yaml.Node, v reflect.Value, prefix string) {
	n = resolve(n)
	if n.ShortTag() == "!!null" {
		return // "flows:" with every key commented out
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, strings.TrimSuffix(prefix, "."), "expected a mapping of keys, got %s", describe(n))
		return
	}
	fields := map[string]int{}
	for i := range v.Type().NumField() {
		if name := yamlKey(v.Type().Field(i)); name != "" {
			fields[name] = i
		}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		key := prefix + kn.Value
		if line, dup := seen[kn.Value]; dup {
			d.fail(kn, key, "duplicate key (first at line %d)", line)
			continue
		}
		seen[kn.Value] = kn.Line
		idx, ok := fields[kn.Value]
		if !ok {
			d.fail(kn, key, "unknown key")
			continue
		}
		f := v.Field(idx)
		switch {
		case isSection(f.Type()):
			d.section(vn, f, key+".")
		case isSecret(f.Type()):
			d.fail(kn, key, "is a secret: set it in the environment variable %s, not in the file", EnvVar(key))
		default:
			d.leaf(resolve(vn), f, key)
		}
	}
}

// leaf decodes one scalar node into f after checking its YAML type, so that
// `addr: 8080` is reported instead of being read as the string "8080".
func (d *fileDecoder) leaf(n *yaml.Node, f reflect.Value, key string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, key, "expected %s, got %s", expected(f.Type()), describe(n))
		return
	}
	tag := n.ShortTag()
	ok := false
	switch {
	case f.Type() == sizeType:
		ok = tag == "!!int" || tag == "!!str"
	case f.Type() == durationType:
		ok = tag == "!!str"
	case f.Kind() == reflect.String:
		ok = tag == "!!str"
	case f.Kind() == reflect.Bool:
		ok = tag == "!!bool"
	case f.Kind() == reflect.Int:
		ok = tag == "!!int"
	}
	if !ok {
		d.fail(n, key, "expected %s, got %s", expected(f.Type()), describe(n))
		return
	}
	if f.Type() == dsnType {
		if _, has := DSN(n.Value).Password(); has {
			d.fail(n, key, "contains a password: set the whole value in the environment variable %s, not in the file", EnvVar(key))
			return
		}
	}
	if err := setText(f, n.Value); err != nil {
		d.fail(n, key, "%v", err)
		return
	}
	d.sources[key] = fmt.Sprintf("%s:%d", d.file, n.Line)
}

// resolve follows YAML aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// describe names what a node holds, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!int":
		return "the integer " + n.Value
	case "!!float":
		return "the number " + n.Value
	case "!!bool":
		return "the boolean " + n.Value
	case "!!null":
		return "nothing"
	case "!!str":
		return strconv.Quote(n.Value)
	}
	return n.ShortTag() + " " + strconv.Quote(n.Value)
}

// expected names the type a leaf field wants.
func expected(t reflect.Type) string {
	switch {
	case t == durationType:
		return `a duration such as "15s"`
	case t == sizeType:
		return `a size in bytes or such as "1MiB"`
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.Int:
		return "an integer"
	}
	return t.String()
}

// setText parses s into the leaf f; the environment and the file share it.
func setText(f reflect.Value, s string) error {
	switch {
	case f.Type() == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("expected %s, got %q", expected(f.Type()), s)
		}
		f.SetInt(int64(d))
	case f.Type() == sizeType:
		b, err := ParseByteSize(s)
		if err != nil {
			return err
		}
		f.SetInt(int64(b))
	case f.Type() == secretsType:
		list, err := splitSecrets(s)
		if err != nil {
			return err
		}
		f.Set(reflect.ValueOf(list))
	case f.Kind() == reflect.String:
		f.SetString(s)
	case f.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("expected %s, got %q", expected(f.Type()), s)
		}
		f.SetBool(b)
	case f.Kind() == reflect.Int:
		i, err := strconv.ParseInt(s, 10, strconv.IntSize)
		if err != nil {
			return fmt.Errorf("expected %s, got %q", expected(f.Type()), s)
		}
		f.SetInt(i)
	default:
		panic("config: no decoder for " + f.Type().String())
	}
	return nil
}

// splitSecrets reads a comma-separated list; an empty item is an error (a
// stray comma), and no item is ever printed.
func splitSecrets(s string) ([]Secret, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	out := make([]Secret, 0, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("item %d of the comma-separated list is empty", i)
		}
		out = append(out, Secret(p))
	}
	return out, nil
}

// applyEnv overrides every key whose CARDFLOW_ variable is set; a value that
// does not parse is reported with the variable's name and, unless the key
// is a secret or a DSN, the value.
func applyEnv(cfg *Config, lookupEnv func(string) (string, bool)) []error {
	var errs []error
	walkLeaves(reflect.ValueOf(cfg).Elem(), "", func(key string, f reflect.Value) {
		name := EnvVar(key)
		s, ok := lookupEnv(name)
		if !ok {
			return
		}
		if err := setText(f, s); err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w", name, key, err))
			return
		}
		cfg.sources[key] = "env " + name
	})
	return errs
}

// applyOverrides sets each override's key, as applyEnv does a variable's.
func applyOverrides(cfg *Config, overrides []Override) []error {
	var errs []error
	for _, o := range overrides {
		found := false
		walkLeaves(reflect.ValueOf(cfg).Elem(), "", func(key string, f reflect.Value) {
			if key != o.Key {
				return
			}
			found = true
			if err := setText(f, o.Value); err != nil {
				errs = append(errs, fmt.Errorf("%s: %s: %w", o.Source, key, err))
				return
			}
			cfg.sources[key] = o.Source
		})
		if !found {
			errs = append(errs, fmt.Errorf("%s: %s: unknown key", o.Source, o.Key))
		}
	}
	return errs
}
