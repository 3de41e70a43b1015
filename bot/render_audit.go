package bot

import (
	"encoding/json"
	"slices"
	"time"

	"cardflow/flows"
)

// detail is what a card reads of an audit entry's detail: the union of the
// engine's action, alert and timer details.
type detail struct {
	Comment string          `json:"comment"`
	To      json.RawMessage `json:"to"` // a user or step (transfer, return), users (escalate)
	Users   []string        `json:"users"`
	Key     string          `json:"key"`
	Count   int             `json:"count"`
	Until   time.Time       `json:"until"`
	Labels  map[string]any  `json:"labels"` // an alert's form (alert_fire, alert_group, alert_dedupe)
}

func decodeDetail(raw json.RawMessage) detail {
	var d detail
	_ = json.Unmarshal(raw, &d) // an unreadable detail reads as empty: the card says less, never more
	return d
}

// to lists the users or step the entry's "to" names.
func (d detail) to() []string {
	var one string
	if json.Unmarshal(d.To, &one) == nil && one != "" {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(d.To, &many)
	return many
}

// entry is an audit entry with its detail read.
type entry struct {
	flows.AuditEntry
	detail
}

// last returns the latest audit entry with one of actions for which keep
// holds (nil keeps every one).
func (p *page) last(keep func(entry) bool, actions ...string) (entry, bool) {
	for _, a := range slices.Backward(p.view.Audit) {
		if !slices.Contains(actions, a.Action) {
			continue
		}
		e := entry{AuditEntry: a, detail: decodeDetail(a.Detail)}
		if keep == nil || keep(e) {
			return e, true
		}
	}
	return entry{}, false
}

// decisions are the audit actions a card reports as "the last decision".
var decisions = []string{"approve", "reject", "return", "complete", "transfer", "delegate", "add_signer",
	"resubmit", "auto_approve", "auto_reject", "escalate", "withdraw", "cancel", "acknowledge", "resolve"}

// said is an entry's comment as the card may quote it: people's comments
// only, not the engine's own notes ("escalated (SLA)").
func (e entry) said() string {
	if e.Actor == flows.SystemActor {
		return ""
	}
	return e.Comment
}
