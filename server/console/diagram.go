package console

import (
	"fmt"
	"html"
	"html/template"
	"strings"
	"unicode/utf8"

	"cardflow/flows"
)

// The diagram's geometry, in SVG user units.
const (
	boxW, boxH = 280.0, 52.0
	gapY       = 34.0
	gapX       = 24.0
	pad        = 16.0
	laneStep   = 14.0
	// labelMax bounds an edge label's width; the whole text is its title.
	labelMax = 300.0
)

// node is a box of the diagram: a step, a parallel step's join, START or
// END.
type node struct {
	id, name, sub string
	kind          string // a flows.StepType, or "terminal", "join"
	cx, y         float64
	changed       bool
}

// edge joins two nodes; direct edges are straight lines, the others (a
// condition's goto, a skip, a jump) run down a lane on the right.
type edge struct {
	from, to string
	label    string
	dashed   bool
	direct   bool
}

// diagram lays a flow out top-down, the way flows.(*Flow).Mermaid walks
// it: steps in order, a condition's cases as labelled edges, a parallel
// step's branches side by side between a fork and a join, and a dashed
// "skip" edge from a step with when: to its successor.
type diagram struct {
	// t says the diagram's words in the reader's language.
	t       func(key string, args ...any) string
	en      bool // step and branch names in English
	f       *flows.Flow
	nodes   map[string]*node
	order   []*node
	edges   []edge
	changed map[string]bool
}

// flowSVG renders f as an SVG in locale's words; the steps in changed are
// highlighted. alt is its accessible name.
func flowSVG(f *flows.Flow, changed map[string]bool, alt, locale string) template.HTML {
	t := func(key string, args ...any) string { return tr(locale, key, args...) }
	d := &diagram{t: t, en: locale == "en", f: f, nodes: map[string]*node{}, changed: changed}
	w := max(d.measure(f.Steps), boxW)
	cx := pad + w/2
	start := t("diagram.start")
	if f.Trigger.Event != "" {
		start = t("diagram.startOn", f.Trigger.Event)
	}
	d.add(&node{id: "START", name: start, kind: "terminal", cx: cx, y: pad})
	y := d.place(f.Steps, cx, pad+boxH+gapY, nil)
	d.add(&node{id: "END", name: t("diagram.end"), kind: "terminal", cx: cx, y: y})
	if len(f.Steps) > 0 {
		d.edges = append([]edge{{from: "START", to: f.Steps[0].ID, direct: true}}, d.edges...)
	} else {
		d.edges = append(d.edges, edge{from: "START", to: "END", direct: true})
	}
	return d.svg(pad+w+pad, y+boxH+pad, alt)
}

func (d *diagram) add(n *node) {
	d.nodes[n.id] = n
	d.order = append(d.order, n)
}

// joinID is a parallel step's join node; the step's own node is its
// fork, the one edges into the step lead to.
func joinID(s *flows.Step) string { return s.ID + "\x00join" }

// measure is the width a list of steps takes.
func (d *diagram) measure(list []*flows.Step) float64 {
	w := boxW
	for _, s := range list {
		if s.Type != flows.StepParallel {
			continue
		}
		sum := 0.0
		for i, b := range s.Parallel {
			if i > 0 {
				sum += gapX
			}
			sum += d.measure(b.Steps)
		}
		w = max(w, sum)
	}
	return w
}

// target is the node a next/goto id leads to, inside the list whose end
// is parent's join (nil at the top, where the end is END).
func (d *diagram) target(id string, parent *flows.Step) string {
	if id == flows.End {
		if parent == nil {
			return "END"
		}
		return joinID(parent)
	}
	if s := d.f.Step(id); s != nil {
		return s.ID
	}
	return "END"
}

