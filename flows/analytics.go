package flows

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// AnalyticsQuery selects the period and flow Engine.Analytics counts.
type AnalyticsQuery struct {
	// From and To bound the period, From <= t < To. A zero To is now; a
	// zero From is DefaultAnalyticsWindow before To.
	From, To time.Time
	// FlowID narrows the figures to one flow; "" is every flow.
	FlowID string
}

// DefaultAnalyticsWindow is the period Engine.Analytics counts when the
// query gives no From: the last 30 days.
const DefaultAnalyticsWindow = 30 * 24 * time.Hour

// MaxAnalyticsTasks bounds how many tasks one Engine.Analytics reads; a
// period with more fails with ErrAnalyticsTooLarge rather than holding an
// unbounded number of decision times in memory.
const MaxAnalyticsTasks = 1_000_000

// ErrAnalyticsTooLarge is returned by Engine.Analytics for a period with
// more than MaxAnalyticsTasks tasks: a shorter period or one flow answers.
var ErrAnalyticsTooLarge = errors.New("too many tasks in the period: choose a shorter period or one flow")

// ErrAnalyticsUnsupported is returned by Engine.Analytics on a store that
// does not implement AnalyticsReader; it is an ErrNotSupported.
var ErrAnalyticsUnsupported = fmt.Errorf("the store cannot compute flow analytics: %w", ErrNotSupported)

// Analytics are the figures of a period (审批效率), as Engine.Analytics
// counts them:
//
//   - Instances are selected by their start: those created in [From, To).
//     Their figures say what became of them by Now.
//   - Decisions are selected by their decision: the tasks a person decided
//     (approved, rejected, returned or completed) in [From, To), plus, for
//     Open, the tasks still open at Now that were created before To.
//     Tasks closed without a decision (the other signers of a 或签 step, a
//     transferred task, a withdrawn instance's tasks), tasks the engine
//     approved itself when it opened them (auto-skip, 自动通过), and an
//     applicant's resubmission are not decisions.
//   - Time to decide is from a task's creation to its decision. Median and
//     P90 interpolate between the two nearest decisions, as PostgreSQL's
//     percentile_cont does.
//   - A task is overdue when it has a due time (its step's SLA) and was
//     decided after it, or is open at Now past it. OverdueShare is the
//     overdue tasks over the tasks with a due time (decided or open).
type Analytics struct {
	From, To time.Time
	// Now is when the figures were read: what Open and OpenOverdue count.
	Now time.Time
	// Flows are ordered by flow id.
	Flows []FlowAnalytics
	// Decisions are every flow's decisions together.
	Decisions DecisionFigures
}

// FlowAnalytics are one flow's figures.
type FlowAnalytics struct {
	FlowID string
	// Name is the flow's name in its latest version (its id when the flow
	// is no longer defined).
	Name      string
	Instances InstanceFigures
	Decisions DecisionFigures
	// Steps are ordered as the flow's latest version lists them, steps it
	// no longer has last by id.
	Steps []StepAnalytics
	// Assignees are every step's decisions per assignee, by user id.
	Assignees []AssigneeFigures
}

// InstanceFigures count a flow's instances started in the period.
type InstanceFigures struct {
	Started int64
	// Finished counts those approved or completed; Running those still in
	// progress.
	Finished, Rejected, Withdrawn, Cancelled, Running int64
	// Returns counts the return actions (退回) taken in these instances.
	Returns int64
}

// StepAnalytics are one step's figures.
type StepAnalytics struct {
	StepID string
	// Name is the step's name in the flow's latest version (its id when
	// the step is gone).
	Name      string
	Decisions DecisionFigures
	// Assignees are the step's decisions per assignee, by user id.
	Assignees []AssigneeFigures
}

// AssigneeFigures are the decisions of one assignee (whose task it was,
// even when a proxy decided it).
type AssigneeFigures struct {
	UserID string
	// Name is the user's name in the org directory (the id when unknown).
	Name      string
	Decisions DecisionFigures
}

// DecisionFigures are the decisions of a group of tasks; see Analytics for
// what is counted.
type DecisionFigures struct {
	// Decided counts the decisions: Approved (approve or complete),
	// Rejected and Returned.
	Decided, Approved, Rejected, Returned int64
	// Median and P90 are the time to decide; zero without decisions.
	Median, P90 time.Duration
	// Due counts the tasks with a due time, decided or open; Overdue those
	// of them decided after it or open past it; OverdueShare is
	// Overdue/Due, zero when Due is.
	Due, Overdue int64
	OverdueShare float64
	// Open counts the tasks open at Now; OpenOverdue those of them past
	// their due time.
	Open, OpenOverdue int64
}

// AnalyticsReader is the part of a Store flow analytics reads. Both stores
// implement it; storage/storetest checks them with one suite.
type AnalyticsReader interface {
	// InstanceCounts counts the instances created in [From, To) (of FlowID
	// when set) per flow and status, with the tasks returned (退回) in
	// each group's instances, ordered by flow id then status.
	InstanceCounts(ctx context.Context, p AnalyticsParams) ([]InstanceCount, error)
	// AnalyticsTasks calls each, in no particular order, for every task
	// (of FlowID's instances when set; never a TaskKindResubmit task)
	// that is either
	//   - approved, rejected, returned or done, with DecidedAt in
	//     [From, To), unless SystemActor decided it at its CreatedAt
	//     (auto-skip), or
	//   - open, with CreatedAt before To.
	// An error from each stops the read and is returned.
	AnalyticsTasks(ctx context.Context, p AnalyticsParams, each func(AnalyticsTask) error) error
}

// AnalyticsParams are what an AnalyticsReader reads: both times are set.
type AnalyticsParams struct {
	From, To time.Time
	FlowID   string
}

// InstanceCount is the number of a flow's instances in one status.
type InstanceCount struct {
	FlowID string
	Status InstanceStatus
	Count  int64
	// Returns counts the tasks returned in these instances.
	Returns int64
}

// AnalyticsTask is a task as flow analytics reads it.
type AnalyticsTask struct {
	FlowID    string
	StepID    string
	Assignee  string
	Status    TaskStatus
	CreatedAt time.Time
	DueAt     time.Time // zero without an SLA
	DecidedAt time.Time // zero while open
}
