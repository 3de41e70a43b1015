package orders_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/orders"
)

func TestImportJSONLines(t *testing.T) {
	t.Parallel()
	store := newMemStore()
	file := strings.Join([]string{
		`{"platform":"erp","shop":"main","order_no":"A-1","status":"finished","paid":"10.00","lines":[{"sku":"S","qty":1,"price":"10.00"}]}`,
		``,
		`{"platform":"erp","shop":"main","order_no":"A-2","status":"sold","paid":"1.001"}`,
		`not json`,
		`{"platform":"erp","shop":"main","order_no":"A-3","status":"paid","paid":"20.00","lines":[{"sku":"S","qty":2,"price":"10.00"}]}`,
	}, "\n")
	var seen []int
	sum, err := orders.Import(t.Context(), strings.NewReader(file), "jsonl", "history", store, time.Now(),
		func(_ int64, n int) { seen = append(seen, n) })
	require.NoError(t, err)
	require.Equal(t, 4, sum.Orders)
	require.Equal(t, 2, sum.Imported)
	require.Len(t, sum.Refused, 2)
	require.Equal(t, 3, sum.Refused[0].Line)
	require.ErrorContains(t, sum.Refused[0], `status "sold": unknown`)
	require.ErrorContains(t, sum.Refused[0], `more than two decimals`)
	require.Equal(t, 4, sum.Refused[1].Line)
	require.Equal(t, 4, seen[len(seen)-1], "the last progress report counts every order")

	left, err := store.UnroutedOrderEvents(t.Context(), 10)
	require.NoError(t, err)
	require.Empty(t, left, "history starts no flow")

	again, err := orders.Import(t.Context(), strings.NewReader(file), "jsonl", "history", store, time.Now(), nil)
	require.NoError(t, err)
	require.Equal(t, 0, again.Imported)
	require.Equal(t, 2, again.Duplicates, "run twice, it imports nothing twice")
}

func TestImportCSV(t *testing.T) {
	t.Parallel()
	store := newMemStore()
	file := "\ufeffplatform,shop,order_no,status,paid,created_at,sku,title,qty,price\n" +
		"jd,10012345,J-1,shipped,259.00,2026-11-01 10:00:00,MUG-350,马克杯,2,129.50\n" +
		"jd,10012345,J-1,shipped,259.00,2026-11-01 10:00:00,LID-1,杯盖,1,0.00\n" +
		"jd,10012345,J-2,paid,5.00,2026-11-02 10:00:00,MUG-350,马克杯,0,5.00\n" +
		"pdd,778899,J-1,paid,9.90,2026-11-03 09:00:00,SOCK-3P,棉袜,1,9.90\n"
	sum, err := orders.Import(t.Context(), strings.NewReader(file), "csv", "history", store, time.Now(), nil)
	require.NoError(t, err)
	require.Equal(t, 3, sum.Orders, "rows of one order are its lines")
	require.Equal(t, 2, sum.Imported)
	require.Len(t, sum.Refused, 1)
	require.Equal(t, 4, sum.Refused[0].Line)
	require.ErrorContains(t, sum.Refused[0], `lines[0].qty "0"`)

	found, err := store.OrdersByNo(t.Context(), "J-1")
	require.NoError(t, err)
	require.Len(t, found, 2, "the same number on two platforms is two orders")
	var jd orders.Order
	for _, o := range found {
		if o.Platform == "jd" {
			jd = o
		}
	}
	require.Len(t, jd.Lines, 2)
	require.Equal(t, orders.Money(25900), jd.Paid)
	require.Equal(t, orders.StatusShipped, jd.Status)

	_, err = orders.Import(t.Context(), strings.NewReader("order_no,colour\n1,red\n"), "csv", "history", store, time.Now(), nil)
	require.ErrorContains(t, err, `header column 2 "colour" is not a field`)
}
