//go:build linux

package host

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/internal/procfs"
)

// TestPluginDiesWithHost kills a host process outright (SIGKILL): its
// plugin process ends too instead of running on as an orphan.
func TestPluginDiesWithHost(t *testing.T) {
	bin := pluginBinary(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childHostEnv+"="+bin), emulatorEnv(t)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	if !sc.Scan() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("the host printed nothing: %s", stderr.String())
	}
	pid, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "pid "))
	if err != nil || pid <= 0 {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("host said %q", sc.Text())
	}
	if !procfs.Alive(pid) {
		t.Fatalf("plugin %d is not running while its host runs", pid)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for procfs.Alive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("plugin %d still runs 30s after its host was killed", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
