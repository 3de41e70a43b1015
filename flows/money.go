package flows

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/shopspring/decimal"
)

// Money reaches conditions as a decimal.Decimal, and the comparison and
// arithmetic operators are overloaded for it, so `form.amount > 5000`
// compares exactly: 5000.00 is not above 5000 and 5000.01 is. The other
// side may be an integer, a number literal (taken at its shortest decimal
// form, so 5000.01 means exactly 5000.01), another amount, or a context
// value holding a number or numeric text. Comparing money with anything else
// fails at compile time, or for untyped context values when evaluated.
// Integer-kinded context values other than int and int64 are not expected:
// context comes from JSON, where numbers are float64 or json.Number.
// expr's own numeric builtins (abs, max, sum) do not accept money.

// dec shortens the overload signatures below.
type dec = decimal.Decimal

// compareOps map each comparison operator to its decimal result test.
var compareOps = map[string]func(c int) bool{
	"==": func(c int) bool { return c == 0 },
	"!=": func(c int) bool { return c != 0 },
	"<":  func(c int) bool { return c < 0 },
	"<=": func(c int) bool { return c <= 0 },
	">":  func(c int) bool { return c > 0 },
	">=": func(c int) bool { return c >= 0 },
}

// arithOps map each arithmetic operator to its decimal operation.
var arithOps = map[string]func(a, b dec) (dec, error){
	"+": func(a, b dec) (dec, error) { return a.Add(b), nil },
	"-": func(a, b dec) (dec, error) { return a.Sub(b), nil },
	"*": func(a, b dec) (dec, error) { return a.Mul(b), nil },
	"/": func(a, b dec) (dec, error) {
		if b.IsZero() {
			return dec{}, errors.New("division by zero")
		}
		return a.Div(b), nil
	},
}

// opNames are the function names the overloads are registered under.
var opNames = map[string]string{
	"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge",
	"+": "add", "-": "sub", "*": "mul", "/": "div",
}

// moneyOptions registers the money operators with a condition's compiler.
func moneyOptions() []expr.Option {
	opts := []expr.Option{expr.Patch(moneyPatcher{})}
	for op, test := range compareOps {
		fn := func(p ...any) (any, error) {
			a, b, err := decimals(op, p)
			if err != nil {
				return nil, err
			}
			return test(a.Cmp(b)), nil
		}
		opts = append(opts, expr.Function(moneyFunc(op), fn,
			new(func(dec, dec) bool), new(func(dec, int) bool), new(func(int, dec) bool),
			new(func(dec, float64) bool), new(func(float64, dec) bool),
			new(func(dec, any) bool), new(func(any, dec) bool)))
	}
	for op, do := range arithOps {
		fn := func(p ...any) (any, error) {
			a, b, err := decimals(op, p)
			if err != nil {
				return nil, err
			}
			out, err := do(a, b)
			if err != nil {
				return nil, fmt.Errorf("money %s: %w", op, err)
			}
			return out, nil
		}
		opts = append(opts, expr.Function(moneyFunc(op), fn,
			new(func(dec, dec) dec), new(func(dec, int) dec), new(func(int, dec) dec),
			new(func(dec, float64) dec), new(func(float64, dec) dec),
			new(func(dec, any) dec), new(func(any, dec) dec)))
	}
	return opts
}

func moneyFunc(op string) string { return "money_" + opNames[op] }

// moneyPatcher rewrites an operator with money on one side into a call of
// its money function, when the other side is money, a number or untyped
// (a context value). expr.Operator would also take text for "any", so
// `form.amount > "big"` would compile; left alone, the checker rejects it.
type moneyPatcher struct{}

// Visit is called bottom-up, so `form.amount + 1 > 2` patches the sum to a
// money-typed call before the comparison is visited.
func (moneyPatcher) Visit(node *ast.Node) {
	b, ok := (*node).(*ast.BinaryNode)
	if !ok || opNames[b.Operator] == "" {
		return
	}
	l, r := b.Left.Type(), b.Right.Type()
	if (l != moneyType && r != moneyType) || !moneyOperand(l) || !moneyOperand(r) {
		return
	}
	call := &ast.CallNode{
		Callee:    &ast.IdentifierNode{Value: moneyFunc(b.Operator)},
		Arguments: []ast.Node{b.Left, b.Right},
	}
	if _, cmp := compareOps[b.Operator]; cmp {
		call.SetType(boolType)
	} else {
		call.SetType(moneyType)
	}
	ast.Patch(node, call)
}

func moneyOperand(t reflect.Type) bool {
	switch {
	case t == nil, t == moneyType:
		return true
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Float64, reflect.Interface:
		return true
	}
	return false
}

func decimals(op string, p []any) (a, b dec, err error) {
	if len(p) != 2 {
		return a, b, fmt.Errorf("money %s: want 2 operands, got %d", op, len(p))
	}
	if a, err = toDecimal(p[0]); err == nil {
		b, err = toDecimal(p[1])
	}
	if err != nil {
		return a, b, fmt.Errorf("money %s: %w", op, err)
	}
	return a, b, nil
}

// toDecimal converts the other side of a money operator exactly.
func toDecimal(v any) (dec, error) {
	switch x := v.(type) {
	case dec:
		return x, nil
	case int:
		return decimal.NewFromInt(int64(x)), nil
	case int64:
		return decimal.NewFromInt(x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return dec{}, fmt.Errorf("cannot compare money with %v", x)
		}
		return decimal.NewFromFloat(x), nil
	case json.Number:
		return toDecimal(string(x))
	case string:
		s := strings.TrimSpace(x)
		if plainNumber.MatchString(s) {
			return decimal.NewFromString(s)
		}
		return dec{}, fmt.Errorf("cannot compare money with text %q", x)
	}
	return dec{}, fmt.Errorf("cannot compare money with %s", describe(v))
}
