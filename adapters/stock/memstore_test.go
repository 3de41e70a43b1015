package stock_test

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"cardflow/adapters/stock"
)

// memStore is stock.Store in memory, for the ledger's, webhook's and
// command's tests; the stores' own conformance suite is in
// storage/storetest.
type memStore struct {
	mu      sync.Mutex
	levels  map[[2]string]stock.Level
	records map[[2]string]stock.Record
	order   []stock.Record
	fail    error
}

func newMemStore() *memStore {
	return &memStore{levels: map[[2]string]stock.Level{}, records: map[[2]string]stock.Record{}}
}

func (s *memStore) ApplyMovement(_ context.Context, m stock.Movement) (stock.Record, stock.Level, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return stock.Record{}, stock.Level{}, false, s.fail
	}
	m, err := stock.Prepare(m)
	if err != nil {
		return stock.Record{}, stock.Level{}, false, err
	}
	key := [2]string{m.Source, m.EventID}
	if rec, ok := s.records[key]; ok {
		return rec, s.levels[[2]string{rec.SKU, rec.Warehouse}], false, nil
	}
	row := [2]string{m.SKU, m.Warehouse}
	rec, err := stock.Apply(s.levels[row], m)
	if err != nil {
		return stock.Record{}, stock.Level{}, false, err
	}
	rec.RecordedAt = time.Now().UTC()
	s.levels[row] = rec.After
	s.records[key] = rec
	s.order = append(s.order, rec)
	return rec, rec.After, true, nil
}

func (s *memStore) StockOf(_ context.Context, sku string) ([]stock.Level, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	var out []stock.Level
	for k, l := range s.levels {
		if k[0] == sku {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b stock.Level) int { return cmp.Compare(a.Warehouse, b.Warehouse) })
	return out, nil
}

func (s *memStore) level(sku, warehouse string) stock.Level {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.levels[[2]string{sku, warehouse}]
}

func (s *memStore) recorded() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.order)
}
