package flows

// verdict is where a step's decision stands.
type verdict int

const (
	pending verdict = iota
	passes
	fails
)

// verdict applies the step's sign mode to its seats. Seats closed without a
// decision of their own (transferred away, removed by 减签, cancelled once
// the step was decided) do not count. Signers added by 加签 must approve in
// every mode and their rejection rejects. baseDone reports that the step's
// own assignees decided in favour while added signers are still pending.
func (a *activation) verdict(s *Step) (v verdict, baseDone bool) {
	var base, approved, rejected, undecided int
	extrasPending := false
	for _, st := range a.Seats {
		switch {
		case st.Status == TaskCancelled || st.Status == TaskReturned:
			continue
		case st.Extra && st.Status == TaskRejected:
			return fails, false
		case st.Extra:
			extrasPending = extrasPending || st.undecided()
			continue
		}
		base++
		switch {
		case st.undecided():
			undecided++
		case st.Status == TaskRejected:
			rejected++
		default: // approved, done
			approved++
		}
	}
	ok, failed := signs(s, base, approved, rejected, undecided)
	switch {
	case failed:
		return fails, false
	case ok && !extrasPending:
		return passes, true
	}
	return pending, ok
}

// signs applies the sign mode to the counts of the step's own seats.
func signs(s *Step, base, approved, rejected, undecided int) (ok, failed bool) {
	if s.Type != StepApproval { // task: the first to complete it does it
		return approved > 0, false
	}
	switch s.Sign.Mode {
	case SignAll: // 会签: everyone approves; one rejection rejects
		return undecided == 0 && rejected == 0 && approved > 0, rejected > 0
	case SignPercent:
		need := s.Sign.Percent * base // compared ×100 to stay in integers
		return approved*100 >= need && approved > 0, (approved+undecided)*100 < need
	default: // single, any (或签): the first decision decides
		return approved > 0, rejected > 0
	}
}

// settle moves a step on after a seat changed: it passes or fails the step
// when its sign mode says so, closes the step's own seats nobody needs any
// more, and opens the seats whose turn it is.
func (r *run) settle(a *activation) error {
	s := r.f.Step(a.Step)
	v, baseDone := a.verdict(s)
	switch v {
	case passes:
		return r.pass(a)
	case fails:
		return r.fail()
	}
	if baseDone {
		r.closeBase(a, s)
		// Closing the signers added before the closed seats may leave
		// nobody pending: then the step has passed.
		if v, _ := a.verdict(s); v == passes {
			return r.pass(a)
		}
	}
	r.openEligible(a, s)
	return nil
}

// closeBase closes the undecided seats of the step's own assignees once
// their part is decided (a 或签 approved while a signer added after the
// approver still has to sign), with the signers added before them.
func (r *run) closeBase(a *activation, s *Step) {
	outcome := "approve"
	if s.Type != StepApproval {
		outcome = "done"
	}
	for _, st := range a.Seats {
		if st.Extra || !st.undecided() {
			continue
		}
		r.closeSeat(a, st, TaskCancelled, outcome, NotifyTaskClosed)
		for _, g := range a.Seats {
			if g.Gates == st.Task {
				r.closeSeat(a, g, TaskCancelled, outcome, NotifyTaskClosed)
			}
		}
	}
}

// openEligible opens waiting seats nothing holds back any more: not
// delegated, no signer added before them pending, and in 依次审批 the first
// undecided signer in order.
func (r *run) openEligible(a *activation, s *Step) {
	var turn *seat
	if s.Sequential {
		for _, st := range a.Seats {
			if st.Gates == "" && st.undecided() {
				turn = st
				break
			}
		}
	}
	for _, st := range a.Seats {
		if st.Status != TaskWaiting || st.Delegate != nil || a.gated(st.Task) {
			continue
		}
		if s.Sequential && st.Gates == "" && st != turn {
			continue
		}
		cause := CauseResumed
		if !st.Shown {
			cause = CauseTurn
		}
		r.reopen(a, st, cause)
	}
}
