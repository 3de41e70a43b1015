package flows

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong with a definition or org file, at a line.
type Problem struct {
	File string
	Line int // 0 when the problem concerns the whole file
	Msg  string
}

// Error formats the problem as "file:line: reason", the form editors and
// CI logs link to.
func (p Problem) Error() string {
	if p.Line == 0 {
		return p.File + ": " + p.Msg
	}
	return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
}

// ValidationError lists every problem found in one or more files, ordered
// by file and line, so one run shows the operator everything to fix.
type ValidationError struct {
	Problems []Problem
}

// Error returns one problem per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each problem to errors.As and errors.Is.
func (e *ValidationError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

// problems collects what is wrong with one file.
type problems struct {
	file string
	list []Problem
}

// at records a problem at the node's line (whole file when n is nil).
func (p *problems) at(n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.atLine(line, format, args...)
}

func (p *problems) atLine(line int, format string, args ...any) {
	p.list = append(p.list, Problem{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// err returns the problems sorted by line (stable, so problems on one line
// keep the order they were found in), or nil when there are none.
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return newValidationError(p.list)
}

func newValidationError(list []Problem) *ValidationError {
	sorted := slices.Clone(list)
	slices.SortStableFunc(sorted, func(a, b Problem) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	return &ValidationError{Problems: sorted}
}

// yamlSyntax finds the line number in yaml.v3's syntax errors.
var yamlSyntax = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlParserErrors are the messages of yaml.v3's parser (not scanner)
// errors, whose line it reports counting from 0 (yaml.v3's decode.go
// adds 1 for scanner errors only).
var yamlParserErrors = []string{
	"did not find expected ',' or ']'", "did not find expected ',' or '}'",
	"did not find expected '-' indicator", "did not find expected key",
	"did not find expected node content", "found undefined tag handle",
}

// parseDocument reads one YAML document; a syntax error becomes a problem
// with its line. It returns nil for an empty file.
func (p *problems) parseDocument(src []byte) *yaml.Node {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(src)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.atLine(0, "empty file")
			return nil
		}
		if m := yamlSyntax.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1]) // the pattern admits digits only
			if slices.Contains(yamlParserErrors, m[2]) {
				line++
			}
			p.list = append(p.list, Problem{File: p.file, Line: line, Msg: "yaml: " + m[2]})
			return nil
		}
		p.atLine(0, "%v", err)
		return nil
	}
	if len(doc.Content) == 0 {
		p.atLine(0, "empty file")
		return nil
	}
	return resolve(doc.Content[0])
}

// resolve follows aliases, so *anchors read like the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// mapping is a YAML mapping read key by key, so that keys nobody read can
// be reported as unknown.
type mapping struct {
	p    *problems
	node *yaml.Node
	keys []*yaml.Node
	vals map[string]*yaml.Node
}

// mapping reads n as a mapping, reporting a non-mapping or a duplicate key
// under the subject's name. It never returns nil: a bad node reads as empty.
func (p *problems) mapping(n *yaml.Node, subject string) (*mapping, bool) {
	m := &mapping{p: p, node: n, vals: map[string]*yaml.Node{}}
	if n = resolve(n); n == nil || n.Kind != yaml.MappingNode {
		p.at(n, "%s: expected a mapping, got %s", subject, kindName(n))
		return m, false
	}
	m.node = n
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if first, dup := m.vals[k.Value]; dup {
			p.at(k, "%s: duplicate key %q (first at line %d)", subject, k.Value, first.Line)
			continue
		}
		m.keys = append(m.keys, k)
		m.vals[k.Value] = v
	}
	return m, true
}

// only reports every key not in allowed.
func (m *mapping) only(subject string, allowed ...string) {
	for _, k := range m.keys {
		if !slices.Contains(allowed, k.Value) {
			want := "one of " + strings.Join(slices.Sorted(slices.Values(allowed)), ", ")
			if len(allowed) == 1 {
				want = allowed[0]
			}
			m.p.at(k, "%s: unknown key %q (want %s)", subject, k.Value, want)
		}
	}
}

// get returns the value node of key, or nil when the key is absent.
func (m *mapping) get(key string) *yaml.Node { return m.vals[key] }

// has reports whether the key is present.
func (m *mapping) has(key string) bool { return m.vals[key] != nil }

// line returns the line of key's value, or the mapping's line when absent.
func (m *mapping) line(key string) int {
	if n := m.vals[key]; n != nil {
		return n.Line
	}
	if m.node != nil {
		return m.node.Line
	}
	return 0
}

// str reads a scalar; an absent key reads as "".
func (m *mapping) str(subject, key string) string {
	n := m.vals[key]
	if n == nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		m.p.at(n, "%s: %s: expected a single value, got %s", subject, key, kindName(n))
		return ""
	}
	return n.Value
}

// required reads a scalar that must be present and not blank.
func (m *mapping) required(subject, key string) string {
	if !m.has(key) {
		m.p.at(m.node, "%s: %s is required", subject, key)
		return ""
	}
	v := m.str(subject, key)
	if n := m.vals[key]; strings.TrimSpace(v) == "" && n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null" {
		m.p.at(m.vals[key], "%s: %s must not be empty", subject, key)
	}
	return v
}

// boolean reads true or false; absent reads as false.
func (m *mapping) boolean(subject, key string) bool {
	n := m.vals[key]
	if n == nil {
		return false
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		m.p.at(n, "%s: %s: expected true or false, got %q", subject, key, n.Value)
		return false
	}
	var b bool
	_ = n.Decode(&b) // cannot fail: the tag is !!bool
	return b
}

// integer reads a whole number; absent reads as 0, false.
func (m *mapping) integer(subject, key string) (int, bool) {
	n := m.vals[key]
	if n == nil {
		return 0, false
	}
	var v int
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil {
		m.p.at(n, "%s: %s: expected a whole number, got %q", subject, key, n.Value)
		return 0, false
	}
	return v, true
}

// duration reads a positive duration ("30m", "2h", "3d"); absent reads as 0.
func (m *mapping) duration(subject, key string) time.Duration {
	n := m.vals[key]
	if n == nil {
		return 0
	}
	d, err := ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode {
		err = errors.New("expected a duration")
	}
	if err != nil {
		m.p.at(n, "%s: %s: %v", subject, key, err)
		return 0
	}
	if d <= 0 {
		m.p.at(n, "%s: %s: must be positive, got %s", subject, key, n.Value)
		return 0
	}
	return d
}

// list reads a sequence of scalars; a single scalar reads as a list of one.
func (m *mapping) list(subject, key string) []string {
	n := m.vals[key]
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	if n.Kind != yaml.SequenceNode {
		m.p.at(n, "%s: %s: expected a list, got %s", subject, key, kindName(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, item := range n.Content {
		item = resolve(item)
		if item.Kind != yaml.ScalarNode {
			m.p.at(item, "%s: %s: expected a single value, got %s", subject, key, kindName(item))
			continue
		}
		out = append(out, item.Value)
	}
	return out
}

// seq reads a sequence of nodes; absent reads as nil.
func (m *mapping) seq(subject, key string) []*yaml.Node {
	n := m.vals[key]
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		m.p.at(n, "%s: %s: expected a list, got %s", subject, key, kindName(n))
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, item := range n.Content {
		out[i] = resolve(item)
	}
	return out
}

func kindName(n *yaml.Node) string {
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.ShortTag() == "!!null":
		return "null"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}
