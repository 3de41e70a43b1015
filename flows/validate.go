package flows

import (
	"slices"
	"strconv"
	"strings"
)

// checkFlow checks what needs every step known: targets, return targets,
// reachability and cycles.
func (ps *parser) checkFlow() {
	ps.f.walk(func(s *Step) {
		if ps.f.index[s.ID] == nil || ps.f.index[s.ID].step != s {
			return // no id or a duplicate: already reported
		}
		if s.Next != "" {
			ps.checkTarget(s, "next", s.Next, s.lines.next)
		}
		for i, c := range s.Cases {
			if c.Goto != "" {
				ps.checkTarget(s, "branch #"+strconv.Itoa(i+1)+": goto", c.Goto, c.Line)
			}
		}
		if s.Default != "" {
			ps.checkTarget(s, "default", s.Default, s.lines.def)
		}
		for _, t := range s.ReturnTo {
			ps.checkReturn(s, t)
		}
	})
	ps.checkList(ps.f.Steps)
}

// checkTarget checks a next, goto or default: a step of the same list, so
// that control never jumps into or out of a parallel branch, or End.
func (ps *parser) checkTarget(s *Step, key, target string, line int) {
	if target == End {
		return
	}
	to := ps.f.index[target]
	switch {
	case to == nil:
		ps.p.atLine(line, "step %s: %s: unknown step %q", s.ID, key, target)
	case !sameList(to, ps.f.index[s.ID]):
		ps.p.atLine(line, "step %s: %s: step %q is in another step list (targets must stay in the same list or parallel branch)", s.ID, key, target)
	}
}

func sameList(a, b *place) bool {
	return len(a.list) > 0 && len(b.list) > 0 && &a.list[0] == &b.list[0]
}

// checkReturn checks one return_to target.
func (ps *parser) checkReturn(s *Step, target string) {
	if target == ReturnToApplicant || target == ReturnToPrevious {
		return
	}
	line := s.lines.returnTo
	to := ps.f.index[target]
	switch {
	case to == nil:
		ps.p.atLine(line, "step %s: return_to: unknown step %q", s.ID, target)
	case !slices.Contains(ps.f.earlier(s), to.step):
		ps.p.atLine(line, "step %s: return_to: %q is not an earlier approval or task step", s.ID, target)
	}
}

// earlier returns the approval and task steps before s in file order: in
// its own list, then in each enclosing list before the enclosing parallel
// step. These are where a step may be returned to.
func (f *Flow) earlier(s *Step) []*Step {
	var out []*Step
	for pl := f.index[s.ID]; pl != nil; {
		for _, e := range slices.Backward(pl.list[:pl.pos]) {
			if e.Type == StepApproval || e.Type == StepTask {
				out = append(out, e)
			}
		}
		if pl.parent == nil {
			break
		}
		pl = f.index[pl.parent.ID]
	}
	slices.Reverse(out)
	return out
}

// checkList reports unreachable steps and cycles with no way to the end of
// one step list, then checks the branches of its reachable parallel steps.
func (ps *parser) checkList(list []*Step) {
	g := ps.f.listGraph(list)
	reach := g.reachable(0)
	reach[0] = true // the list starts here
	toEnd := g.reachingEnd()
	for i, s := range list {
		if !reach[i] {
			ps.p.atLine(s.Line, "step %s: unreachable: no step leads here", s.ID)
			continue
		}
		for _, b := range s.Parallel {
			ps.checkList(b.Steps)
		}
	}
	reported := make([]bool, len(list))
	for i, s := range list {
		if !reach[i] || toEnd[i] || reported[i] {
			continue
		}
		fromI := g.reachable(i)
		if !fromI[i] {
			continue // it leads into a cycle, reported at the cycle
		}
		var cycle []string
		for j := range list {
			if fromI[j] && g.reachable(j)[i] {
				cycle = append(cycle, list[j].ID)
				reported[j] = true
			}
		}
		ps.p.atLine(s.Line, "step %s: cycle with no way to end through steps %s", s.ID, strings.Join(cycle, ", "))
	}
}

// listGraph is the control flow of one list: node i is list[i], node
// len(list) is the end of the list (End, or the parallel's join).
type listGraph struct {
	n     int
	edges [][]int
}

func (f *Flow) listGraph(list []*Step) *listGraph {
	pos := func(id string) int {
		if id == End {
			return len(list)
		}
		for i, s := range list {
			if s.ID == id {
				return i
			}
		}
		return -1 // reported by checkTarget; the graph falls through instead
	}
	g := &listGraph{n: len(list) + 1, edges: make([][]int, len(list)+1)}
	for i, s := range list {
		// A bad target (already reported) falls through, so that one typo
		// is not also reported as every later step being unreachable.
		succ := i + 1
		if t := pos(s.Next); s.Next != "" && t >= 0 {
			succ = t
		}
		targets := []int{succ}
		if s.Type == StepCondition {
			targets = targets[:0]
			for _, c := range s.Cases {
				targets = append(targets, pos(c.Goto))
			}
			if t := pos(s.Default); s.Default != "" && t >= 0 {
				targets = append(targets, t)
			} else {
				targets = append(targets, succ)
			}
			if s.When != nil {
				targets = append(targets, succ)
			}
		}
		for _, t := range targets {
			if t >= 0 && !slices.Contains(g.edges[i], t) {
				g.edges[i] = append(g.edges[i], t)
			}
		}
	}
	return g
}

// reachable returns which nodes can be reached from node from by at least
// one edge, so from itself only if it lies on a cycle.
func (g *listGraph) reachable(from int) []bool {
	seen := make([]bool, g.n)
	stack := slices.Clone(g.edges[from])
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[i] {
			continue
		}
		seen[i] = true
		stack = append(stack, g.edges[i]...)
	}
	return seen
}

// reachingEnd returns which nodes have a path to the end node.
func (g *listGraph) reachingEnd() []bool {
	ok := make([]bool, g.n)
	end := g.n - 1
	ok[end] = true
	for changed := true; changed; {
		changed = false
		for i, es := range g.edges {
			if ok[i] {
				continue
			}
			if slices.ContainsFunc(es, func(j int) bool { return ok[j] }) {
				ok[i], changed = true, true
			}
		}
	}
	return ok
}
