package flows

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEnglishNames: a flow file may name its flow, steps, fields and
// options in English too; an English reader gets them, falling back to the
// file's own words (an option to its code), and a title_en is checked as a
// title is.
func TestEnglishNames(t *testing.T) {
	t.Parallel()
	src := `
id: buy
name: 采购
name_en: Purchase
title: "采购 · {item} · {via}"
title_en: "Purchase · {item} · {via}"
form:
  - {key: item, label: 物品, label_en: Item, type: string, required: true}
  - {key: via, label: 渠道, type: enum, options: [tmall, jd], option_labels: {tmall: 天猫, jd: 京东}, option_labels_en: {tmall: Tmall}}
steps:
  - {id: ok, name: 审批, name_en: Approval, type: approval, assignees: {role: boss}}
  - {id: note, name: 通知, type: notify, assignees: {role: boss}}
`
	f, err := ParseFlow("buy.yaml", []byte(src))
	require.NoError(t, err)
	require.Equal(t, "Purchase", f.NameIn(true))
	require.Equal(t, "采购", f.NameIn(false))
	require.Equal(t, "Approval", f.Step("ok").NameIn(true))
	require.Equal(t, "通知", f.Step("note").NameIn(true), "no English name: the file's own")
	item, via := f.Form[0], f.Form[1]
	require.Equal(t, "Item", item.LabelIn(true))
	require.Equal(t, "渠道", via.LabelIn(true))
	require.Equal(t, "Tmall", via.OptionLabelIn("tmall", true))
	require.Equal(t, "jd", via.OptionLabelIn("jd", true), "an option without an English label reads as its code")
	require.Equal(t, "京东", via.OptionLabelIn("jd", false))
	form := map[string]any{"item": "pen", "via": "tmall"}
	require.Equal(t, "Purchase · pen · Tmall", f.TitleEN.Render(form), "an option in a title as its readers read it")
	require.Equal(t, "采购 · pen · 天猫", f.Title.Render(form))

	_, err = ParseFlow("bad.yaml", []byte(`
id: buy
name: 采购
title_en: "Purchase · {nope}"
form:
  - {key: item, type: string}
steps:
  - {id: ok, type: approval, assignees: {role: boss}}
`))
	require.ErrorContains(t, err, "bad.yaml:4: flow: title_en: {nope} is not a field of the form")
}

// TestTitleInEnglish: a title the engine built reads in English for an
// English reader (from title_en, else with the flow's English name); a
// title someone gave stays as given.
func TestTitleInEnglish(t *testing.T) {
	t.Parallel()
	parse := func(src string) *Flow {
		f, err := ParseFlow("t.yaml", []byte(src))
		require.NoError(t, err)
		return f
	}
	base := `
id: buy
name: 采购
name_en: Purchase
form:
  - {key: item, label: 物品, type: string, required: true}
steps:
  - {id: ok, type: approval, assignees: {role: boss}}
`
	plain := parse(base)
	both := parse(base + "title: \"采购 · {item}\"\ntitle_en: \"Purchase of {item}\"\n")
	zhOnly := parse(base + "title: \"采购 · {item}\"\n")
	byOption := parse(`
id: ret
name: 退换货
form:
  - {key: kind, type: enum, options: [退货, 换货], option_labels_en: {退货: Return}}
  - {key: order_no, type: string}
title: "{kind} · {order_no}"
steps:
  - {id: ok, type: approval, assignees: {role: boss}}
`)
	form := map[string]any{"item": "pen", "kind": "退货", "order_no": "pen"}
	for _, tc := range []struct {
		name   string
		f      *Flow
		stored string
		want   string
	}{
		{"built without a template", plain, "陈客服" + submittedBy + "采购", "Purchase submitted by 陈客服"},
		{"an event's instance", plain, "采购", "Purchase"},
		{"from title_en", both, "采购 · pen", "Purchase of pen"},
		{"title without title_en", zhOnly, "采购 · pen", "Purchase · pen"},
		{"given", both, "采购 · 急用", "采购 · 急用"},
		{"an option in English", byOption, "退货 · pen", "Return · pen"},
		{"given, named like the flow", plain, "采购打印纸", "采购打印纸"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.f.TitleIn(tc.stored, form, true))
			require.Equal(t, tc.stored, tc.f.TitleIn(tc.stored, form, false))
		})
	}
	raw := Instance{Title: "采购 · pen", Form: []byte(`{"item":"pen"}`)}
	require.Equal(t, "Purchase of pen", both.TitleOf(raw, true), "from the stored form")
}
