package orders

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"cardflow/flows"
)

// Money is an amount in fen (分), the unit every shop platform settles in:
// exact, and never a float.
type Money int64

// maxFen bounds an amount: a trillion yuan is no order.
const maxFen = 100_000_000_000_000

// String writes the amount as people read it: ¥6,800.00.
func (m Money) String() string { return flows.FormatMoney(m.Decimal()) }

// Decimal is the amount in yuan.
func (m Money) Decimal() decimal.Decimal { return decimal.New(int64(m), -2) }

// ParseYuan reads an amount in yuan written as a decimal ("188.00", "45.8",
// "0"), as Taobao and JD write them and PDD sends them as JSON numbers. More
// than two decimals that are not zero, a sign, an exponent or an amount
// beyond a trillion yuan are refused: an order total is never any of those.
func ParseYuan(s string) (Money, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 24 || strings.ContainsAny(s, "eE+-") {
		return 0, fmt.Errorf("amount %q: not an amount in yuan such as 188.00", clip(s))
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return 0, fmt.Errorf("amount %q: not an amount in yuan such as 188.00", clip(s))
	}
	fen := d.Shift(2)
	if !fen.Equal(fen.Truncate(0)) {
		return 0, fmt.Errorf("amount %q: more than two decimals", clip(s))
	}
	if fen.GreaterThan(decimal.NewFromInt(maxFen)) {
		return 0, fmt.Errorf("amount %q: too large", clip(s))
	}
	return Money(fen.IntPart()), nil
}

// parseFen reads an amount already in fen (Douyin's), as a JSON integer or
// a string holding one.
func parseFen(n json.Number) (Money, error) {
	v, err := strconv.ParseInt(strings.Trim(string(n), `"`), 10, 64)
	if err != nil || v < 0 || v > maxFen {
		return 0, fmt.Errorf("amount %q: not a whole number of fen", clip(string(n)))
	}
	return Money(v), nil
}

// clip shortens what an error quotes of a payload.
func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	return s[:40] + "…"
}
