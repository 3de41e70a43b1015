package flows

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// parser reads one flow file into a Flow, collecting every problem.
type parser struct {
	p *problems
	f *Flow
	// conds are compiled once every step is known, because conditions may
	// read any task step's result form.
	conds []condSite
}

// condSite is a condition and the words that name it in messages.
type condSite struct {
	cond    *Cond
	subject string
}

// ParseFlow parses, validates and compiles one flow file. filename is used
// in messages only. The error is a *ValidationError listing every problem
// as "file:line: reason"; the Flow is nil then.
func ParseFlow(filename string, src []byte) (*Flow, error) {
	sum := sha256.Sum256(src)
	f := &Flow{File: filename, Source: slices.Clone(src), Hash: hex.EncodeToString(sum[:])}
	ps := &parser{p: &problems{file: filename}, f: f}
	root := ps.p.parseDocument(src)
	if root == nil {
		return nil, ps.p.err()
	}
	ps.flow(root)
	if err := ps.p.err(); err != nil {
		return nil, err
	}
	return f, nil
}

// ParseDefinition parses a stored definition version, e.g. the one an
// instance started with. Messages name the file "flowid@vN".
func ParseDefinition(d Definition) (*Flow, error) {
	return ParseFlow(d.FlowID+"@v"+strconv.Itoa(d.Version), d.Source)
}

// Definition returns the flow as a record for Store.PutDefinition; the
// store gives it its version.
func (f *Flow) Definition() Definition {
	return Definition{FlowID: f.ID, Name: f.Name, Hash: f.Hash, Source: slices.Clone(f.Source)}
}

func (ps *parser) flow(root *yaml.Node) {
	m, ok := ps.p.mapping(root, "flow")
	if !ok {
		return
	}
	if m.has("version") {
		ps.p.atLine(m.line("version"), "flow: version is given by the store from the file's hash; remove it")
	}
	m.only("flow", "id", "name", "name_en", "title", "title_en", "description", "trigger", "settings", "form", "rules", "steps", "version")
	f := ps.f
	f.ID = m.required("flow", "id")
	f.idLine = m.line("id")
	if f.ID != "" && !fieldKey.MatchString(f.ID) {
		ps.p.atLine(m.line("id"), "flow: id must be lower_snake_case (a-z, 0-9, _), starting with a letter")
	}
	f.Name = m.required("flow", "name")
	f.NameEN = m.str("flow", "name_en")
	f.Description = m.str("flow", "description")
	ps.trigger(m)
	f.Form = ps.fields(m.seq("flow", "form"), "form field", false)
	f.fields = make(map[string]*Field, len(f.Form))
	for _, fd := range f.Form {
		f.fields[fd.Key] = fd
	}
	ps.parseRules(m)
	f.Title = ps.parseTitle(m, "title")
	f.TitleEN = ps.parseTitle(m, "title_en")
	ps.settings(m)
	if !m.has("steps") {
		ps.p.at(m.node, "flow: steps is required")
		return
	}
	nodes := m.seq("flow", "steps")
	if len(nodes) == 0 && m.get("steps").Kind == yaml.SequenceNode {
		ps.p.atLine(m.line("steps"), "flow: steps: at least one step is required")
	}
	f.Steps = ps.steps(nodes)
	ps.index(f.Steps, nil, -1)
	ps.checkFlow()
	ps.checkTitle(f.Title, "title", m.line("title"))
	ps.checkTitle(f.TitleEN, "title_en", m.line("title_en"))
	ps.compileConds()
	ps.compileRules()
}

func (ps *parser) trigger(m *mapping) {
	if !m.has("trigger") {
		return
	}
	t, ok := ps.p.mapping(m.get("trigger"), "trigger")
	if !ok {
		return
	}
	t.only("trigger", "event")
	ps.f.Trigger.Event = t.required("trigger", "event")
}

func (ps *parser) settings(m *mapping) {
	s := &ps.f.Settings
	s.Fallback = Assignees{{Kind: RuleRole, Value: DefaultAdminRole, Levels: 1}}
	s.UrgeInterval = DefaultUrgeInterval
	if !m.has("settings") {
		return
	}
	sm, ok := ps.p.mapping(m.get("settings"), "settings")
	if !ok {
		return
	}
	sm.only("settings", "auto_skip", "fallback", "urge_interval")
	if sm.has("auto_skip") {
		if am, ok := ps.p.mapping(sm.get("auto_skip"), "settings: auto_skip"); ok {
			am.only("settings: auto_skip", "applicant", "repeated")
			s.AutoSkip.Applicant = am.boolean("settings: auto_skip", "applicant")
			s.AutoSkip.Repeated = am.boolean("settings: auto_skip", "repeated")
		}
	}
	if sm.has("fallback") {
		s.Fallback = ps.assignees(sm, "settings", "fallback", false)
	}
	s.UrgeInterval = cmp.Or(sm.duration("settings", "urge_interval"), DefaultUrgeInterval)
}

// index records where every step sits and reports duplicate ids.
func (ps *parser) index(list []*Step, parent *Step, branch int) {
	if ps.f.index == nil {
		ps.f.index = map[string]*place{}
	}
	for i, s := range list {
		if s.ID != "" {
			if first := ps.f.index[s.ID]; first != nil {
				ps.p.atLine(s.Line, "step %s: duplicate step id (first at line %d)", s.ID, first.step.Line)
			} else {
				ps.f.index[s.ID] = &place{step: s, list: list, pos: i, parent: parent, branch: branch}
			}
		}
		for b, br := range s.Parallel {
			ps.index(br.Steps, s, b)
		}
	}
}
