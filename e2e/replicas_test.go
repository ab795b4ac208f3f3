package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/demo"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/internal/procfs"
	"github.com/pingauthz/pingauthz/internal/roundrobin"
	"github.com/pingauthz/pingauthz/internal/store/storetest"
	"github.com/pingauthz/pingauthz/sso"
)

// replicaUsers is the number of emulator users of the replica test; user
// i is in ML Team, and in Ops when i is even.
const replicaUsers = 100

// replicaSet is several `pingauthz serve` processes on one PostgreSQL
// database behind a round-robin proxy, whose URL is their public URL.
type replicaSet struct {
	cli, db string
	idp     *pingemu.Server
	servers []*process
	direct  []string // each replica's own URL
	proxy   *roundrobin.Proxy
	front   string
}

func replicaUser(i int) pingemu.User {
	name := fmt.Sprintf("u%03d", i)
	groups := []string{"ML Team"}
	if i%2 == 0 {
		groups = append(groups, "Ops")
	}
	return pingemu.User{Username: name, Password: name + "-pw", Groups: groups,
		Claims: map[string]any{"email": name + "@example.com", "email_verified": true, "name": name}}
}

// startReplicas starts n replicas on a fresh PostgreSQL schema with company
// c1 (groups ML Team and Ops) as the default company and group sync on.
func startReplicas(t *testing.T, n int) *replicaSet {
	t.Helper()
	if testing.Short() {
		t.Skip("runs three servers through hundreds of logins; skipped in -short mode")
	}
	db := storetest.PostgresURL(t)
	cli := buildCLI(t)
	users := make([]pingemu.User, replicaUsers)
	for i := range users {
		users[i] = replicaUser(i)
	}
	idp, err := pingemu.Start(pingemu.Options{Users: users})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idp.Close() })
	rs := &replicaSet{cli: cli, db: db, idp: idp}
	for _, args := range [][]string{
		{"company", "add", "c1", "--name", "Replica Co"},
		{"group", "add", "--company", "c1", "ML Team"},
		{"group", "add", "--company", "c1", "Ops"},
	} {
		rs.admin(t, args...)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rs.front = "http://" + ln.Addr().String()
	const clientID, secret = "replicas", "replicas-secret-0123456789abcdef01"
	env := append(config.RequiredEnv(idp.AuthorizeURL(), idp.TokenURL(), clientID, secret),
		config.VarName("code_challenge", false)+"=true",
		config.VarName("groups__enabled", false)+"=true",
		config.VarName("default_company", true)+"=c1")
	dir := t.TempDir()
	for i := range n {
		p := startCLI(t, dir, cli, env, "serve", "--listen", "127.0.0.1:0", "--public-url", rs.front,
			"--db", db, "--log-level", "warn")
		m := p.waitLine(t, publicServingLine, time.Minute)
		rs.servers = append(rs.servers, p)
		rs.direct = append(rs.direct, "http://"+m[2])
		t.Logf("replica %d: %s (pid %d)", i, rs.direct[i], p.cmd.Process.Pid)
	}
	if rs.proxy, err = roundrobin.New(rs.direct...); err != nil {
		t.Fatal(err)
	}
	front := &http.Server{Handler: rs.proxy, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = front.Serve(ln) }()
	t.Cleanup(func() { _ = front.Close(); rs.proxy.Close() })
	if err := idp.AddClient(pingemu.Client{ID: clientID, Secret: secret, RedirectURIs: []string{rs.front + host.CallbackPath}}); err != nil {
		t.Fatal(err)
	}
	return rs
}

