package kpi_test

import (
	"context"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"cardflow/adapters/kpi"
	"cardflow/adapters/orders"
)

// memStore is a kpi.Store over orders, metrics and an on-hand function
// held in memory, counting its totals reads.
type memStore struct {
	mu      sync.Mutex
	orders  []orders.Order
	metrics []kpi.Metric
	onHand  func(t time.Time) int64
	reads   int
}

func (m *memStore) OrderTotals(_ context.Context, from, to time.Time, f kpi.Filter) (kpi.Totals, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	in := func(t time.Time) bool { return !t.IsZero() && !t.Before(from) && t.Before(to) }
	var t kpi.Totals
	for _, o := range m.orders {
		if (f.Platform != "" && o.Platform != f.Platform) || (f.Shop != "" && o.Shop != f.Shop) {
			continue
		}
		if in(o.PaidAt) {
			t.Paid++
			t.PaidFen += int64(o.Paid)
			for _, l := range o.Lines {
				t.Units += l.Qty
			}
			if o.Refund == orders.RefundDone || o.Status == orders.StatusClosed {
				t.Refunded++
				t.RefundedFen += int64(o.Paid)
			}
		}
		if in(o.CreatedAt) {
			t.Placed++
			t.GMVFen += int64(o.Total)
		}
	}
	return t, nil
}

func (m *memStore) StockOnHand(_ context.Context, at []time.Time) ([]int64, error) {
	out := make([]int64, len(at))
	for i, t := range at {
		if m.onHand != nil {
			out[i] = m.onHand(t)
		}
	}
	return out, nil
}

func (m *memStore) PutMetrics(_ context.Context, ms []kpi.Metric) error {
	for _, x := range ms {
		if err := x.Validate(); err != nil {
			return err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
next:
	for _, x := range ms {
		for i, old := range m.metrics {
			if old.Source == x.Source && old.Name == x.Name && old.Platform == x.Platform && old.Shop == x.Shop &&
				old.DayKey() == x.DayKey() {
				m.metrics[i] = x
				continue next
			}
		}
		m.metrics = append(m.metrics, x)
	}
	return nil
}

func (m *memStore) SumMetric(_ context.Context, name string, from, to time.Time, f kpi.Filter) (decimal.Decimal, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	sum, found := decimal.Zero, false
	for _, x := range m.metrics {
		if x.Name != name || x.Day.Before(from) || !x.Day.Before(to) ||
			(f.Platform != "" && x.Platform != f.Platform) || (f.Shop != "" && x.Shop != f.Shop) {
			continue
		}
		sum, found = sum.Add(x.Value), true
	}
	return sum, found, nil
}

func (m *memStore) totalsReads() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reads
}

func (m *memStore) add(o orders.Order) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.orders = append(m.orders, o)
}
