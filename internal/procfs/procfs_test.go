package procfs

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

func TestChildPIDs(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep command")
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	cmd := exec.Command(sleep, "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	real, err := filepath.EvalSymlinks(sleep)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Base(real)
	tests := []struct {
		name, prefix string
		parent       int
		want         bool
	}{
		{"full name", name, os.Getpid(), true},
		{"prefix", name[:1], os.Getpid(), true},
		{"other name", "no-such-program", os.Getpid(), false},
		{"other parent", name, os.Getppid(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pids, err := ChildPIDs(tc.parent, tc.prefix)
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Contains(pids, cmd.Process.Pid); got != tc.want {
				t.Errorf("ChildPIDs(%d, %q) = %v; holds %d: %v, want %v", tc.parent, tc.prefix, pids, cmd.Process.Pid, got, tc.want)
			}
		})
	}
}

func TestAliveAndVmRSS(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	if !Alive(os.Getpid()) {
		t.Error("Alive(self) = false")
	}
	kb, err := VmRSS(os.Getpid())
	if err != nil || kb <= 0 {
		t.Errorf("VmRSS(self) = %d, %v", kb, err)
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true command")
	}
	if Alive(cmd.Process.Pid) {
		t.Errorf("Alive(%d) = true for a reaped process", cmd.Process.Pid)
	}
	if _, err := VmRSS(cmd.Process.Pid); err == nil {
		t.Errorf("VmRSS(%d) of a reaped process succeeded", cmd.Process.Pid)
	}
}

// TestCPUTime checks that the CPU time of this process grows with work.
func TestCPUTime(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	before, err := CPUTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	x := uint64(1)
	for {
		for range 1 << 20 {
			x = x*6364136223846793005 + 1
		}
		after, err := CPUTime(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if after > before {
			break
		}
	}
	if _, err := CPUTime(-1); err == nil {
		t.Error("CPUTime of no process succeeded")
	}
	_ = x
}

func TestSelfCPUTime(t *testing.T) {
	before := SelfCPUTime()
	for SelfCPUTime() == before { // spin until the clock moves
	}
	if after := SelfCPUTime(); after <= before || before <= 0 {
		t.Errorf("CPU time went from %v to %v", before, after)
	}
}
