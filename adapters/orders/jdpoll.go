package orders

import (
	"cmp"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"cardflow/config"
)

// JDPoller pulls a JD shop's orders with jingdong.pop.order.enSearch
// through the JOS router, window by window of modification time. Its cursor
// is "<window start, RFC 3339>|<page>". JD's order APIs answer only apps
// hosted in 京东云鼎; BaseURL points at the router there (or at a fake).
type JDPoller struct {
	BaseURL     string // e.g. https://api.jd.com/routerjson
	AppKey      string
	AppSecret   config.Secret
	AccessToken config.Secret
	HTTP        *http.Client
	Now         func() time.Time
	// Since is how far back a shop never polled starts; default 24h.
	Since time.Duration
	// Window is the span of one search (JD allows a few hours at most);
	// default 1h. Lag keeps the newest minute out of the search, so orders
	// JD is still writing are not missed; default 1m.
	Window, Lag time.Duration
	// PageSize is at most 100 (JD's limit); default 100.
	PageSize int
}

// jdStates are the order states searched: every one after payment.
const jdStates = "WAIT_SELLER_STOCK_OUT,WAIT_GOODS_RECEIVE_CONFIRM,WAIT_SELLER_DELIVERY,POP_ORDER_PAUSE,LOCKED,FINISHED_L,TRADE_CANCELED"

// Poll implements Poller.
func (p *JDPoller) Poll(ctx context.Context, shop, cursor string) ([]Order, string, bool, error) {
	now := p.now()
	start, page, err := p.parseCursor(cursor, now)
	if err != nil {
		return nil, "", false, err
	}
	end := start.Add(cmp.Or(p.Window, time.Hour))
	if cutoff := now.Add(-p.lag()); cutoff.Before(end) {
		end = cutoff
	}
	if !end.After(start) {
		return nil, cursor, false, nil // nothing new settled since
	}
	size := cmp.Or(p.PageSize, 100)
	param, _ := json.Marshal(map[string]string{
		"start_date": start.In(china).Format(time.DateTime), "end_date": end.In(china).Format(time.DateTime),
		"order_state": jdStates, "page": strconv.Itoa(page), "page_size": strconv.Itoa(size), "date_type": "1",
	})
	body, err := p.call(ctx, "jingdong.pop.order.enSearch", string(param))
	if err != nil {
		return nil, "", false, err
	}
	var resp struct {
		Error *struct {
			Code   text `json:"code"`
			ZhDesc text `json:"zh_desc"`
		} `json:"error_response"`
		R *struct {
			Code   text `json:"code"`
			Result struct {
				Total text              `json:"orderTotal"`
				List  []json.RawMessage `json:"orderInfoList"`
			} `json:"searchorderinfo_result"`
		} `json:"jingdong_pop_order_enSearch_responce"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, "", false, fmt.Errorf("jd: enSearch answer: %w", err)
	}
	switch {
	case resp.Error != nil:
		return nil, "", false, fmt.Errorf("jd: enSearch refused: code %s: %s", resp.Error.Code, clip(resp.Error.ZhDesc.String()))
	case resp.R == nil || (resp.R.Code.String() != "" && resp.R.Code.String() != "0"):
		return nil, "", false, errors.New("jd: enSearch: an answer without result")
	}
	var out []Order
	for i, raw := range resp.R.Result.List {
		o, err := JD(append(append([]byte(`{"orderInfo":`), raw...), '}'))
		if err != nil {
			return nil, "", false, fmt.Errorf("jd: enSearch order %d of page %d: %w", i, page, err)
		}
		out = append(out, o)
	}
	total, _ := strconv.Atoi(resp.R.Result.Total.String())
	if page*size < total {
		return out, fmt.Sprintf("%s|%d", start.Format(time.RFC3339), page+1), true, nil
	}
	next := end.Format(time.RFC3339) + "|1"
	return out, next, end.Before(now.Add(-p.lag())), nil
}

// call signs and sends one JOS request and returns its body.
func (p *JDPoller) call(ctx context.Context, method, param string) ([]byte, error) {
	v := url.Values{}
	v.Set("method", method)
	v.Set("app_key", p.AppKey)
	v.Set("access_token", p.AccessToken.Reveal())
	v.Set("timestamp", p.now().In(china).Format(time.DateTime))
	v.Set("v", "2.0")
	v.Set("format", "json")
	v.Set("360buy_param_json", param)
	v.Set("sign", JOSSign(p.AppSecret.Reveal(), v))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.BaseURL, strings.NewReader(v.Encode()))
	if err != nil {
		return nil, fmt.Errorf("jd: %s: bad base URL", method)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	client := p.HTTP
	if client == nil {
		client = &http.Client{Timeout: 20 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		// The URL error names the router, never the token: it is in the body.
		return nil, fmt.Errorf("jd: %s: %w", method, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("jd: %s: %w", method, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jd: %s: HTTP %d", method, resp.StatusCode)
	}
	return body, nil
}

// JOSSign is JD's request signature: upper-case hex MD5 of the app secret,
// every parameter but sign as name and value in name order, and the secret
// again.
func JOSSign(secret string, v url.Values) string {
	names := make([]string, 0, len(v))
	for k := range v {
		if k != "sign" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	h := md5.New()
	h.Write([]byte(secret))
	for _, k := range names {
		h.Write([]byte(k))
		h.Write([]byte(v.Get(k)))
	}
	h.Write([]byte(secret))
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
}

func (p *JDPoller) parseCursor(cursor string, now time.Time) (time.Time, int, error) {
	if cursor == "" {
		since := p.Since
		if since <= 0 {
			since = 24 * time.Hour
		}
		return now.Add(-since).Truncate(time.Second), 1, nil
	}
	at, page, ok := strings.Cut(cursor, "|")
	start, err := time.Parse(time.RFC3339, at)
	n, perr := strconv.Atoi(page)
	if !ok || err != nil || perr != nil || n < 1 {
		return time.Time{}, 0, fmt.Errorf("jd: cursor %q is not <time>|<page>", clip(cursor))
	}
	return start, n, nil
}

func (p *JDPoller) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *JDPoller) lag() time.Duration { return cmp.Or(p.Lag, time.Minute) }
