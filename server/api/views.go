package api

import (
	"encoding/json"
	"time"

	"cardflow/flows"
)

// The API's JSON shapes. They are written out here, with snake_case names,
// rather than by encoding the engine's types, so that a field renamed in Go
// does not silently change the published API. flows.Result is the
// exception: its JSON tags are already a stored contract (idempotent
// answers), so it is encoded as it is.

type taskOut struct {
	ID         string          `json:"id"`
	InstanceID string          `json:"instance_id"`
	StepID     string          `json:"step_id"`
	Kind       string          `json:"kind"`
	Assignee   string          `json:"assignee"`
	Owner      string          `json:"owner,omitempty"`
	Status     string          `json:"status"`
	Outcome    string          `json:"outcome,omitempty"`
	Comment    string          `json:"comment,omitempty"`
	Result     json.RawMessage `json:"result,omitempty"`
	DecidedBy  string          `json:"decided_by,omitempty"`
	DueAt      *time.Time      `json:"due_at,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
	DecidedAt  *time.Time      `json:"decided_at,omitempty"`
}

func taskJSON(t flows.Task) taskOut {
	return taskOut{
		ID: t.ID, InstanceID: t.InstanceID, StepID: t.StepID, Kind: t.Kind, Assignee: t.Assignee,
		Owner: t.OwnerID, Status: string(t.Status), Outcome: t.Outcome, Comment: t.Comment, Result: t.Result,
		DecidedBy: t.DecidedBy, DueAt: optTime(t.DueAt), CreatedAt: t.CreatedAt, DecidedAt: optTime(t.DecidedAt),
	}
}

type fieldOut struct {
	Key    string `json:"key"`
	Label  string `json:"label"`
	Type   string `json:"type"`
	Access string `json:"access"`
	Value  any    `json:"value,omitempty"`
}

type stepOut struct {
	StepID     string    `json:"step_id"`
	Name       string    `json:"name"`
	Type       string    `json:"type"`
	Sign       string    `json:"sign,omitempty"`
	Sequential bool      `json:"sequential,omitempty"`
	Since      time.Time `json:"since"`
	Tasks      []taskOut `json:"tasks"`
}

type auditOut struct {
	Seq        int64           `json:"seq"`
	TaskID     string          `json:"task_id,omitempty"`
	Actor      string          `json:"actor"`
	OnBehalfOf string          `json:"on_behalf_of,omitempty"`
	Action     string          `json:"action"`
	Detail     json.RawMessage `json:"detail,omitempty"`
	At         time.Time       `json:"at"`
}

type instanceOut struct {
	instanceSummaryOut
	Current []stepOut                 `json:"current"`
	Results map[string]map[string]any `json:"results,omitempty"`
	Tasks   []taskOut                 `json:"tasks"`
	Audit   []auditOut                `json:"audit"`
}

func instanceJSON(v flows.InstanceView) instanceOut {
	in := v.Instance
	out := instanceOut{instanceSummaryOut: summaryJSON(in, v.FlowName, v.ViewedAs, v.Form), Results: v.Results,
		Current: []stepOut{}, Tasks: tasksJSON(v.Tasks), Audit: []auditOut{}}
	for _, s := range v.Current {
		step := stepOut{StepID: s.StepID, Name: s.Name, Type: string(s.Type), Sequential: s.Sequential,
			Since: s.Since, Tasks: tasksJSON(s.Tasks)}
		if s.Type == flows.StepApproval {
			step.Sign = s.Sign.String()
		}
		out.Current = append(out.Current, step)
	}
	for _, a := range v.Audit {
		out.Audit = append(out.Audit, auditOut{Seq: a.Seq, TaskID: a.TaskID, Actor: a.Actor,
			OnBehalfOf: a.OnBehalfOf, Action: a.Action, Detail: a.Detail, At: a.At})
	}
	return out
}

type taskViewOut struct {
	taskOut
	FlowID     string     `json:"flow_id"`
	FlowName   string     `json:"flow_name"`
	Title      string     `json:"title"`
	Applicant  string     `json:"applicant"`
	StepName   string     `json:"step_name"`
	OnBehalfOf string     `json:"on_behalf_of,omitempty"`
	Form       []fieldOut `json:"form"`
}

func taskViewJSON(v flows.TaskView) taskViewOut {
	return taskViewOut{taskOut: taskJSON(v.Task), FlowID: v.FlowID, FlowName: v.FlowName, Title: v.Title,
		Applicant: v.Applicant, StepName: v.StepName, OnBehalfOf: v.OnBehalfOf, Form: fieldsJSON(v.Form)}
}

// fieldsJSON renders the fields a viewer may see; the engine has already
// left hidden ones out, and this drops any that slip through regardless.
func fieldsJSON(fields []flows.FieldView) []fieldOut {
	out := []fieldOut{}
	for _, f := range fields {
		if f.Access == flows.AccessHidden {
			continue
		}
		fo := fieldOut{Key: f.Field.Key, Label: f.Field.Label, Type: string(f.Field.Type), Access: string(f.Access)}
		if f.Set {
			fo.Value = f.Value
		}
		out = append(out, fo)
	}
	return out
}

func tasksJSON(ts []flows.Task) []taskOut {
	out := make([]taskOut, len(ts))
	for i, t := range ts {
		out[i] = taskJSON(t)
	}
	return out
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
