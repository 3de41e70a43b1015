// Package kpi answers how the shop is doing: KPI definitions read from
// YAML (built-in measures over the stored orders and stock, metrics other
// systems push, and expressions over both), their figures for a day, week
// or month with the change against the period before and the same day a
// week earlier, the /kpi chat command, the webhook metrics are pushed to,
// and threshold rules that raise alert flows.
//
// The 口径 (how each figure is counted) is fixed here, for every store:
//   - GMV is the goods value (Order.Total) of the orders placed in the
//     period, whatever became of them, cancelled ones included (拍下金额,
//     orders.md K6).
//   - 销售额 (sales) is what buyers paid (Order.Paid, postage included) for
//     the orders paid in the period; refunds are not deducted.
//   - 订单数 counts the orders paid in the period; 件数 (units) sums their
//     lines' quantities.
//   - Refunds go by payment day: 退款订单 are the orders paid in the period
//     whose refund is done (or that were closed after payment), 退款率 is
//     their number over 订单数, so a day's rate still rises while its
//     refunds come in.
//   - 毛利率 is (sales − refunded − cost) ÷ (sales − refunded), where cost
//     is the pushed metric "cost" summed over the period; unknown without
//     one.
//   - 库存周转天数 is by pieces: the average on hand over the 30 days
//     ending at the period's end (or now, if sooner), read at each day's
//     end, divided by the pieces sold per day over those 30 days.
//   - 审批时效 (approval_hours) is the median hours from a task's creation
//     to its decision, over the tasks decided in the period; 审批超时率
//     (approval_overdue_rate) is the share of the tasks with an SLA that
//     were decided in the period after it or are open now past it. Both
//     are flows.Engine.Analytics' figures (see flows.Analytics), of every
//     flow or of the KPI's flow.
//   - Buyers are not counted: they are kept masked (李*), and masked names
//     collide, so a count of distinct buyers would be wrong.
package kpi

import (
	"context"
	"errors"
	"time"

	"github.com/shopspring/decimal"
)

// Store is what the figures are computed from. storage/postgres and
// storage/sqlite implement it over the orders and stock tables they keep
// for the orders and stock adapters; one conformance suite
// (storage/storetest) runs on both.
type Store interface {
	// OrderTotals sums the orders of the filter over [from, to): those
	// paid in it (by Order.PaidAt) and those placed in it (by
	// Order.CreatedAt), as Totals says.
	OrderTotals(ctx context.Context, from, to time.Time, f Filter) (Totals, error)

	// StockOnHand returns, for each instant of at, the pieces on hand over
	// every SKU and warehouse as the ledger stood then: for each row, the
	// on-hand after the latest movement (in recording order) whose time is
	// at or before the instant; rows with no such movement count 0.
	StockOnHand(ctx context.Context, at []time.Time) ([]int64, error)

	// PutMetrics stores pushed metrics, all or none: a metric whose key
	// (source, name, platform, shop, day) was stored before replaces its
	// value, so a resent push changes nothing. A metric failing
	// Metric.Validate is refused with ErrInvalid and nothing is written.
	PutMetrics(ctx context.Context, ms []Metric) error

	// SumMetric sums the named metric over the days whose start is in
	// [from, to), of the filter's platform and shop ("" is any); found
	// reports whether any day had a value.
	SumMetric(ctx context.Context, name string, from, to time.Time, f Filter) (sum decimal.Decimal, found bool, err error)
}

// Filter narrows figures to a platform and a shop; "" is every one.
type Filter struct {
	Platform string
	Shop     string
}

// Totals are the order sums of a time range.
type Totals struct {
	// Paid counts the orders paid in the range; PaidFen is what they
	// paid; Units sums their lines' quantities.
	Paid    int64
	PaidFen int64
	Units   int64
	// Refunded counts the orders paid in the range whose refund is done
	// (Order.Refund refunded, or the order closed after payment);
	// RefundedFen is what they had paid.
	Refunded    int64
	RefundedFen int64
	// Placed counts the orders placed (created) in the range; GMVFen sums
	// their goods value (Order.Total), whatever their status.
	Placed int64
	GMVFen int64
}

// ErrInvalid is returned by a Store for a metric it cannot keep.
var ErrInvalid = errors.New("invalid metric")

// Metric is one value pushed for one day.
type Metric struct {
	// Source is the webhook source that pushed it.
	Source string
	// Name is what it measures (ad_spend, visitors, cost): [a-z0-9_],
	// at most 64 bytes.
	Name string
	// Platform and Shop say whose it is; "" when it is the whole
	// business's.
	Platform string
	Shop     string
	// Day is the start of the day it is for, in the zone it was pushed
	// in; the store keeps the date and the instant.
	Day   time.Time
	Value decimal.Decimal
}