// admin runs `pingauthz admin` on the replicas' database.
func (rs *replicaSet) admin(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(rs.cli, append([]string{"admin", "--db", rs.db}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("admin %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// users lists the accounts in the database.
func (rs *replicaSet) users(t *testing.T) []sso.Account {
	t.Helper()
	var users []sso.Account
	if err := json.Unmarshal([]byte(rs.admin(t, "user", "list", "--json")), &users); err != nil {
		t.Fatal(err)
	}
	return users
}

// replicaLogin is one login's path through the replicas.
type replicaLogin struct {
	begin, callback string // the answering backend of each, by index
	status          int
	session         *http.Cookie
}

// loginThrough logs u in through the proxy, as a browser would, and
// reports which replica answered the begin and the callback.
func (rs *replicaSet) loginThrough(ctx context.Context, hc *http.Client, u pingemu.User) (*replicaLogin, error) {
	resp, err := rs.get(ctx, hc, rs.front+"/login/ping", nil)
	if err != nil {
		return nil, err
	}
	r := &replicaLogin{begin: resp.Header.Get(roundrobin.BackendHeader)}
	if resp.StatusCode != http.StatusFound {
		return nil, fmt.Errorf("begin: status %d", resp.StatusCode)
	}
	cb, err := pingemu.Login(ctx, hc, resp.Header.Get("Location"), u.Username, u.Password)
	if err != nil {
		return nil, err
	}
	if resp, err = rs.get(ctx, hc, cb.String(), nil); err != nil {
		return nil, err
	}
	r.callback, r.status = resp.Header.Get(roundrobin.BackendHeader), resp.StatusCode
	r.session = sessionCookie(resp)
	return r, nil
}

func (rs *replicaSet) get(ctx context.Context, hc *http.Client, rawURL string, cookies []*http.Cookie) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return resp, nil
}

func sessionCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if strings.Contains(c.Name, "session") && c.Value != "" && c.MaxAge >= 0 {
			return c
		}
	}
	return nil
}

// loginMany runs n logins of users pick(i), workers at a time, through the
// proxy, and returns them with the error of each (nil when it ended on a
// session). When progress is not nil, it gets a value after each login.
func (rs *replicaSet) loginMany(n, workers int, pick func(int) pingemu.User, progress chan<- struct{}) ([]*replicaLogin, []error) {
	tr := &http.Transport{MaxIdleConnsPerHost: workers}
	defer tr.CloseIdleConnections()
	logins, errs := make([]*replicaLogin, n), make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				r, err := rs.loginThrough(context.Background(), demo.NewBrowserClient(tr), pick(i))
				if err == nil && (r.status != http.StatusSeeOther || r.session == nil) {
					err = fmt.Errorf("callback status %d, session %v", r.status, r.session != nil)
				}
				logins[i], errs[i] = r, err
				if progress != nil {
					progress <- struct{}{}
				}
			}
		})
	}
	wg.Wait()
	return logins, errs
}

