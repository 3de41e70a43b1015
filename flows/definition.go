package flows

import (
	"errors"
	"reflect"
	"strconv"
	"time"
)

// Flow is a parsed, validated and compiled flow definition: what the engine
// executes. Build one with ParseFlow, ParseDefinition or LoadDir; a Flow is
// immutable afterwards and safe for concurrent use.
type Flow struct {
	ID   string
	Name string
	// NameEN is the name English readers see (name_en); Name without it.
	NameEN string
	// Title, when the flow file has one, builds each instance's title
	// from its form; without it an instance is titled "<applicant's
	// name>提交的<flow name>", as Feishu and DingTalk do. TitleEN
	// (title_en) is the same for English readers.
	Title       *TitleTemplate
	TitleEN     *TitleTemplate
	Description string
	Trigger     Trigger
	Settings    Settings
	// Form is the applicant's form, in the order its fields are shown.
	Form []*Field
	// Rules are checks across the form's fields (ends_on >= starts_on).
	Rules []*FormRule
	// Steps is the top-level step list, run in order unless a step's Next,
	// a condition's branch or a return says otherwise.
	Steps []*Step

	// File is the name the flow was parsed under, used in messages.
	File string
	// Source is the YAML the flow was parsed from.
	Source []byte
	// Hash is the hex SHA-256 of Source; an unchanged file keeps its
	// stored version (see Store.PutDefinition).
	Hash string

	idLine  int
	index   map[string]*place
	fields  map[string]*Field
	exprEnv *exprEnv
}

// Trigger says which event starts the flow by itself. A flow without an
// event is started only by people (API, chat command, console).
type Trigger struct {
	Event string
}

// Settings are the flow-wide rules of the engine.
type Settings struct {
	// AutoSkip lists when an approval task is approved without asking.
	AutoSkip AutoSkip
	// Fallback is who gets a task whose assignee rules resolve to nobody
	// (a vacant manager post, an empty role). Default: {role: admin}.
	Fallback Assignees
	// UrgeInterval is the shortest time between two 催办 (Urge) of one task,
	// so applicants cannot spam approvers. Default: 1h.
	UrgeInterval time.Duration
}

// AutoSkip mirrors Feishu's and DingTalk's approver 去重 (deduplication).
type AutoSkip struct {
	// Applicant approves the applicant's own approval tasks: asking people
	// to approve their own request is noise.
	Applicant bool
	// Repeated approves a task for someone who already approved an earlier
	// step of the same instance.
	Repeated bool
}

// Default settings applied when a flow does not set them.
const (
	DefaultAdminRole    = "admin"
	DefaultUrgeInterval = time.Hour
)

// StepType is what a step does.
type StepType string

// Step types.
const (
	// StepApproval asks people to approve or reject (审批).
	StepApproval StepType = "approval"
	// StepTask asks people to do something and mark it done (办理),
	// optionally filling a result form.
	StepTask StepType = "task"
	// StepNotify informs people (抄送 / broadcast); nobody has to act.
	StepNotify StepType = "notify"
	// StepAlert pages on-call people about an event, with grouping,
	// dedupe, repeat and escalation.
	StepAlert StepType = "alert"
	// StepParallel runs its branches at once and continues when all are done.
	StepParallel StepType = "parallel"
	// StepCondition routes to the first branch whose condition holds.
	StepCondition StepType = "condition"
)

// Targets with a meaning of their own in next, goto, default and return_to.
const (
	// End ends the flow; inside a parallel branch it ends that branch.
	End = "end"
	// ReturnToApplicant in return_to allows 退回 (Return) to the applicant.
	ReturnToApplicant = "applicant"
	// ReturnToPrevious in return_to allows 退回 to the step that ran
	// before this one in the instance, whichever it was.
	ReturnToPrevious = "previous"
)

// Step is one node of a flow. Which fields are set depends on Type.
type Step struct {
	ID   string
	Name string // display name; the ID when the file gives none
	// NameEN is the name English readers see (name_en); Name without it.
	NameEN string
	Type   StepType
	Line   int

	// When, if set, skips the step (to its successor) when it is false.
	When *Cond
	// Next is the explicit successor: a step id of the same list, or End.
	// "" means the next step in the list (End after the last).
	Next string

	// Assignees are who act (approval, task), who are told (notify) or the
	// first on-call level (alert).
	Assignees Assignees
	// CC are told about the step without having to act (抄送).
	CC Assignees
	// Sign is how an approval step's assignees decide together.
	Sign Sign
	// Sequential asks approvers one after another in assignee order
	// (依次审批); it implies sign: all.
	Sequential bool
	// SLA is how long assignees have before OnTimeout applies; 0 = none.
	SLA       time.Duration
	OnTimeout *Timeout
	// Fields overrides the access of form fields at this step; fields not
	// listed are read-only.
	Fields map[string]Access
	// ReturnTo lists where the step may be returned (退回) to: step ids,
	// ReturnToApplicant, ReturnToPrevious. Nil means the applicant and any
	// earlier approval or task step; see Flow.ReturnTargets.
	ReturnTo []string
	// ResultForm is what a task step's assignee fills when completing it.
	ResultForm []*Field

	// Alert is the alert step's grouping and escalation policy.
	Alert *Alert
	// Parallel holds a parallel step's branches.
	Parallel []Branch
	// Cases are a condition step's ordered branches; Default is where it
	// goes when none holds ("" = the next step in the list).
	Cases   []Case
	Default string

	lines stepLines
}

