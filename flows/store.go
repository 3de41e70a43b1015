package flows

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Store is the persistence the flow engine needs. storage/postgres and
// storage/sqlite implement it; storage/storetest holds the one conformance
// suite both must pass.
//
// Every state change of an instance goes through Apply, which writes the
// instance, its tasks, timers, audit rows and outbox messages in ONE
// transaction guarded by an optimistic version check, so nothing is ever
// half-applied and nothing is sent from inside a transaction.
type Store interface {
	// Apply commits a Change atomically. It returns ErrDuplicate (wrapped in a
	// *DuplicateError carrying the first answer) when the change's
	// IdempotencyKey was already applied, ErrStaleVersion when the instance's
	// version is not the expected one, ErrTaskConflict when a TaskUpdate's
	// task is not in its expected status, and ErrNotFound when an updated
	// instance or task does not exist. On any error nothing is written.
	Apply(ctx context.Context, c Change) (Applied, error)

	// Instance returns one instance; ErrNotFound if there is none.
	Instance(ctx context.Context, id string) (Instance, error)
	// Instances lists instances matching the filter, newest first.
	Instances(ctx context.Context, f InstanceFilter) ([]Instance, error)
	// Task returns one task; ErrNotFound if there is none.
	Task(ctx context.Context, id string) (Task, error)
	// Tasks lists tasks matching the filter, oldest first (by CreatedAt, then ID).
	Tasks(ctx context.Context, f TaskFilter) ([]Task, error)
	// Audit returns an instance's audit trail in the order it was written.
	Audit(ctx context.Context, instanceID string) ([]AuditEntry, error)
	// Idempotent returns the stored answer for an idempotency key that was
	// applied before; ErrNotFound if the key is unknown.
	Idempotent(ctx context.Context, key string) (json.RawMessage, error)

	// PutDefinition stores a flow definition. When the source's hash equals
	// the latest version's, it stores nothing and returns that version
	// (created=false); otherwise it stores version latest+1 (1 for a new flow).
	PutDefinition(ctx context.Context, d Definition) (def Definition, created bool, err error)
	// Definition returns one version of a flow; ErrNotFound if there is none.
	Definition(ctx context.Context, flowID string, version int) (Definition, error)
	// LatestDefinition returns a flow's highest version; ErrNotFound if none.
	LatestDefinition(ctx context.Context, flowID string) (Definition, error)
	// Definitions returns the latest version of every flow, ordered by flow id.
	Definitions(ctx context.Context) ([]Definition, error)

	// ReplaceOrg replaces the whole org directory (users, departments and
	// their platform ids) in one transaction.
	ReplaceOrg(ctx context.Context, o Org) error
	// User returns one user; ErrNotFound if there is none.
	User(ctx context.Context, id string) (User, error)
	// UserByPlatformID maps a chat platform's user id to the internal user;
	// ErrNotFound if unmapped.
	UserByPlatformID(ctx context.Context, platform, platformUserID string) (User, error)
	// Users returns every user of the directory, ordered by id.
	Users(ctx context.Context) ([]User, error)
	// UsersWithRole returns the users holding a role, ordered by id.
	UsersWithRole(ctx context.Context, role string) ([]User, error)
	// Department returns one department; ErrNotFound if there is none.
	Department(ctx context.Context, id string) (Department, error)

	// Proxies returns every stored leave proxy rule (代理), ordered by
	// From, then ID.
	Proxies(ctx context.Context) ([]Proxy, error)
	// ReplaceProxies replaces, in one transaction, the rules of one source
	// (ProxySourceOrg when the org file is loaded) and leaves the others.
	ReplaceProxies(ctx context.Context, source string, rules []Proxy) error
	// PutProxy stores one rule; a rule whose ID exists is replaced.
	PutProxy(ctx context.Context, p Proxy) error
	// DeleteProxy removes one rule; ErrNotFound if there is none.
	DeleteProxy(ctx context.Context, id string) error

	// PendingOutbox returns up to limit unsent outbox messages in commit
	// order per instance (ascending Seq), fewer only when no more are
	// pending. A store may keep the messages of one commit together: it
	// then returns the unsent ones of the commit that reaches the limit
	// too, so a batch may go beyond limit, never stop short of it.
	PendingOutbox(ctx context.Context, limit int) ([]OutboxMessage, error)
	// MarkOutboxSent marks messages sent; marking an already sent or unknown
	// seq is not an error.
	MarkOutboxSent(ctx context.Context, seqs []int64) error
	// OutboxBacklog reports how many messages are unsent and when the oldest
	// of them was committed (zero time when none).
	OutboxBacklog(ctx context.Context) (count int64, oldest time.Time, err error)

	// ClaimTimers leases up to limit timers due at or before now to holder
	// for the lease duration; a timer leased to another holder is skipped
	// until its lease expires, so a timer fires once across instances.
	// Timers are removed by a Change's CancelTimers.
	ClaimTimers(ctx context.Context, now time.Time, holder string, lease time.Duration, limit int) ([]Timer, error)

	// AcquireLease takes or renews the named lease for holder until now+ttl.
	// It reports false when another holder's lease has not expired yet.
	AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error)
	// ReleaseLease gives the lease up if holder holds it.
	ReleaseLease(ctx context.Context, name, holder string) error

	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	// Close releases the store's connections.
	Close() error
}