// place lays the list out centred on cx from y down, and returns the y
// below it.
func (d *diagram) place(list []*flows.Step, cx, y float64, parent *flows.Step) float64 {
	for i, s := range list {
		following := "END"
		if parent != nil {
			following = joinID(parent)
		}
		if i+1 < len(list) {
			following = list[i+1].ID
		}
		succ := d.target(d.f.Successor(s), parent)
		d.add(&node{id: s.ID, name: s.NameIn(d.en), sub: d.summary(s), kind: string(s.Type), cx: cx, y: y, changed: d.changed[s.ID]})
		y += boxH + gapY
		switch s.Type {
		case flows.StepCondition:
			for _, c := range s.Cases {
				to := d.target(c.Goto, parent)
				d.edges = append(d.edges, edge{from: s.ID, to: to, label: c.When.String(), direct: to == following})
			}
			def := succ
			if s.Default != "" {
				def = d.target(s.Default, parent)
			}
			d.edges = append(d.edges, edge{from: s.ID, to: def, label: d.t("diagram.default"), direct: def == following})
		case flows.StepParallel:
			total := -gapX
			for _, b := range s.Parallel {
				total += d.measure(b.Steps) + gapX
			}
			x := cx - total/2
			bottom := y
			for _, b := range s.Parallel {
				w := d.measure(b.Steps)
				if len(b.Steps) > 0 {
					d.edges = append(d.edges, edge{from: s.ID, to: b.Steps[0].ID, label: b.NameIn(d.en), direct: true})
				}
				bottom = max(bottom, d.place(b.Steps, x+w/2, y, s))
				x += w + gapX
			}
			d.add(&node{id: joinID(s), name: d.t("diagram.join"), sub: d.t("diagram.joined"), kind: "join", cx: cx, y: bottom})
			y = bottom + boxH + gapY
			d.edges = append(d.edges, edge{from: joinID(s), to: succ, direct: succ == following})
		default:
			d.edges = append(d.edges, edge{from: s.ID, to: succ, direct: succ == following})
		}
		if s.When != nil {
			d.edges = append(d.edges, edge{from: s.ID, to: succ, label: d.t("diagram.skip"), dashed: true})
		}
	}
	return y
}

// summary is a box's second line in the reader's words: type, sign,
// assignees (the rules as the flow file writes them), SLA, condition.
func (d *diagram) summary(s *flows.Step) string {
	parts := []string{d.t("type." + string(s.Type))}
	if s.Type == flows.StepApproval {
		if s.Sign.Mode == flows.SignPercent {
			parts = append(parts, d.t("diagram.percent", s.Sign.Percent))
		} else {
			parts = append(parts, d.t("diagram.sign."+string(s.Sign.Mode)))
		}
	}
	if len(s.Assignees) > 0 {
		parts = append(parts, s.Assignees.String())
	}
	if s.SLA > 0 {
		parts = append(parts, d.t("diagram.sla", flows.FormatDuration(s.SLA)))
	}
	if s.When != nil {
		parts = append(parts, d.t("diagram.when", s.When.String()))
	}
	return strings.Join(parts, " · ")
}

// stepSummary is what of a step the version comparison looks at: type,
// sign, assignees, SLA, condition, in the flow file's words.
func stepSummary(s *flows.Step) string {
	parts := []string{string(s.Type)}
	if s.Type == flows.StepApproval {
		parts = append(parts, s.Sign.String())
	}
	if len(s.Assignees) > 0 {
		parts = append(parts, s.Assignees.String())
	}
	if s.SLA > 0 {
		parts = append(parts, "SLA "+flows.FormatDuration(s.SLA))
	}
	if s.When != nil {
		parts = append(parts, "when "+s.When.String())
	}
	return strings.Join(parts, " · ")
}

// textWidth estimates the width of text at size: wide (CJK) characters
// take a full em, others about 0.6.
func textWidth(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		if r >= 0x2E80 {
			w += size
		} else {
			w += size * 0.6
		}
	}
	return w
}

