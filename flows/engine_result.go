package flows

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Errors the engine's operations return; callers test them with errors.Is.
// ErrStaleVersion (store.go) is returned when an operation kept losing races
// after its retries; a *FormError (ErrInvalidForm) for a bad form.
var (
	ErrNotAssignee      = errors.New("not an assignee of this task")
	ErrNotApplicant     = errors.New("only the applicant may do this")
	ErrNotAdmin         = errors.New("only an administrator may do this")
	ErrNotParticipant   = errors.New("not a participant of this instance")
	ErrAlreadyDecided   = errors.New("the task was already decided")
	ErrTaskNotOpen      = errors.New("the task is waiting: it cannot be acted on yet")
	ErrInstanceFinished = errors.New("the instance is finished")
	ErrInvalidTarget    = errors.New("invalid target")
	ErrNotApplicable    = errors.New("the operation does not apply here")
	ErrCommentRequired  = errors.New("a comment is required")
	ErrRateLimited      = errors.New("rate limited")
	ErrKeyReused        = errors.New("idempotency key already used for another operation")
	ErrNoAssignee       = errors.New("nobody to assign: the assignee rules and the fallback resolve to no user")
	ErrUnknownUser      = errors.New("unknown user")
	ErrNotSupported     = errors.New("not supported by the engine yet")
	ErrUnknownAction    = errors.New("unknown action")
	// ErrOutdated refuses an action taken from a card that showed an older
	// version of the instance than it has now (Action.Seen): the person
	// decided on what they saw, and it has changed since.
	ErrOutdated = errors.New("the card is out of date: the request changed since it was shown")
)

// OpError is an operation's error: which operation on what, and why. The
// why is the engine's own error chain, which may end in the store's.
type OpError struct {
	Op     string
	Target string
	Err    error
}

func (e *OpError) Error() string { return "flows: " + e.Op + " " + e.Target + ": " + e.Err.Error() }

// Unwrap gives errors.Is and errors.As the cause.
func (e *OpError) Unwrap() error { return e.Err }

// RateLimitError is returned by Urge when every task it would remind was
// reminded less than the flow's urge interval ago; errors.Is(err,
// ErrRateLimited) is true.
type RateLimitError struct {
	RetryAfter time.Duration
}

// Error says how long to wait.
func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%s: retry after %s", ErrRateLimited, FormatDuration(e.RetryAfter.Round(time.Second)))
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Result is the answer of an operation. It is also what an idempotency key
// stores: a replayed key returns the first Result again with Replayed set.
type Result struct {
	// Op is the operation ("approve", "start", ...) and Target the
	// instance or task it was applied to.
	Op     string `json:"op"`
	Target string `json:"target"`

	InstanceID string         `json:"instance_id"`
	Status     InstanceStatus `json:"status"`
	// Version is the instance's version after the operation.
	Version int64  `json:"version"`
	TaskID  string `json:"task_id,omitempty"`
	// Opened are the tasks the operation opened (the first step's, the
	// transferee's, the added signers'), in creation order.
	Opened []string `json:"opened,omitempty"`

	// Outcome is the decision recorded ("approve", "reject", "done",
	// "return", ...), By who took it, OnBehalfOf whom a proxy acted for,
	// At when.
	Outcome    string    `json:"outcome,omitempty"`
	By         string    `json:"by,omitempty"`
	OnBehalfOf string    `json:"on_behalf_of,omitempty"`
	At         time.Time `json:"at"`

	// AlreadyDecided is set, with Outcome, By and At of the earlier
	// decision, when the task had been decided before this request (a
	// double click, a card clicked after another approver won a 或签):
	// nothing was changed, and the clicker is told "already approved by
	// X at T" rather than shown an error.
	AlreadyDecided bool `json:"already_decided,omitempty"`
	// Replayed is set when the answer came from an earlier request with
	// the same idempotency key.
	Replayed bool `json:"-"`
	// Fingerprint identifies the request an idempotency key was first
	// used with; it is stored with the answer and never returned.
	Fingerprint string `json:"fingerprint,omitempty"`
}

// fingerprint hashes what makes two requests the same request: the
// operation, its target and every field of req but the key (the request
// structs tag Key with json:"-"). Maps encode with sorted keys, so the
// same body always gives the same fingerprint. A nil req (the engine's own
// timers and alert events, whose keys it derives itself) has none.
func fingerprint(op, target string, req any) string {
	if req == nil {
		return ""
	}
	body, err := json.Marshal(req)
	if err != nil {
		// Requests hold strings, numbers, maps and times: they encode. If
		// one ever does not, binding the key to op and target alone is
		// still safe, only less strict.
		body = []byte(err.Error())
	}
	h := sha256.New()
	for _, part := range [][]byte{[]byte(op), []byte(target), body} {
		h.Write(part)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// replayed decodes the answer stored under an idempotency key. A key used
// for another operation, target or request (fp) is refused: answering it
// with the first request's result would tell the caller something false,
// and would skip the checks the new request needs (another actor).
func replayed(op, key, target, fp string, raw json.RawMessage) (Result, error) {
	var r Result
	if err := json.Unmarshal(raw, &r); err != nil {
		return Result{}, fmt.Errorf("flows: %s: decode answer of key %s: %w", op, key, err)
	}
	if r.Op != op || r.Target != target {
		return Result{}, fmt.Errorf("flows: %s %s: key %s was used for %s %s: %w", op, target, key, r.Op, r.Target, ErrKeyReused)
	}
	if r.Fingerprint != fp {
		return Result{}, fmt.Errorf("flows: %s %s: key %s was used with another request: %w", op, target, key, ErrKeyReused)
	}
	r.Replayed, r.Fingerprint = true, ""
	return r, nil
}

func marshal(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return b, nil
}