// Errors a Store returns; callers test them with errors.Is.
var (
	ErrNotFound     = errors.New("not found")
	ErrStaleVersion = errors.New("stale version: the instance changed since it was read")
	ErrTaskConflict = errors.New("task conflict: the task is no longer in the expected status")
	ErrDuplicate    = errors.New("duplicate: this idempotency key was already applied")
	// ErrUnavailable wraps a store failure that says the database cannot be
	// reached right now (connection refused or lost, shutting down, too many
	// connections): the request may succeed later, and the API answers 503
	// with Retry-After rather than 500.
	ErrUnavailable = errors.New("store unavailable")
)

// DuplicateError is returned by Apply for a replayed idempotency key. It
// carries the answer stored by the first application; errors.Is(err,
// ErrDuplicate) is true.
type DuplicateError struct {
	Key    string
	Result json.RawMessage
}

func (e *DuplicateError) Error() string {
	return "idempotency key " + e.Key + ": " + ErrDuplicate.Error()
}

// Is makes errors.Is(err, ErrDuplicate) true.
func (e *DuplicateError) Is(target error) bool { return target == ErrDuplicate }

// Change is one atomic state transition. The store applies, in one
// transaction: the idempotency key, the instance (insert when Create, else an
// update guarded by ExpectVersion), new tasks, task updates (each guarded by
// its From status), timers added and cancelled, audit rows and outbox
// messages.
type Change struct {
	// IdempotencyKey, when set, is recorded with Result; a second Apply with
	// the same key writes nothing and returns a *DuplicateError.
	IdempotencyKey string
	Result         json.RawMessage

	// Instance is the instance's new state. With Create it is inserted with
	// Version 1; otherwise the stored row must have Version == ExpectVersion
	// and is overwritten with Version = ExpectVersion+1. A nil Instance
	// leaves the instance alone (a change that only touches its tasks still
	// needs the instance's version check, so the engine always sets it).
	Instance      *Instance
	Create        bool
	ExpectVersion int64

	NewTasks    []Task
	TaskUpdates []TaskUpdate
	// CancelTimers (timer ids; unknown ids are ignored) are applied before
	// NewTimers; a new timer replaces a stored one with the same id, which is
	// how a repeating reminder is rescheduled.
	CancelTimers []string
	NewTimers    []Timer
	Audit        []AuditEntry
	Outbox       []OutboxMessage
}

// Applied is what Apply reports after a commit.
type Applied struct {
	// InstanceVersion is the instance's version after the change (0 when the
	// change carried no instance).
	InstanceVersion int64
	// OutboxSeqs are the sequence numbers given to the change's outbox
	// messages, in order.
	OutboxSeqs []int64
	// AuditSeqs are the Seqs given to the change's audit entries, in order.
	AuditSeqs []int64
}

