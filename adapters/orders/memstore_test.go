package orders_test

import (
	"context"
	"slices"
	"sync"
	"time"

	"cardflow/adapters/orders"
)

// memStore is orders.Store in memory, for the handler's and router's tests;
// the stores' own conformance suite is in storage/storetest.
type memStore struct {
	mu     sync.Mutex
	orders map[string]orders.Order
	events []orders.StoredEvent
	seen   map[string]bool
	routed map[string]bool
	cursor map[string]string
	links  []orders.InstanceLink
	fail   error
	// linkFail, when set, fails LinkOrderInstance alone.
	linkFail error
}

func newMemStore() *memStore {
	return &memStore{orders: map[string]orders.Order{}, seen: map[string]bool{}, routed: map[string]bool{},
		cursor: map[string]string{}}
}

func (s *memStore) IngestOrderEvent(_ context.Context, source string, e orders.Event) (bool, orders.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return false, orders.Order{}, s.fail
	}
	if err := e.Validate(); err != nil {
		return false, orders.Order{}, orders.ErrInvalid
	}
	key := e.Order.Platform + "/" + e.Order.Shop + "/" + e.Order.No
	if s.seen[source+"/"+e.ID] {
		return false, s.orders[key], nil
	}
	s.seen[source+"/"+e.ID] = true
	var stored *orders.Order
	if o, ok := s.orders[key]; ok {
		stored = &o
	}
	o := orders.Merge(stored, e)
	s.orders[key] = o
	s.events = append(s.events, orders.StoredEvent{Source: source, Event: e, Order: o, RecordedAt: time.Now()})
	return true, o, nil
}

func (s *memStore) OrdersByNo(_ context.Context, no string) ([]orders.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []orders.Order
	for _, o := range s.orders {
		if o.No == no {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b orders.Order) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
	return out, nil
}

func (s *memStore) UnroutedOrderEvents(_ context.Context, limit int) ([]orders.StoredEvent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	var out []orders.StoredEvent
	for _, e := range s.events {
		if !s.routed[e.Source+"/"+e.Event.ID] && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *memStore) MarkOrderEventRouted(_ context.Context, source, id string, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routed[source+"/"+id] = true
	return nil
}

func (s *memStore) OrderCursor(_ context.Context, source, shop string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursor[source+"/"+shop], s.fail
}

func (s *memStore) SetOrderCursor(_ context.Context, source, shop, cursor string, _ time.Time) error {
	if err := orders.CheckCursor(source, shop, cursor); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.cursor[source+"/"+shop] = cursor
	return nil
}

func (s *memStore) LinkOrderInstance(_ context.Context, l orders.InstanceLink) error {
	if err := orders.CheckLink(l); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	if s.linkFail != nil {
		return s.linkFail
	}
	for _, x := range s.links {
		if x.Platform == l.Platform && x.Shop == l.Shop && x.No == l.No && x.InstanceID == l.InstanceID {
			return nil
		}
	}
	s.links = append(s.links, l)
	return nil
}

func (s *memStore) OrderInstances(_ context.Context, platform, shop, no string, limit int) ([]orders.InstanceLink, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []orders.InstanceLink
	for _, x := range s.links {
		if x.Platform == platform && x.Shop == shop && x.No == no {
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(a, b orders.InstanceLink) int { return b.StartedAt.Compare(a.StartedAt) })
	return out[:min(len(out), max(limit, 0))], s.fail
}
