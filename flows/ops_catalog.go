package flows

import (
	"context"
	"errors"
	"fmt"
)

// maxVersions bounds how many versions of one flow Versions reads.
const maxVersions = 1000

// Versions returns every stored version of a flow, newest first;
// ErrNotFound (wrapped) when the flow has none.
func (e *Engine) Versions(ctx context.Context, flowID string) ([]Definition, error) {
	latest, err := e.store.LatestDefinition(ctx, flowID)
	if err != nil {
		return nil, fmt.Errorf("flows: versions of %s: %w", flowID, err)
	}
	out := []Definition{latest}
	// Versions are stored one after another from 1 (see Store.PutDefinition).
	for v := latest.Version - 1; v >= 1 && len(out) < maxVersions; v-- {
		d, err := e.store.Definition(ctx, flowID, v)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("flows: versions of %s: %w", flowID, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// Definition returns one version of a flow (0: the latest) as stored and
// as parsed; ErrNotFound (wrapped) when there is no such version.
func (e *Engine) Definition(ctx context.Context, flowID string, version int) (Definition, *Flow, error) {
	d, err := e.definition(ctx, flowID, version)
	if err != nil {
		return Definition{}, nil, fmt.Errorf("flows: definition %s@%d: %w", flowID, version, err)
	}
	f, err := e.flow(ctx, flowID, d.Version)
	if err != nil {
		return Definition{}, nil, fmt.Errorf("flows: definition %s@%d: %w", flowID, d.Version, err)
	}
	return d, f, nil
}

// Users returns every user of the org directory, ordered by id.
func (e *Engine) Users(ctx context.Context) ([]User, error) {
	users, err := e.store.Users(ctx)
	if err != nil {
		return nil, fmt.Errorf("flows: users: %w", err)
	}
	return users, nil
}

// Department returns a department of the org directory through the
// engine's directory cache; ErrNotFound (wrapped) when there is none.
func (e *Engine) Department(ctx context.Context, id string) (Department, error) {
	d, err := e.orgDepartment(ctx, id)
	if err != nil {
		return Department{}, fmt.Errorf("flows: department %s: %w", id, err)
	}
	return d, nil
}
