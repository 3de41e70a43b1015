package flows

import (
	"fmt"
	"time"
)

// NotifyTopic is the outbox topic of notification intents.
const NotifyTopic = "notify"

// Notification kinds: NotificationIntent.Kind.
const (
	// NotifyTaskAssigned: the recipient has a task to act on (a new step,
	// their turn in 依次审批, a transfer, a delegation, a task back from
	// its delegate, a return). Cause says which.
	NotifyTaskAssigned = "task_assigned"
	// NotifyTaskClosed: the recipient's open task was closed by someone
	// else (another approver of a 或签 won, the instance was returned, the
	// task was transferred away or its signer removed); the card should
	// show Outcome by Actor.
	NotifyTaskClosed = "task_closed"
	// NotifyDecision: someone decided a task of the recipient's (the
	// applicant's) instance.
	NotifyDecision = "decision"
	// NotifyReturned: the applicant's instance was returned (退回); StepID
	// is the step it went back to, or "applicant" when it came back to them
	// (their resubmit task then has its own NotifyTaskAssigned).
	NotifyReturned = "returned"
	// NotifyWithdrawn: the applicant withdrew (撤回) the instance; sent to
	// everyone whose task it closed.
	NotifyWithdrawn = "withdrawn"
	// NotifyCancelled: an administrator cancelled the instance; sent to the
	// applicant and everyone whose task it closed.
	NotifyCancelled = "cancelled"
	// NotifyReminder: someone urged (催办) the recipient's open task.
	NotifyReminder = "reminder"
	// NotifyCC: the recipient is copied (抄送) on a step that passed or is
	// told by a notify step; nobody has to act.
	NotifyCC = "cc"
	// NotifyFinished: the applicant's instance ended; Status says how.
	NotifyFinished = "finished"
	// NotifyComment: someone commented on an instance the recipient takes
	// part in.
	NotifyComment = "comment"
)

// Causes of a NotifyTaskAssigned intent.
const (
	CauseStep     = ""           // the step started
	CauseTurn     = "turn"       // the previous signer of 依次审批 approved
	CauseResumed  = "resumed"    // the delegate acted, or the signers added before approved
	CauseTransfer = "transfer"   // 转交
	CauseDelegate = "delegate"   // 委派
	CauseAdded    = "add_signer" // 加签
	CauseReturn   = "return"     // 退回 to this step or to the applicant
)

// NotificationIntent is the payload of an outbox message on NotifyTopic: a
// platform-neutral statement that Recipient should be told something about
// an instance. The bot renders it for the recipient's platform (reading
// more through the API if needed); the engine never renders platform JSON.
//
// Key is stable and unique, "<instance>/v<version>/<kind>/<recipient>/<task
// or step or ->", so a copy published twice is dropped by the consumer.
// Version is the instance version the intent was committed with: a card
// updater keeps the newest.
type NotificationIntent struct {
	Kind      string `json:"kind"`
	Key       string `json:"key"`
	Recipient string `json:"recipient"` // user id
	// ForUser is set when the recipient gets the intent as the leave
	// proxy (代理) of ForUser, whose task it is.
	ForUser string `json:"for_user,omitempty"`

	InstanceID  string         `json:"instance_id"`
	FlowID      string         `json:"flow_id"`
	FlowVersion int            `json:"flow_version"`
	Title       string         `json:"title"`
	Applicant   string         `json:"applicant"`
	Status      InstanceStatus `json:"status"`
	Version     int64          `json:"version"`

	TaskID   string `json:"task_id,omitempty"`
	StepID   string `json:"step_id,omitempty"`
	StepName string `json:"step_name,omitempty"`

	// Actor did what caused the intent (OnBehalfOf whom, as a proxy).
	Actor      string `json:"actor,omitempty"`
	OnBehalfOf string `json:"on_behalf_of,omitempty"`
	// Outcome is the decision (approve, reject, done, return, transfer,
	// withdraw, cancel, ...) or, for NotifyFinished, the instance status.
	Outcome string `json:"outcome,omitempty"`
	Comment string `json:"comment,omitempty"`
	// Cause says why a task was assigned (Cause* constants).
	Cause string    `json:"cause,omitempty"`
	At    time.Time `json:"at"`
	// Alerts are the alerts of an alert group an alert_* intent is about.
	Alerts []AlertItem `json:"alerts,omitempty"`
	// NoRefresh is set on every intent of a commit but its first: the
	// first one's delivery brings the instance's other cards up to the
	// commit's state, so the rest need not read them again.
	NoRefresh bool `json:"no_refresh,omitempty"`
}

// notify queues an intent; the instance fields, key and payload are filled
// when the change is built. Intents to nobody or to the engine itself are
// dropped, as are exact repeats within one change.
func (r *run) notify(n NotificationIntent) {
	if n.Recipient == "" || n.Recipient == SystemActor {
		return
	}
	if n.Actor == "" {
		n.Actor, n.OnBehalfOf = r.actor, r.onBehalfOf
	}
	disc := "-"
	switch {
	case n.TaskID != "":
		disc = n.TaskID
	case n.StepID != "":
		disc = n.StepID
	}
	n.Key = fmt.Sprintf("%s/v%d/%s/%s/%s", r.inst.ID, r.version, n.Kind, n.Recipient, disc)
	if r.keys[n.Key] {
		return
	}
	r.keys[n.Key] = true
	if s := r.f.Step(n.StepID); s != nil {
		n.StepName = s.Name
	}
	n.At = r.now
	r.intents = append(r.intents, n)
}

// notifyHolder tells a task's holder and their leave proxies (代理), who
// may act on the task while the holder is away.
func (r *run) notifyHolder(n NotificationIntent) {
	r.notify(n)
	holder := n.Recipient
	for _, by := range r.proxies().Of(holder, r.f.ID, r.now) {
		n.Recipient, n.ForUser = by, holder
		r.notify(n)
	}
}

// toApplicant tells the applicant, unless they did it themselves.
func (r *run) toApplicant(n NotificationIntent) {
	if r.inst.Applicant == r.actor {
		return
	}
	n.Recipient = r.inst.Applicant
	r.notify(n)
}

// outboxMessages encodes the queued intents with the instance as it is
// written.
func (r *run) outboxMessages() ([]OutboxMessage, error) {
	out := make([]OutboxMessage, 0, len(r.intents))
	for i, n := range r.intents {
		n.InstanceID, n.FlowID, n.FlowVersion = r.inst.ID, r.inst.FlowID, r.inst.FlowVersion
		n.Title, n.Applicant, n.Status, n.Version = r.inst.Title, r.inst.Applicant, r.inst.Status, r.version
		n.NoRefresh = i > 0
		raw, err := marshal(n)
		if err != nil {
			return nil, fmt.Errorf("notification %s: %w", n.Key, err)
		}
		out = append(out, OutboxMessage{Key: n.Key, InstanceID: r.inst.ID, Topic: NotifyTopic, Payload: raw, CreatedAt: r.now})
	}
	return out, nil
}
