// Package procfs reads process facts from Linux's /proc. It is for the
// tests and the load generator; it does not work on other systems and does
// not lock against processes coming and going while it reads.
package procfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is the unit of the CPU times in /proc/<pid>/stat (USER_HZ,
// 100 on every Linux architecture Go supports).
const clockTick = 10 * time.Millisecond

// ChildPIDs returns the live (not zombie) child processes of parent whose
// executable's base name starts with exePrefix, read from /proc. Processes
// that vanish or cannot be read while it scans are skipped.
func ChildPIDs(parent int, exePrefix string) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	want := strconv.Itoa(parent)
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fields, ok := statFields(pid)
		if !ok || len(fields) < 2 || fields[0] == "Z" || fields[1] != want {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || !strings.HasPrefix(filepath.Base(exe), exePrefix) {
			continue
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// Alive reports whether process pid exists and is neither a zombie nor dead.
func Alive(pid int) bool {
	f, ok := statFields(pid)
	return ok && len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// VmRSS returns the resident memory of process pid in kB, from
// /proc/<pid>/status.
func VmRSS(pid int) (int64, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			if f := strings.Fields(rest); len(f) == 2 && f[1] == "kB" {
				return strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("procfs: no VmRSS in /proc/%d/status", pid)
}

// CPUTime returns the CPU time process pid has used so far, user and
// system, all threads, from /proc/<pid>/stat. Its resolution is 10 ms.
func CPUTime(pid int) (time.Duration, error) {
	f, ok := statFields(pid)
	// utime and stime are fields 14 and 15 of stat; f starts at field 3.
	if !ok || len(f) < 13 {
		return 0, fmt.Errorf("procfs: cannot read /proc/%d/stat", pid)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("procfs: /proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// SelfCPUTime returns the CPU time this process has used so far, user and
// system, all threads, from getrusage: finer than CPUTime's 10 ms, for
// benchmarks that report CPU per operation.
func SelfCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// statFields returns the fields of /proc/<pid>/stat after the command name
// (state, ppid, ...); the name may hold spaces and parentheses.
func statFields(pid int) ([]string, bool) {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return nil, false
	}
	s := string(stat)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return nil, false
	}
	return strings.Fields(s[end+1:]), true
}
