package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"cardflow/app"
	"cardflow/server/apitoken"
)

const tokensUsage = `Usage:
  cardflow tokens create --name NAME --scope read|write|admin [--expires 90d] [--by WHO] [--config FILE]
  cardflow tokens list [--config FILE]
  cardflow tokens revoke [--config FILE] ID

API tokens for /api/v1, kept in the configured store: read may read, write may
also start instances and act on tasks, admin may also set leave proxies. The
token is printed once, by create; the store keeps only its hash.`

func runTokens(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "create":
			return runTokensCreate(ctx, args[1:], stdout, stderr)
		case "list":
			return runTokensList(ctx, args[1:], stdout, stderr)
		case "revoke":
			return runTokensRevoke(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintln(stderr, tokensUsage)
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		return 0
	}
	return 2
}

// maxExpiry bounds --expires: a token for longer is a token forgotten.
const maxExpiry = 10 * 365 * 24 * time.Hour

func runTokensCreate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("tokens create", "Create an API token and print it, once: the store keeps only its hash.\n"+
		"Only the token goes to stdout, so TOKEN=$(cardflow tokens create ...) keeps it.", stderr)
	path := configFlag(fs)
	name := fs.String("name", "", "what the token is for, at most 64 characters (required)")
	scopeName := fs.String("scope", "", "read, write or admin (required)")
	expires := fs.String("expires", "", "how long the token works: days (90d) or a duration (12h); empty for ever")
	by := fs.String("by", currentUser(), "who creates the token, recorded with it")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if strings.TrimSpace(*name) == "" || *scopeName == "" {
		fmt.Fprintln(stderr, "cardflow tokens create: --name and --scope are required")
		fs.Usage()
		return 2
	}
	scope, err := apitoken.ParseScope(*scopeName)
	if err != nil {
		fmt.Fprintf(stderr, "cardflow tokens create: --scope: %v\n", err)
		return 2
	}
	var ttl time.Duration
	if *expires != "" {
		if ttl, err = parseExpiry(*expires); err != nil {
			fmt.Fprintf(stderr, "cardflow tokens create: --expires: %v\n", err)
			return 2
		}
	}
	store, closeStore, code := openTokenStore(ctx, fs, *path, stderr)
	if store == nil {
		return code
	}
	defer closeStore()
	now := time.Now()
	p := apitoken.CreateParams{Name: *name, Scope: scope, CreatedBy: *by}
	if ttl > 0 {
		p.ExpiresAt = now.Add(ttl)
	}
	tok, plain, err := apitoken.Create(ctx, store, p, now)
	if err != nil {
		fmt.Fprintf(stderr, "cardflow tokens create: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, plain)
	expiry := "never expires"
	if !tok.ExpiresAt.IsZero() {
		expiry = "expires " + showTime(tok.ExpiresAt)
	}
	fmt.Fprintf(stderr, "Created %s %q, scope %s, %s.\n"+
		"Store the token above now, in a secret manager: it is shown only this once, and\n"+
		"cardflow keeps only its hash. Revoke it with: cardflow tokens revoke %s\n",
		tok.ID, tok.Name, tok.Scope, expiry, tok.ID)
	return 0
}

func runTokensList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("tokens list", "List the API tokens (never their secrets), oldest first; times in the local zone.", stderr)
	path := configFlag(fs)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	store, closeStore, code := openTokenStore(ctx, fs, *path, stderr)
	if store == nil {
		return code
	}
	defer closeStore()
	list, err := store.APITokens(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "cardflow tokens list: %v\n", err)
		return 1
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "No API tokens yet; create one with: cardflow tokens create --name NAME --scope read")
		return 0
	}
	now := time.Now()
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSCOPE\tSTATE\tCREATED\tCREATED BY\tLAST USED\tEXPIRES\tREVOKED")
	for _, t := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Scope, t.State(now),
			showTime(t.CreatedAt), orDash(t.CreatedBy), showTime(t.LastUsedAt), showTime(t.ExpiresAt), showTime(t.RevokedAt))
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(stderr, "cardflow tokens list: %v\n", err)
		return 1
	}
	return 0
}

func runTokensRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("tokens revoke", "Revoke the API token ID (tok_…, as cardflow tokens list shows it): requests\n"+
		"with it are refused from now on. Revoking a revoked token changes nothing.", stderr)
	path := configFlag(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "cardflow tokens revoke: give one token id")
		fs.Usage()
		return 2
	}
	id := fs.Arg(0)
	switch {
	case apitoken.LooksLikeToken(id):
		// Not echoed: it is a secret.
		fmt.Fprintln(stderr, "cardflow tokens revoke: give the token's id (tok_ and 8 characters), not the token itself")
		return 2
	case !apitoken.ValidID(id):
		fmt.Fprintf(stderr, "cardflow tokens revoke: %s is not a token id: expected tok_ and 8 characters (see cardflow tokens list)\n",
			strconv.QuoteToGraphic(id))
		return 2
	}
	store, closeStore, code := openTokenStore(ctx, fs, *path, stderr)
	if store == nil {
		return code
	}
	defer closeStore()
	at := time.Now().UTC().Truncate(time.Microsecond) // as the store keeps it
	tok, err := store.RevokeAPIToken(ctx, id, at)
	if errors.Is(err, apitoken.ErrNotFound) {
		fmt.Fprintf(stderr, "cardflow tokens revoke: there is no token %s (see cardflow tokens list)\n", id)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "cardflow tokens revoke: %v\n", err)
		return 1
	}
	if !tok.RevokedAt.Equal(at) {
		fmt.Fprintf(stdout, "%s %q was already revoked at %s.\n", tok.ID, tok.Name, showTime(tok.RevokedAt))
		return 0
	}
	fmt.Fprintf(stdout, "Revoked %s %q: requests with it are refused from now on.\n", tok.ID, tok.Name)
	return 0
}

// openTokenStore reads the configuration as migrate does (only the store
// settings must be valid) and opens the store. On failure it has said why
// and returns a nil store and the exit code.
func openTokenStore(ctx context.Context, fs *flag.FlagSet, path string, stderr io.Writer) (apitoken.Store, func(), int) {
	cfg, err := readStoreConfig(path)
	if err != nil {
		return nil, nil, invalidConfig(fs, stderr, err)
	}
	store, name, err := app.OpenStore(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "cardflow %s: %v\n", fs.Name(), err)
		return nil, nil, 1
	}
	ts, ok := store.(apitoken.Store)
	if !ok {
		_ = store.Close()
		fmt.Fprintf(stderr, "cardflow %s: the %s store keeps no API tokens\n", fs.Name(), name)
		return nil, nil, 1
	}
	return ts, func() { _ = store.Close() }, 0
}

// parseExpiry reads --expires: whole days ("90d") or a Go duration
// ("12h", "30m"), positive and at most maxExpiry.
func parseExpiry(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, fmt.Errorf("%q: expected whole days such as 90d, or a duration such as 12h", s)
		}
		d = time.Duration(n) * 24 * time.Hour
		if n > int(maxExpiry/(24*time.Hour)) {
			d = maxExpiry + 1
		}
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q: expected whole days such as 90d, or a duration such as 12h", s)
		}
	}
	switch {
	case d <= 0:
		return 0, fmt.Errorf("%q: must be more than zero", s)
	case d > maxExpiry:
		return 0, fmt.Errorf("%q: at most %dd", s, int(maxExpiry/(24*time.Hour)))
	}
	return d, nil
}

// showTime is t in the local zone to the minute, or "-" when zero.
func showTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04 MST")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// currentUser names who runs the command, for --by; "" if unknown.
func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}
