package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	"github.com/pingauthz/pingauthz/internal/procfs"
	"github.com/pingauthz/pingauthz/internal/roundrobin"
)

// flow is how a client logs in to a deployment: the path that starts a
// login and the name of the cookie that holds the session.
type flow struct {
	begin, sessionCookie string
}

var (
	pingauthzFlow = flow{begin: "/login/ping", sessionCookie: "pingauthz_session"}
	peerFlow      = flow{begin: "/oauth2/start?rd=%2F", sessionCookie: "_oauth2_proxy"}
)

// deployment is one system under load: its server processes, the URL the
// clients use (a round-robin proxy's when there are several replicas) and
// how to log in.
type deployment struct {
	name    string
	base    string
	flow    flow
	servers []*exec.Cmd
	proxy   *roundrobin.Proxy
	front   *http.Server
	// child is the base name of each server's child process to measure
	// too ("pingauthz-plugin"), or "".
	child string
}

// pids returns the processes whose CPU time and memory count: the servers
// and their children.
func (d *deployment) pids() ([]int, error) {
	var out []int
	for _, s := range d.servers {
		out = append(out, s.Process.Pid)
		if d.child == "" {
			continue
		}
		kids, err := procfs.ChildPIDs(s.Process.Pid, d.child)
		if err != nil || len(kids) != 1 {
			return nil, fmt.Errorf("%s: the %s of pid %d: %v %v", d.name, d.child, s.Process.Pid, kids, err)
		}
		out = append(out, kids...)
	}
	return out, nil
}

// cpu returns the CPU time all the deployment's processes have used.
func (d *deployment) cpu() (time.Duration, error) {
	pids, err := d.pids()
	if err != nil {
		return 0, err
	}
	var sum time.Duration
	for _, pid := range pids {
		t, err := procfs.CPUTime(pid)
		if err != nil {
			return 0, err
		}
		sum += t
	}
	return sum, nil
}

// rss returns the largest resident memory of a server and of a child
// process, in MB.
func (d *deployment) rss() (server, child float64, err error) {
	for _, s := range d.servers {
		kb, err := procfs.VmRSS(s.Process.Pid)
		if err != nil {
			return 0, 0, err
		}
		server = max(server, float64(kb)/1024)
		if d.child == "" {
			continue
		}
		kids, err := procfs.ChildPIDs(s.Process.Pid, d.child)
		if err != nil || len(kids) != 1 {
			return 0, 0, fmt.Errorf("%s: the %s of pid %d: %v %v", d.name, d.child, s.Process.Pid, kids, err)
		}
		kb, err = procfs.VmRSS(kids[0])
		if err != nil {
			return 0, 0, err
		}
		child = max(child, float64(kb)/1024)
	}
	return server, child, nil
}

// stop ends the servers and the proxy.
func (d *deployment) stop() {
	for _, s := range d.servers {
		stopProcess(s)
	}
	if d.front != nil {
		_ = d.front.Close()
		d.proxy.Close()
	}
}

// frontFor returns the URL clients use for n replicas: a listener of a
// round-robin proxy when n > 1 (served once the backends are known).
func frontFor(n int) (net.Listener, string, error) {
	if n < 2 {
		return nil, "", nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	return ln, "http://" + ln.Addr().String(), nil
}

var servingLine = regexp.MustCompile(`serving (\S+) on (127\.0\.0\.1:\d+)`)

// startPingauthz starts n `pingauthz serve` replicas on db (a SQLite file
// or a PostgreSQL URL) with env, behind a round-robin proxy when n > 1.
// Their log goes to logs.
func startPingauthz(name, cli, db string, n int, env, extra []string, logs *os.File) (*deployment, error) {
	d := &deployment{name: name, flow: pingauthzFlow, child: "pingauthz-plugin"}
	ln, public, err := frontFor(n)
	if err != nil {
		return nil, err
	}
	var backends []string
	for range n {
		args := []string{"serve", "--listen", "127.0.0.1:0", "--db", db, "--log-level", "warn"}
		if public != "" {
			args = append(args, "--public-url", public)
		}
		args = append(args, extra...)
		cmd, addr, err := startServe(cli, args, env, logs)
		if err != nil {
			d.stop()
			if ln != nil {
				ln.Close()
			}
			return nil, err
		}
		d.servers = append(d.servers, cmd)
		backends = append(backends, "http://"+addr)
	}
	d.base = backends[0]
	if ln != nil {
		if d.proxy, err = roundrobin.New(backends...); err != nil {
			d.stop()
			ln.Close()
			return nil, err
		}
		d.front = &http.Server{Handler: d.proxy, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = d.front.Serve(ln) }()
		d.base = public
	}
	return d, nil
}

// startServe starts `pingauthz serve` and returns it with its listen
// address once it serves.
func startServe(cli string, args, env []string, logs *os.File) (*exec.Cmd, string, error) {
	cmd := exec.Command(cli, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	cmd.Stderr = logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := servingLine.FindStringSubmatch(sc.Text()); m != nil {
			go func() {
				for sc.Scan() {
				}
			}()
			return cmd, m[2], nil
		}
	}
	_ = cmd.Wait()
	return nil, "", fmt.Errorf("pingauthz serve ended before serving: %v", cmd.ProcessState)
}

// peerOptions configure the oauth2-proxy peer.
type peerOptions struct {
	bin, issuer, clientID, secret, group string
	// register registers the peer's redirect URI at the emulator.
	register func(redirectURI string) error
	logs     *os.File
}

// startPeer starts oauth2-proxy against the emulator with PKCE S256, the
// nonce checked and an allowed-group check, on a free loopback port (it
// cannot take an inherited listener), picked before it starts.
func startPeer(opts peerOptions) (*deployment, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	base := "http://" + addr
	if err := opts.register(base + "/oauth2/callback"); err != nil {
		return nil, err
	}
	cmd := exec.Command(opts.bin,
		"--provider=oidc",
		"--oidc-issuer-url="+opts.issuer,
		"--client-id="+opts.clientID,
		"--client-secret="+opts.secret,
		"--redirect-url="+base+"/oauth2/callback",
		"--http-address="+addr,
		"--cookie-secret="+cookieSecret(),
		"--cookie-secure=false",
		"--email-domain=*",
		"--upstream=static://200",
		"--code-challenge-method=S256",
		"--insecure-oidc-skip-nonce=false",
		"--allowed-group="+opts.group,
		"--skip-provider-button=true",
		"--request-logging=false",
		"--auth-logging=false",
	)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	cmd.Stderr = opts.logs
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	d := &deployment{name: "oauth2-proxy", base: base, flow: peerFlow, servers: []*exec.Cmd{cmd}}
	if err := waitReady(base + "/ping"); err != nil {
		d.stop()
		return nil, fmt.Errorf("oauth2-proxy: %w", err)
	}
	return d, nil
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitReady polls url until it answers 200, for at most a minute.
func waitReady(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return errors.Join(errors.New("not ready within a minute"), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func stopProcess(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// adminSeed creates the bench company and group on db with the CLI.
func adminSeed(cli, db, company, name, group string) error {
	for _, args := range [][]string{
		{"company", "add", company, "--name", name},
		{"group", "add", "--company", company, group},
	} {
		if out, err := exec.Command(cli, append([]string{"admin", "--db", db}, args...)...).CombinedOutput(); err != nil {
			return fmt.Errorf("admin %v: %v\n%s", args, err, out)
		}
	}
	return nil
}

// sqliteIn returns a fresh SQLite database path in dir.
func sqliteIn(dir, name string) string { return filepath.Join(dir, name+".db") }