// checkDirectory checks that every user who logged in exists once, with
// the groups its Ping groups name.
func (rs *replicaSet) checkDirectory(t *testing.T, want int) {
	t.Helper()
	users := rs.users(t)
	seen := map[string]bool{}
	for _, u := range users {
		if seen[u.Email] {
			t.Errorf("user %s exists twice", u.Email)
		}
		seen[u.Email] = true
		i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(u.Email, "u"), "@example.com"))
		if err != nil {
			t.Fatalf("unexpected user %+v", u)
		}
		if wantGroups := replicaUser(i).Groups; !slices.Equal(u.Groups, sorted(wantGroups)) {
			t.Errorf("user %s has groups %q, want %q", u.Email, u.Groups, wantGroups)
		}
	}
	if len(users) != want {
		t.Errorf("%d users, want %d", len(users), want)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestReplicas runs three servers, each with its plugin, on one PostgreSQL
// database behind a round-robin proxy, so that the requests of one login
// land on different replicas.
func TestReplicas(t *testing.T) {
	rs := startReplicas(t, 3)

	t.Run("300 logins by 100 users, 16 at a time", func(t *testing.T) {
		logins, errs := rs.loginMany(300, 16, func(i int) pingemu.User { return replicaUser(i % replicaUsers) }, nil)
		crossed := 0
		for i, err := range errs {
			if err != nil {
				t.Fatalf("login %d: %v", i, err)
			}
			if logins[i].begin != logins[i].callback {
				crossed++
			}
		}
		t.Logf("%d of 300 logins began and finished on different replicas; requests per replica %v", crossed, rs.proxy.Hits())
		if crossed < 100 {
			t.Errorf("only %d of 300 logins crossed replicas", crossed)
		}
		for i, h := range rs.proxy.Hits() {
			if h == 0 {
				t.Errorf("replica %d answered nothing", i)
			}
		}
		rs.checkDirectory(t, replicaUsers)
	})

	t.Run("a session is valid on every replica and logout on one ends it everywhere", func(t *testing.T) {
		r, err := rs.loginThrough(context.Background(), demo.NewBrowserClient(nil), replicaUser(1))
		if err != nil || r.session == nil {
			t.Fatalf("login: %+v, %v", r, err)
		}
		for i, base := range rs.direct {
			if s := rs.status(t, http.MethodGet, base+"/api/me", r.session); s != http.StatusOK {
				t.Errorf("/api/me on replica %d: status %d, want 200", i, s)
			}
		}
		if s := rs.status(t, http.MethodPost, rs.direct[2]+"/logout", r.session); s != http.StatusSeeOther {
			t.Fatalf("logout on replica 2: status %d, want 303", s)
		}
		for i, base := range rs.direct {
			if s := rs.status(t, http.MethodGet, base+"/api/me", r.session); s != http.StatusUnauthorized {
				t.Errorf("/api/me on replica %d after logout: status %d, want 401", i, s)
			}
		}
	})

	t.Run("a replayed callback is refused by every replica", func(t *testing.T) {
		for _, reusable := range []bool{false, true} {
			// With reusable codes the provider does not refuse a replay
			// itself: only the directory's single-use check stops it.
			rs.idp.SetFaults(pingemu.Faults{ReusableCodes: reusable})
			cb, cookies := rs.callback(t, replicaUser(3))
			statuses := make([]int, len(rs.direct))
			var wg sync.WaitGroup
			for i, base := range rs.direct {
				wg.Go(func() {
					statuses[i] = rs.status(t, http.MethodGet, base+cb.RequestURI(), cookies...)
				})
			}
			wg.Wait()
			slices.Sort(statuses)
			won := len(statuses) - len(slices.DeleteFunc(slices.Clone(statuses), func(s int) bool { return s == http.StatusSeeOther }))
			switch {
			case reusable && !slices.Equal(statuses, []int{http.StatusSeeOther, http.StatusBadRequest, http.StatusBadRequest}):
				// The directory consumes the state once: one wins.
				t.Errorf("reusable codes: the same callback on three replicas at once: %v, want one 303 and two 400", statuses)
			case !reusable && won > 1:
				// The provider refuses the code again and revokes the
				// tokens of its first use, so even the first may fail.
				t.Errorf("single-use codes: the same callback on three replicas at once: %v, want at most one 303", statuses)
			}
			before := rs.users(t)
			for i, base := range rs.direct {
				if s := rs.status(t, http.MethodGet, base+cb.RequestURI(), cookies...); s != http.StatusBadRequest {
					t.Errorf("reusable codes %v: replay on replica %d: status %d, want 400", reusable, i, s)
				}
			}
			if after := rs.users(t); !equalAccounts(before, after) {
				t.Errorf("reusable codes %v: the replays changed the users:\n%+v\n%+v", reusable, before, after)
			}
		}
		rs.idp.SetFaults(pingemu.Faults{})
	})

	t.Run("a group added by admin in another process is matched within 1 s", func(t *testing.T) {
		u := replicaUser(5)
		if err := rs.idp.SetUserGroups(u.Username, []string{"ML Team", "Newcomers"}); err != nil {
			t.Fatal(err)
		}
		rs.admin(t, "group", "add", "--company", "c1", "Newcomers")
		added := time.Now()
		for i := range rs.direct {
			took, err := rs.untilGroup(t, i, u, "Newcomers", added)
			if err != nil {
				t.Fatalf("replica %d: %v", i, err)
			}
			t.Logf("replica %d matched the new group %s after the admin command", i, took.Round(time.Millisecond))
			if took > time.Second {
				t.Errorf("replica %d matched the new group %s after the admin command, want within 1s", i, took.Round(time.Millisecond))
			}
		}
		if err := rs.idp.SetUserGroups(u.Username, replicaUser(5).Groups); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a replica killed mid-run", func(t *testing.T) {
		victim := rs.servers[2]
		plugins, err := procfs.ChildPIDs(victim.cmd.Process.Pid, "pingauthz-plugin")
		if err != nil || len(plugins) != 1 {
			t.Fatalf("plugin of replica 2: %v %v", plugins, err)
		}
		done := make(chan struct{})
		progress := make(chan struct{})
		var errs []error
		go func() {
			defer close(done)
			_, errs = rs.loginMany(200, 16, func(i int) pingemu.User { return replicaUser((i * 7) % replicaUsers) }, progress)
		}()
		// Kill once the run is well under way: 60 logins done, 16 in flight.
		for range 60 {
			<-progress
		}
		if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		go func() {
			for range progress { // the other logins go on
			}
		}()
		<-done
		close(progress)
		failed := 0
		for _, err := range errs {
			if err != nil {
				failed++
				t.Logf("a login in flight on the killed replica: %v", err)
			}
		}
		if failed > 16 {
			t.Errorf("%d logins failed; only those in flight on the killed replica (at most 16) may", failed)
		}
		// Later logins go to the others and succeed.
		_, errs = rs.loginMany(60, 8, func(i int) pingemu.User { return replicaUser(i) }, nil)
		for i, err := range errs {
			if err != nil {
				t.Errorf("login %d after the kill: %v", i, err)
			}
		}
		if down := rs.proxy.Down(); !down[2] || down[0] || down[1] {
			t.Errorf("down replicas %v, want only replica 2", down)
		}
		if err := retry(30*time.Second, func() error {
			if procfs.Alive(plugins[0]) {
				return fmt.Errorf("the killed replica's plugin %d is still running", plugins[0])
			}
			return nil
		}); err != nil {
			t.Error(err)
		}
		rs.checkDirectory(t, replicaUsers)
	})
}

// status sends a request with the cookies and returns the status; a POST
// carries the public origin, as a browser on the site does.
func (rs *replicaSet) status(t *testing.T, method, rawURL string, cookies ...*http.Cookie) int {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Origin", rs.front)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := demo.NewBrowserClient(nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// callback begins a login of u at the proxy and signs in at the emulator,
// and returns the callback URL and the cookies a browser would send with
// it, without requesting it.
func (rs *replicaSet) callback(t *testing.T, u pingemu.User) (*url.URL, []*http.Cookie) {
	t.Helper()
	hc := demo.NewBrowserClient(nil)
	resp, err := rs.get(context.Background(), hc, rs.front+"/login/ping", nil)
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("begin: %v %v", resp, err)
	}
	cb, err := pingemu.Login(context.Background(), hc, resp.Header.Get("Location"), u.Username, u.Password)
	if err != nil {
		t.Fatal(err)
	}
	return cb, hc.Jar.Cookies(cb)
}

// untilGroup logs u in on replica i, the callback too, until the account
// has group, and returns how long after since that took.
func (rs *replicaSet) untilGroup(t *testing.T, i int, u pingemu.User, group string, since time.Time) (time.Duration, error) {
	t.Helper()
	deadline := since.Add(30 * time.Second)
	for {
		hc := demo.NewBrowserClient(nil)
		resp, err := rs.get(context.Background(), hc, rs.direct[i]+"/login/ping", nil)
		if err != nil || resp.StatusCode != http.StatusFound {
			return 0, fmt.Errorf("begin: %v %v", resp, err)
		}
		cb, err := pingemu.Login(context.Background(), hc, resp.Header.Get("Location"), u.Username, u.Password)
		if err != nil {
			return 0, err
		}
		// The provider sends the browser to the public URL; this one
		// reaches replica i itself.
		if resp, err = rs.get(context.Background(), hc, rs.direct[i]+cb.RequestURI(), nil); err != nil || resp.StatusCode != http.StatusSeeOther {
			return 0, fmt.Errorf("callback: %v %v", resp, err)
		}
		me, err := hc.Get(rs.direct[i] + "/api/me")
		if err != nil {
			return 0, err
		}
		var a sso.Account
		err = json.NewDecoder(me.Body).Decode(&a)
		me.Body.Close()
		if err != nil {
			return 0, err
		}
		if slices.Contains(a.Groups, group) {
			return time.Since(since), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("no login matched %s within 30s; groups %q", group, a.Groups)
		}
	}
}

func equalAccounts(a, b []sso.Account) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