// stepLines are where a step's targets were written, for messages.
type stepLines struct{ next, def, returnTo int }

// SignMode is how several approvers of one approval step decide.
type SignMode string

// Sign modes, in the words of Feishu and DingTalk approval.
const (
	// SignSingle: one approver is expected; their decision is the step's.
	SignSingle SignMode = "single"
	// SignAny is 或签: the first approval or rejection decides.
	SignAny SignMode = "any"
	// SignAll is 会签: every approver must approve; one rejection rejects.
	SignAll SignMode = "all"
	// SignPercent passes once Sign.Percent of the approvers approved and
	// fails once that can no longer happen.
	SignPercent SignMode = "percent"
)

// Sign is an approval step's sign mode; Percent is set for SignPercent.
type Sign struct {
	Mode    SignMode
	Percent int // 1..100
}

// String returns the sign as written in a flow file ("any", "percent:60").
func (s Sign) String() string {
	if s.Mode == SignPercent {
		return "percent:" + strconv.Itoa(s.Percent)
	}
	return string(s.Mode)
}

// Timeout is what happens once a step's SLA has passed. Every duration is
// counted from the SLA deadline.
type Timeout struct {
	// RemindEvery repeats a 催办 reminder to open assignees; 0 = none.
	RemindEvery time.Duration
	// RemindMax caps how many reminders one run of the step sends (an
	// escalation starts the count again); 0 = no cap.
	RemindMax int
	// EscalateAfter is when the open tasks are transferred to EscalateTo
	// (0 with EscalateTo set = at the deadline).
	EscalateAfter time.Duration
	EscalateTo    Assignees
	// AutoActionAfter is when AutoAction decides the open tasks (0 with
	// AutoAction set = at the deadline).
	AutoActionAfter time.Duration
	AutoAction      AutoAction
}

// AutoAction is the decision the system takes when nobody did.
type AutoAction string

// Auto actions of an approval step's on_timeout.
const (
	AutoApprove AutoAction = "approve"
	AutoReject  AutoAction = "reject"
)

// Alert is an alert step's policy, in Alertmanager's terms.
type Alert struct {
	// DedupeKey are form fields whose values identify one alert: an event
	// with the same values updates the open alert instead of paging again.
	DedupeKey []string
	// GroupBy are form fields whose values batch alerts into one message.
	GroupBy []string
	// GroupWait is how long to collect a group before the first message.
	GroupWait time.Duration
	// RepeatInterval is how long before an unresolved alert pages again.
	RepeatInterval time.Duration
	// Escalation pages further levels while nobody acknowledged, in order.
	Escalation []Escalation
	// AutoResolveOn is the event that resolves the alert by itself.
	AutoResolveOn string
}

// Escalation is one on-call level paged After the alert went unacknowledged.
type Escalation struct {
	After     time.Duration
	Assignees Assignees
	Line      int
}

// Default alert timings, Alertmanager's.
const (
	DefaultGroupWait      = 30 * time.Second
	DefaultRepeatInterval = 4 * time.Hour
)

// Branch is one branch of a parallel step: its own step list.
type Branch struct {
	Name   string // "#1" when the flow names it not
	NameEN string // for English readers; Name when empty
	Steps  []*Step
}

// NameIn is the branch's name for a reader of English (en) or Chinese.
func (b Branch) NameIn(en bool) string {
	if en && b.NameEN != "" {
		return b.NameEN
	}
	return b.Name
}

// Case is one ordered branch of a condition step.
type Case struct {
	When *Cond
	Goto string // a step id of the same list, or End
	Line int
}

// Access is what a step may do with a form field.
type Access string

// Field access levels.
const (
	AccessEditable Access = "editable"
	AccessReadOnly Access = "read_only"
	// AccessHidden fields never reach the step's cards or API answers.
	AccessHidden Access = "hidden"
)

// StartForm is the step id that stands for the applicant's start form in
// FormView, VisibleValues and ApplyEdits: every field is editable there.
const StartForm = ""

// ErrUnknownStep is returned when a step id names no step of the flow.
var ErrUnknownStep = errors.New("unknown step")

// place is where a step sits: its list, its position and its enclosing
// parallel step (nil at the top level).
type place struct {
	step   *Step
	list   []*Step
	pos    int
	parent *Step
	branch int
}

// exprEnv holds the reflect types conditions are compiled against.
type exprEnv struct {
	root    reflect.Type // struct{Form; Applicant; Context; Results}
	form    reflect.Type
	results reflect.Type
	rows    map[string]reflect.Type // table field key → row struct
	result  map[string]reflect.Type // step id → result struct
	// resultSteps are the task steps with a result form, in the order of
	// the results struct's fields.
	resultSteps []*Step
	// formOnly is struct{Form}: what a FormRule reads.
	formOnly reflect.Type
}
