package postgres

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"cardflow/flows"
)

// sqlClaimTimers leases due timers that are free or whose lease expired.
// SKIP LOCKED lets several servers claim at once without queueing behind
// each other's row locks, each taking a disjoint batch. The claimed rows
// are updated by their ids (= ANY, an index scan), not by a join with the
// CTE: PostgreSQL may plan that join as a hash join over a sequential scan
// of the table and keep the plan (see the package comment); measured
// under cardflow bench, 3,079 claims read 9 million timer rows in 15 s.
const sqlClaimTimers = `
WITH due AS (
	SELECT id FROM timers
	WHERE due_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
	ORDER BY due_at, id
	LIMIT $4
	FOR UPDATE SKIP LOCKED
)
UPDATE timers t SET lease_holder = $2, lease_until = $3
WHERE t.id = ANY(ARRAY(SELECT id FROM due))
RETURNING t.id, t.instance_id, t.task_id, t.kind, t.due_at, t.payload`

// ClaimTimers leases up to limit timers due at or before now to holder until
// now+lease, earliest due first. A leased timer is skipped until its lease
// expires, whoever holds it: a holder polling again while it still works on
// a timer must not be handed that timer a second time.
func (s *Store) ClaimTimers(ctx context.Context, now time.Time, holder string, lease time.Duration, limit int) ([]flows.Timer, error) {
	rows, _ := s.pool.Query(ctx, sqlClaimTimers, now, holder, now.Add(lease), limit)
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (flows.Timer, error) {
		var t flows.Timer
		err := row.Scan(&t.ID, &t.InstanceID, &t.TaskID, &t.Kind, &t.DueAt, &t.Payload)
		return t, err
	})
	if err != nil {
		return nil, fail(err, "claim timers for %s", holder)
	}
	// UPDATE ... RETURNING does not keep the CTE's order.
	slices.SortFunc(list, func(a, b flows.Timer) int {
		if c := a.DueAt.Compare(b.DueAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return list, nil
}

// AcquireLease takes the named lease for holder until now+ttl, or renews it
// if holder has it; it reports false while another holder's lease lasts.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $4)
		ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
		WHERE leases.holder = EXCLUDED.holder OR leases.expires_at <= $3`,
		name, holder, now, now.Add(ttl))
	if err != nil {
		return false, fail(err, "acquire lease %s", name)
	}
	return tag.RowsAffected() == 1, nil
}

// ReleaseLease gives the lease up if holder holds it.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM leases WHERE name = $1 AND holder = $2`, name, holder); err != nil {
		return fail(err, "release lease %s", name)
	}
	return nil
}