// InstanceStatus is where an instance is in its life.
type InstanceStatus string

// Instance statuses. Running is the only one that is not final.
const (
	InstanceRunning   InstanceStatus = "running"
	InstanceApproved  InstanceStatus = "approved"
	InstanceRejected  InstanceStatus = "rejected"
	InstanceCompleted InstanceStatus = "completed"
	InstanceWithdrawn InstanceStatus = "withdrawn"
	InstanceCancelled InstanceStatus = "cancelled"
)

// Instance is one run of a flow definition. It keeps the definition version
// it started with. State is the engine's own JSON (current steps, branch
// progress); the store keeps it opaque.
type Instance struct {
	ID          string
	FlowID      string
	FlowVersion int
	Status      InstanceStatus
	Applicant   string // user id
	Title       string
	Form        json.RawMessage
	State       json.RawMessage
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// InstanceFilter selects instances; zero fields do not filter.
type InstanceFilter struct {
	FlowID string
	// FlowIDs selects the instances of any of these flows (the alert
	// flows, say); with FlowID as well, an instance must match both. Nil
	// or empty does not filter, so a caller with an empty set asks nothing.
	FlowIDs   []string
	Applicant string
	Status    InstanceStatus
	// TitleContains selects the instances whose title contains this text,
	// ASCII letters in either case ("tm-1001" finds 订单履约 · TM-1001);
	// other characters match as they are. "" does not filter.
	TitleContains string
	// From and To bound CreatedAt: From <= CreatedAt < To.
	From, To time.Time
	// After goes on with a list after the row it names: only instances
	// older than it (by CreatedAt, then ID) are listed.
	After Cursor
	Limit int // 0 means 100
}

// Cursor names a row of a list by its place in the list's order,
// CreatedAt then ID, so that a list can go on after it: rows added since
// do not shift the pages still to come.
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// IsZero reports whether the cursor names no row: a list's first page.
func (c Cursor) IsZero() bool { return c.ID == "" && c.CreatedAt.IsZero() }

// Token is c as the opaque text a list's next page is asked for with (the
// API's next_cursor, the console's links): base64url of its creation time
// in Unix microseconds, the precision the stores keep, and its id. "" for
// the zero cursor.
func (c Cursor) Token() string {
	if c.IsZero() {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + ":" + c.ID))
}

// ParseCursorToken reads a Token; false when s is not one (an id that is
// not storable text included).
func ParseCursorToken(s string) (Cursor, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, false
	}
	us, id, ok := strings.Cut(string(raw), ":")
	n, err := strconv.ParseInt(us, 10, 64)
	if !ok || err != nil || id == "" || CheckText("cursor", id, 0) != nil {
		return Cursor{}, false
	}
	return Cursor{CreatedAt: time.UnixMicro(n).UTC(), ID: id}, true
}

// FoldASCII returns s with its ASCII letters in lower case and every other
// character as it is: how the stores compare a title with
// InstanceFilter.TitleContains.
func FoldASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// TaskStatus is where a task is in its life. Open is the only status in
// which a task can be acted on.
type TaskStatus string

// Task statuses.
const (
	TaskOpen      TaskStatus = "open"
	TaskApproved  TaskStatus = "approved"
	TaskRejected  TaskStatus = "rejected"
	TaskReturned  TaskStatus = "returned"
	TaskDone      TaskStatus = "done"
	TaskCancelled TaskStatus = "cancelled"
	TaskWaiting   TaskStatus = "waiting" // owner of a delegated task, or a later signer in sequence
)

