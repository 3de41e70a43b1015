package flows

// Step returns the step with the given id, at any depth, or nil.
func (f *Flow) Step(id string) *Step {
	if pl := f.index[id]; pl != nil {
		return pl.step
	}
	return nil
}

// AllSteps lists the flow's steps in file order, the steps of parallel
// branches after the step that holds them.
func (f *Flow) AllSteps() []*Step {
	var out []*Step
	f.walk(func(s *Step) { out = append(out, s) })
	return out
}

// Successor returns where a step goes when it is done or skipped: its
// next:, else the step after it in its list, else End. Inside a parallel
// branch End means "this branch is done"; see Enclosing.
func (f *Flow) Successor(s *Step) string {
	if s.Next != "" {
		return s.Next
	}
	pl := f.index[s.ID]
	if pl == nil || pl.pos+1 >= len(pl.list) {
		return End
	}
	return pl.list[pl.pos+1].ID
}

// Enclosing returns the parallel step and branch index a step runs in, or
// (nil, -1) for a top-level step. When a branch reaches End the engine
// checks whether every branch of that parallel step is done, and if so
// continues with the parallel step's Successor.
func (f *Flow) Enclosing(s *Step) (parallel *Step, branch int) {
	pl := f.index[s.ID]
	if pl == nil || pl.parent == nil {
		return nil, -1
	}
	return pl.parent, pl.branch
}

// ReturnTargets returns where an assignee of s may return (退回) the
// instance, in file order: ReturnToApplicant and step ids. previous is the
// id of the last approval or task step that ran before s in this instance
// ("" if none); a ReturnToPrevious entry resolves to it when it is an
// earlier step of s. Without return_to, the applicant and every earlier
// approval or task step are allowed.
func (f *Flow) ReturnTargets(s *Step, previous string) []string {
	earlier := f.earlier(s)
	if s.ReturnTo == nil {
		out := []string{ReturnToApplicant}
		for _, e := range earlier {
			out = append(out, e.ID)
		}
		return out
	}
	allowed := map[string]bool{}
	for _, t := range s.ReturnTo {
		if t == ReturnToPrevious {
			t = previous
		}
		allowed[t] = true
	}
	var out []string
	if allowed[ReturnToApplicant] {
		out = append(out, ReturnToApplicant)
	}
	for _, e := range earlier {
		if allowed[e.ID] {
			out = append(out, e.ID)
		}
	}
	return out
}