// fit cuts s with an ellipsis to fit width at size.
func fit(s string, size, width float64) string {
	if textWidth(s, size) <= width {
		return s
	}
	for utf8.RuneCountInString(s) > 1 && textWidth(s+"…", size) > width {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return s + "…"
}

func (d *diagram) svg(w, h float64, alt string) template.HTML {
	var b strings.Builder
	lanes, right := w, w
	out := map[string]int{} // lane edges leaving each node so far
	// Lane labels stand right of every lane, on their edge's row, so no
	// lane crosses them.
	labelX := w + laneStep*float64(d.laneEdges()) + 8
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#64748b"/></marker></defs>`)
	for _, e := range d.edges {
		from, to := d.nodes[e.from], d.nodes[e.to]
		if from == nil || to == nil {
			continue
		}
		style := `stroke="#64748b" stroke-width="1.4" fill="none" marker-end="url(#arrow)"`
		if e.dashed {
			style += ` stroke-dasharray="5 4"`
		}
		label := fit(e.label, 11, labelMax)
		if e.direct && to.y > from.y {
			// Straight down to the next box, or down, across and down
			// (fork to branch, branch to join) at half a gap above it.
			x1, y1, x2, y2 := from.cx, from.y+boxH, to.cx, to.y
			ym := y2 - gapY/2
			path := fmt.Sprintf("M%.1f,%.1f L%.1f,%.1f", x1, y1, x2, y2)
			if x1 != x2 || y2-y1 > gapY+1 {
				path = fmt.Sprintf("M%.1f,%.1f L%.1f,%.1f L%.1f,%.1f L%.1f,%.1f", x1, y1, x1, ym, x2, ym, x2, y2)
			}
			fmt.Fprintf(&b, `<path d="%s" %s/>`, path, style)
			if label != "" {
				x := x2 + 6
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" fill="#475569"><title>%s</title>%s</text>`,
					x, y2-4, html.EscapeString(e.label), html.EscapeString(label))
				right = max(right, x+textWidth(label, 11))
			}
			continue
		}
		// Each lane edge leaves its node a little lower than the one
		// before, so their labels do not overlap.
		k := out[e.from]
		out[e.from]++
		lanes += laneStep
		x1, y1 := from.cx+boxW/2, from.y+14+float64(k%3)*13
		x2, y2 := to.cx+boxW/2, to.y+boxH/2
		fmt.Fprintf(&b, `<path d="M%.1f,%.1f L%.1f,%.1f L%.1f,%.1f L%.1f,%.1f" %s/>`, x1, y1, lanes, y1, lanes, y2, x2, y2, style)
		if label != "" {
			fmt.Fprintf(&b, `<path d="M%.1f,%.1f L%.1f,%.1f" stroke="#cbd5e1" stroke-dasharray="2 3"/>`, lanes, y1, labelX-3, y1)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" fill="#475569"><title>%s</title>%s</text>`,
				labelX, y1+4, html.EscapeString(e.label), html.EscapeString(label))
			right = max(right, labelX+textWidth(label, 11))
		}
	}
	for _, n := range d.order {
		x := n.cx - boxW/2
		fill, stroke, rx := "#ffffff", "#94a3b8", 4.0
		switch n.kind {
		case "terminal":
			fill, rx = "#e0e7ff", boxH/2
		case "join":
			fill = "#f1f5f9"
		case string(flows.StepTask):
			rx = 14
		case string(flows.StepCondition):
			fill = "#fef9c3"
		case string(flows.StepAlert):
			fill = "#fee2e2"
		case string(flows.StepNotify):
			fill = "#ecfeff"
		}
		if n.changed {
			fill, stroke = "#fde68a", "#d97706"
		}
		class := "node"
		if n.changed {
			class += " changed"
		}
		fmt.Fprintf(&b, `<g class="%s" data-step="%s"><rect x="%.1f" y="%.1f" width="%.0f" height="%.0f" rx="%.0f" fill="%s" stroke="%s"/>`,
			class, html.EscapeString(n.id), x, n.y, boxW, boxH, rx, fill, stroke)
		nameY := n.y + boxH/2 + 5
		if n.sub != "" {
			nameY = n.y + 21
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" fill="#475569" text-anchor="middle">%s</text>`,
				n.cx, n.y+40, html.EscapeString(fit(n.sub, 11, boxW-12)))
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="14" font-weight="600" fill="#1f2937" text-anchor="middle">%s</text></g>`,
			n.cx, nameY, html.EscapeString(fit(n.name, 14, boxW-12)))
	}
	b.WriteString(`</svg>`)
	width := max(lanes, right) + pad
	head := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="%s" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" font-family="system-ui, 'Noto Sans CJK SC', sans-serif"><title>%s</title>`,
		html.EscapeString(alt), width, h, width, h, html.EscapeString(alt))
	// Every text in it was escaped above.
	return template.HTML(head + b.String())
}

// laneEdges counts the edges drawn down a lane: those not drawn straight.
func (d *diagram) laneEdges() int {
	n := 0
	for _, e := range d.edges {
		from, to := d.nodes[e.from], d.nodes[e.to]
		if from != nil && to != nil && !(e.direct && to.y > from.y) {
			n++
		}
	}
	return n
}

// stepSignature is what makes a step differ between two versions.
func stepSignature(f *flows.Flow, s *flows.Step) string {
	var cases []string
	for _, c := range s.Cases {
		cases = append(cases, c.When.String()+"→"+c.Goto)
	}
	when := ""
	if s.When != nil {
		when = s.When.String()
	}
	return strings.Join([]string{s.Name, string(s.Type), stepSummary(s), when, f.Successor(s), s.CC.String(),
		strings.Join(cases, ";"), s.Default, fmt.Sprint(len(s.Parallel))}, "|")
}

// signatures maps every step of f, nested ones too, to its signature.
func signatures(f *flows.Flow) map[string]string {
	out := map[string]string{}
	var walk func([]*flows.Step)
	walk = func(list []*flows.Step) {
		for _, s := range list {
			out[s.ID] = stepSignature(f, s)
			for _, b := range s.Parallel {
				walk(b.Steps)
			}
		}
	}
	walk(f.Steps)
	return out
}

// changedSteps are the steps of a that b lacks or has otherwise.
func changedSteps(a, b *flows.Flow) map[string]bool {
	sa, sb := signatures(a), signatures(b)
	out := map[string]bool{}
	for id, sig := range sa {
		if sb[id] != sig {
			out[id] = true
		}
	}
	return out
}
