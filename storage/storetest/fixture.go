package storetest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

// BaseTime is the instant the fixtures are built around. It is given in
// +08:00 (China Standard Time, where most users of the chat platforms are)
// so a store that drops the zone or keeps local time fails the round trips.
var BaseTime = time.Date(2025, 3, 14, 9, 26, 53, 589_000_000, time.FixedZone("CST", 8*60*60))

// At returns BaseTime shifted by d; fixtures use it so every time in a test
// is explicit and no test depends on the wall clock.
func At(d time.Duration) time.Time { return BaseTime.Add(d) }

// NewInstance returns a running instance of the "purchase" flow with every
// field set, created at BaseTime. Its Version is 0: Apply with Create gives
// it version 1.
func NewInstance(id string) flows.Instance {
	return flows.Instance{
		ID:          id,
		FlowID:      "purchase",
		FlowVersion: 2,
		Status:      flows.InstanceRunning,
		Applicant:   "u-alice",
		Title:       "采购申请 " + id,
		Form:        json.RawMessage(`{"amount": 5200.5, "items": ["laptop", "dock"], "note": "急"}`),
		State:       json.RawMessage(`{"steps": {"finance": "open"}}`),
		CreatedAt:   BaseTime,
		UpdatedAt:   BaseTime,
	}
}

// NewTask returns an open approval task of instance for assignee, created at
// BaseTime with a two-hour SLA and no decision yet.
func NewTask(instanceID, id, assignee string) flows.Task {
	return flows.Task{
		ID:         id,
		InstanceID: instanceID,
		StepID:     "finance",
		Kind:       "approval",
		Assignee:   assignee,
		Status:     flows.TaskOpen,
		Seq:        1,
		DueAt:      At(2 * time.Hour),
		CreatedAt:  BaseTime,
	}
}

// NewTimer returns a reminder timer of instance due at due.
func NewTimer(instanceID, id string, due time.Time) flows.Timer {
	return flows.Timer{
		ID:         id,
		InstanceID: instanceID,
		TaskID:     instanceID + "-t1",
		Kind:       "remind",
		DueAt:      due,
		Payload:    json.RawMessage(`{"every": "30m"}`),
	}
}

// NewAudit returns an audit entry of instance for action by actor at
// BaseTime; the store gives its Seq.
func NewAudit(instanceID, action, actor string) flows.AuditEntry {
	return flows.AuditEntry{
		InstanceID: instanceID,
		Actor:      actor,
		Action:     action,
		Detail:     json.RawMessage(`{"via": "feishu"}`),
		At:         BaseTime,
	}
}

// NewOutbox returns a "notify" outbox message of instance with the given
// idempotency key, committed at BaseTime; the store gives its Seq.
func NewOutbox(instanceID, key string) flows.OutboxMessage {
	return flows.OutboxMessage{
		Key:        key,
		InstanceID: instanceID,
		Topic:      "notify",
		Payload:    json.RawMessage(`{"card": "approval", "key": "` + key + `"}`),
		CreatedAt:  BaseTime,
	}
}

// NewDefinition returns a definition of flowID whose Hash is the SHA-256 of
// source, as the flow loader computes it.
func NewDefinition(flowID, source string) flows.Definition {
	sum := sha256.Sum256([]byte(source))
	return flows.Definition{
		FlowID:    flowID,
		Name:      "流程 " + flowID,
		Hash:      hex.EncodeToString(sum[:]),
		Source:    []byte(source),
		CreatedAt: BaseTime,
	}
}

// StartChange returns the Change that creates inst with its tasks, one
// "start" audit row by the applicant and one outbox message per task (keyed
// "<instance>/start/<task>").
func StartChange(inst flows.Instance, tasks ...flows.Task) flows.Change {
	c := flows.Change{
		Instance: &inst,
		Create:   true,
		NewTasks: tasks,
		Audit:    []flows.AuditEntry{NewAudit(inst.ID, "start", inst.Applicant)},
	}
	for _, task := range tasks {
		c.Outbox = append(c.Outbox, NewOutbox(inst.ID, inst.ID+"/start/"+task.ID))
	}
	return c
}

// DecideChange returns the Change by which user approves the open task
// taskID of inst, whose stored version is inst.Version: the instance is
// rewritten at version+1 with an "approve" audit row and one outbox message
// keyed "<instance>/v<version>/<user>".
func DecideChange(inst flows.Instance, taskID, user string) flows.Change {
	next := inst
	next.UpdatedAt = At(time.Minute)
	next.State = json.RawMessage(fmt.Sprintf(`{"decided": %q}`, taskID))
	audit := NewAudit(inst.ID, "approve", user)
	audit.TaskID = taskID
	audit.At = At(time.Minute)
	return flows.Change{
		Instance:      &next,
		ExpectVersion: inst.Version,
		TaskUpdates: []flows.TaskUpdate{{
			ID:        taskID,
			From:      flows.TaskOpen,
			Status:    flows.TaskApproved,
			Outcome:   "approve",
			Comment:   "同意",
			DecidedBy: user,
			DecidedAt: At(time.Minute),
		}},
		Audit:  []flows.AuditEntry{audit},
		Outbox: []flows.OutboxMessage{NewOutbox(inst.ID, fmt.Sprintf("%s/v%d/%s", inst.ID, inst.Version, user))},
	}
}

// MustApply applies c and fails the test on an error.
func MustApply(t testing.TB, s flows.Store, c flows.Change) flows.Applied {
	t.Helper()
	a, err := s.Apply(t.Context(), c)
	require.NoError(t, err, "apply change")
	return a
}

// Seed creates instance id with one open task "<id>-t1" assigned to u-bob
// and returns the stored instance (version 1).
func Seed(t testing.TB, s flows.Store, id string) flows.Instance {
	t.Helper()
	inst := NewInstance(id)
	MustApply(t, s, StartChange(inst, NewTask(id, id+"-t1", "u-bob")))
	inst.Version = 1
	return inst
}

// SampleOrg returns a small org: two departments, a manager and three staff
// with roles and platform ids on several platforms, and locales and time
// zones given (Bob reads English in Berlin) or left to the defaults ("").
func SampleOrg() flows.Org {
	return flows.Org{
		Departments: []flows.Department{
			{ID: "d-root", Name: "总部", Head: "u-boss"},
			{ID: "d-fin", Name: "财务部", Parent: "d-root", Head: "u-carol"},
		},
		Users: []flows.User{
			{ID: "u-boss", Name: "老板", Department: "d-root", Roles: []string{"director"},
				PlatformIDs: map[string]string{"feishu": "ou_boss", "wecom": "BossWang"}, Locale: "zh-CN", TimeZone: "Asia/Shanghai"},
			{ID: "u-carol", Name: "Carol", Department: "d-fin", Manager: "u-boss", Roles: []string{"finance", "finance_lead"},
				PlatformIDs: map[string]string{"feishu": "ou_carol", "dingtalk": "0123carol"}},
			{ID: "u-bob", Name: "Bob", Department: "d-fin", Manager: "u-carol", Roles: []string{"finance"},
				PlatformIDs: map[string]string{"feishu": "ou_bob", "sim": "bob"}, Locale: "en", TimeZone: "Europe/Berlin"},
			{ID: "u-alice", Name: "Alice", Department: "d-root", Manager: "u-boss"},
		},
	}
}