// Task is a piece of work assigned to one user at one step of an instance.
type Task struct {
	ID         string
	InstanceID string
	StepID     string
	Kind       string // approval, task, notify, alert
	Assignee   string // user id
	// OwnerID is who the task belongs to when it was delegated (委派): the
	// task returns to the owner after the assignee acts.
	OwnerID   string
	Status    TaskStatus
	Outcome   string // the decision or result, e.g. "approve"
	Comment   string
	Result    json.RawMessage // completion form, if any
	DecidedBy string          // user id of who acted (may differ when acting for someone)
	Seq       int             // order among sequential signers of one step
	DueAt     time.Time       // zero when the step has no SLA
	CreatedAt time.Time
	DecidedAt time.Time // zero while undecided
}

// TaskUpdate sets a task's new status and decision fields. It applies only
// if the stored task is in From; otherwise Apply fails with ErrTaskConflict.
type TaskUpdate struct {
	ID        string
	From      TaskStatus
	Status    TaskStatus
	Assignee  string // new assignee; "" keeps the current one
	Outcome   string
	Comment   string
	Result    json.RawMessage
	DecidedBy string
	DecidedAt time.Time
}

// TaskFilter selects tasks; zero fields do not filter.
type TaskFilter struct {
	Assignee   string
	InstanceID string
	Status     TaskStatus
	// FlowID selects the tasks of the instances of one flow.
	FlowID string
	// Kind selects the tasks of one kind of step (StepAlert, say).
	Kind string
	// Delegated selects only the tasks held for their owner (委派: OwnerID
	// set).
	Delegated bool
	// From and To bound CreatedAt: From <= CreatedAt < To.
	From, To time.Time
	// After goes on with a list after the row it names: only tasks newer
	// than it (by CreatedAt, then ID) are listed.
	After Cursor
	Limit int // 0 means 100
}

// AuditEntry is one line of an instance's audit trail. Seq is given by the
// store and grows in commit order within an instance.
type AuditEntry struct {
	Seq        int64
	InstanceID string
	TaskID     string
	Actor      string // user id, or "system"
	OnBehalfOf string // set when a proxy (代理) acted for someone
	Action     string // start, approve, reject, return, transfer, ...
	Detail     json.RawMessage
	At         time.Time
}

// OutboxMessage is a platform-neutral notification intent committed with
// the change that caused it. The relay moves it to the queue; Key is its
// stable idempotency key, so a copy published twice is dropped by the
// consumer.
type OutboxMessage struct {
	Seq        int64 // given by the store, ascending in commit order per instance
	Key        string
	InstanceID string
	Topic      string // queue topic, e.g. "notify"
	Payload    json.RawMessage
	CreatedAt  time.Time
}

// Timer is a stored, claimable deadline (SLA reminder, escalation,
// auto-action). It survives restarts and fires once across instances.
type Timer struct {
	ID         string
	InstanceID string
	TaskID     string
	Kind       string // remind, escalate, auto_action, alert_group, ...
	DueAt      time.Time
	Payload    json.RawMessage
}

// Org is the whole org directory. Proxies are the org file's leave proxy
// rules; Store.ReplaceOrg does not store them (Store.ReplaceProxies does).
type Org struct {
	Users       []User
	Departments []Department
	Proxies     []Proxy
}

// User is a member of the org directory.
type User struct {
	ID         string
	Name       string
	Department string // department id
	Manager    string // user id of the direct manager
	Roles      []string
	// PlatformIDs maps a platform name (feishu, wecom, dingtalk, sim) to the
	// user's id there.
	PlatformIDs map[string]string
	// Locale is the language the user reads cards in, one of Locales;
	// ParseOrg sets DefaultLocale when the org file names none.
	Locale string
	// TimeZone is the IANA name of the zone the user reads times in;
	// ParseOrg sets DefaultTimeZone when the org file names none.
	TimeZone string
}

// Department is a node of the org tree.
type Department struct {
	ID     string
	Name   string
	Parent string // department id; "" at the root
	Head   string // user id
}

// Definition is one stored version of a flow definition. Source is the YAML
// it was parsed from; Hash identifies the source, so loading an unchanged
// file does not create a version.
type Definition struct {
	FlowID    string
	Version   int
	Name      string
	Hash      string
	Source    []byte
	CreatedAt time.Time
}
