package stock

import (
	"context"
	"fmt"
	"time"

	"cardflow/config"
)

// Push is one pending push of the outbox: the latest sellable quantity of a
// SKU, summed over every warehouse, to tell one target. Shops sell a SKU
// from whatever warehouse serves the order, so they take one figure per
// SKU; a receiver that wants a warehouse's figure asks /stock or the WMS.
//
// A store keeps one row per target and SKU: every committed movement of the
// SKU raises the row's Version and rewrites its Sellable, so many changes
// before a push collapse into one. A row is pending while its Version is
// above the version last delivered.
type Push struct {
	Target   string
	SKU      string
	Sellable int64
	// Version counts the SKU's changes for the target, from 1; a receiver
	// keeps the highest it has seen and ignores lower ones.
	Version int64
	// ChangedAt is when the latest change was recorded (the store's clock).
	ChangedAt time.Time
	// Attempts counts the failed deliveries since the last success.
	Attempts int
}

// ClaimPushParams asks for up to Limit due pushes of Target: pending, due
// (next_at ≤ Now) and not leased by another claim. The rows claimed are
// leased to Token until Now + Lease.
type ClaimPushParams struct {
	Target string
	Token  string
	Now    time.Time
	Lease  time.Duration
	Limit  int
}

// CompletePushParams records that Version of a row was delivered under the
// claim Token.
type CompletePushParams struct {
	Target  string
	SKU     string
	Version int64
	Token   string
	Now     time.Time
}

// RetryPushParams puts a claimed row back after a failed (or skipped)
// delivery: its attempts become Attempts and it is due again at NextAt.
type RetryPushParams struct {
	Target   string
	SKU      string
	Token    string
	Attempts int
	NextAt   time.Time
}

// PushOutage is a target's run of consecutive failed deliveries: how many,
// and when the first of them failed (zero when there is none).
type PushOutage struct {
	Failures int
	Since    time.Time
}

// PushStore is the durable outbox of stock pushes. storage/postgres and
// storage/sqlite implement it together with Store: their ApplyMovement
// upserts the pending row of every registered target in the movement's own
// transaction, so no committed change can miss its push.
type PushStore interface {
	// RegisterPushTargets records targets (idempotent). A target new to the
	// store gets a pending row for every SKU the ledger holds, so it starts
	// from a full picture; every movement after the call reaches it.
	RegisterPushTargets(ctx context.Context, targets []string) error
	// ClaimPushes leases due pushes (see ClaimPushParams), the longest
	// due first. A row leased by another claim is never returned until its
	// lease ends, whichever instance asks.
	ClaimPushes(ctx context.Context, p ClaimPushParams) ([]Push, error)
	// CompletePush records the delivery of p.Version and releases the
	// claim. The row is done only if no change arrived since the claim:
	// pending reports that a newer version is still to push (and due now).
	CompletePush(ctx context.Context, p CompletePushParams) (pending bool, err error)
	// RetryPush puts a row back with its attempts and next time, if it is
	// still leased to p.Token (a claim that outlived its lease changes
	// nothing: another may hold the row now).
	RetryPush(ctx context.Context, p RetryPushParams) error
	// PushTargetFailed counts a failed delivery to target and returns its
	// outage, starting one at now if none was running.
	PushTargetFailed(ctx context.Context, target string, now time.Time) (PushOutage, error)
	// PushTargetRecovered ends the target's outage and returns it as it
	// was (zero Failures if there was none).
	PushTargetRecovered(ctx context.Context, target string) (PushOutage, error)
}

// PushTarget is one receiver of stock pushes: a shop platform's bridge, a
// WMS. Its URL and secret are secrets: neither is ever logged.
type PushTarget struct {
	Name string
	URL  config.Secret
	// Secret signs each push as cardflow's inbound webhooks are signed
	// (orders.Sign), so a receiver can verify with orders.Verify.
	Secret config.Secret
}

// ParsePushTargets reads stock.push_targets entries, "name=URL#secret"
// (config.ParsePushTargets: a secret of at least 16 bytes each). Errors
// never quote an entry: each holds a secret.
func ParsePushTargets(entries []config.Secret) ([]PushTarget, error) {
	list, err := config.ParsePushTargets(entries)
	if err != nil {
		return nil, fmt.Errorf("stock push targets: %w", err)
	}
	out := make([]PushTarget, len(list))
	for i, t := range list {
		out[i] = PushTarget{Name: t.Name, URL: t.URL, Secret: t.SignSecret}
	}
	return out, nil
}
