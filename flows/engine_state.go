package flows

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// runState is the engine's own state of an instance, kept in
// Instance.State. The task rows say what each person did; this says where
// the instance is: which steps wait for people (activations), how far each
// parallel step got, which steps passed. Both change in one Apply, so they
// never disagree.
type runState struct {
	// Seq numbers activations and Tasks the tasks created; timer and task
	// ids are built from them, so a rebuilt change has the same ids.
	Seq   int `json:"seq"`
	Tasks int `json:"tasks"`
	// Active are the steps waiting for people, in the order they started.
	Active []*activation `json:"active,omitempty"`
	// Joins maps a running parallel step to which of its branches are done.
	Joins map[string][]bool `json:"joins,omitempty"`
	// History are the approval and task steps that passed, in order: the
	// steps one may return (退回) to, and who approved them (auto-skip).
	History []passed `json:"history,omitempty"`
	// Results are the result forms task steps were completed with.
	Results map[string]map[string]any `json:"results,omitempty"`
	// Context is what the trigger event supplied, for conditions.
	Context map[string]any `json:"context,omitempty"`
	// Viewers maps users told about the instance (抄送, notify steps) to
	// the step whose field access they see the form with.
	Viewers map[string]string `json:"viewers,omitempty"`
	// Urged maps an open task to when it was last urged (催办).
	Urged map[string]time.Time `json:"urged,omitempty"`
	// Shown is the version written by the last change that altered what a
	// card shows (0: by a change before this was kept, see checkSeen). A
	// comment, an urge or a reminder leaves it, so a card drawn before one
	// of them may still be acted on.
	Shown int64 `json:"shown,omitempty"`
	// Alert is the alert group of an instance started at an alert step.
	Alert *alertState `json:"alert,omitempty"`
}

// activation is one run of a step that waits for people. A step returned to
// runs again as a new activation with new tasks, so decisions of an earlier
// round never count in a later one.
type activation struct {
	N     int       `json:"n"`
	Step  string    `json:"step"`
	Since time.Time `json:"since"`
	// Seats are who must or may decide, in order (the order of 依次审批).
	Seats  []*seat  `json:"seats"`
	Timers []string `json:"timers,omitempty"`
}

// seat is one place in a step's decision. Its task changes when the seat is
// transferred (转交); its status mirrors the task's.
type seat struct {
	Task   string     `json:"task"`
	User   string     `json:"user"`
	Status TaskStatus `json:"status"`
	// Shown is set once the task was open, so its holder has a card to
	// update when someone else closes it.
	Shown bool `json:"shown,omitempty"`
	// Extra marks a signer added by 加签: they must approve whatever the
	// step's sign mode, and are not counted in it.
	Extra   bool   `json:"extra,omitempty"`
	AddedBy string `json:"added_by,omitempty"`
	// Gates is, for a signer added before someone (前加签), the task of the
	// seat that waits until this one approved.
	Gates string `json:"gates,omitempty"`
	// Delegate is set while the seat's task is delegated (委派): the
	// owner's task waits until the delegate acted.
	Delegate *delegation `json:"delegate,omitempty"`
}

type delegation struct {
	Task string `json:"task"`
	User string `json:"user"`
}

// passed is a step that passed, with who approved or completed it.
type passed struct {
	Step      string   `json:"step"`
	N         int      `json:"n"`
	Approvers []string `json:"approvers,omitempty"`
}

// applicantStep is the step id of the task an instance returned to its
// applicant waits on; "applicant" cannot be a step id of a flow.
const applicantStep = ReturnToApplicant

// TaskKindResubmit is the Kind of the task of an instance returned (退回)
// to its applicant: they resubmit it (Resubmit, or Complete to resubmit it
// unchanged) or withdraw it.
const TaskKindResubmit = "resubmit"

func decodeState(raw json.RawMessage) (*runState, error) {
	st := &runState{}
	if len(raw) == 0 {
		return st, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // results and context keep exact numbers
	if err := dec.Decode(st); err != nil {
		return nil, fmt.Errorf("decode instance state: %w", err)
	}
	return st, nil
}

// find returns the activation and seat holding task id, and whether id is
// the seat's delegate task rather than its own.
func (st *runState) find(id string) (*activation, *seat, bool) {
	for _, a := range st.Active {
		for _, s := range a.Seats {
			if s.Task == id {
				return a, s, false
			}
			if s.Delegate != nil && s.Delegate.Task == id {
				return a, s, true
			}
		}
	}
	return nil, nil, false
}

func (st *runState) remove(a *activation) {
	st.Active = slices.DeleteFunc(st.Active, func(x *activation) bool { return x == a })
}

// approvers returns everyone who approved a step that passed, for the
// auto-skip of repeated approvers.
func (st *runState) approvers() map[string]bool {
	out := map[string]bool{}
	for _, h := range st.History {
		for _, u := range h.Approvers {
			out[u] = true
		}
	}
	return out
}

// undecided reports a seat still waiting for its holder.
func (s *seat) undecided() bool { return s.Status == TaskOpen || s.Status == TaskWaiting }

// holds reports whether user holds an undecided seat of the activation or
// the open task of a seat's delegate (委派): a delegate decides in the step
// too, and must not get a second task of it.
func (a *activation) holds(user string) bool {
	return slices.ContainsFunc(a.Seats, func(s *seat) bool {
		return (s.undecided() && s.User == user) || (s.Delegate != nil && s.Delegate.User == user)
	})
}

// gated reports whether an undecided signer added before the seat (前加签)
// still keeps it waiting.
func (a *activation) gated(task string) bool {
	return slices.ContainsFunc(a.Seats, func(s *seat) bool { return s.Gates == task && s.undecided() })
}
