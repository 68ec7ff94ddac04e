package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"unsafe"
)

// cpuMask is a cpu_set_t of 1024 CPUs.
type cpuMask [16]uint64

// allowedCPUs lists, in order, the CPUs this process may run on: its main
// thread's affinity mask (a container's cpuset, or taskset's), which need
// not start at CPU 0. Read through the process id, so a thread that has
// pinned itself still sees the whole set, as bench/bench_cpu.h does.
func allowedCPUs() ([]int, error) {
	var mask cpuMask
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, uintptr(os.Getpid()),
		unsafe.Sizeof(mask), uintptr(unsafe.Pointer(&mask[0])))
	if errno != 0 {
		return nil, errno
	}
	var cpus []int
	for c := 0; c < len(mask)*64; c++ {
		if mask[c/64]&(1<<(c%64)) != 0 {
			cpus = append(cpus, c)
		}
	}
	if len(cpus) == 0 {
		return nil, syscall.EINVAL
	}
	return cpus, nil
}

// benchCPU reads OOMKIT_BENCH_CPU, the CPU every side-by-side program pins
// its measuring thread to (bench/bench_cpu.h says why): -1 when unset or
// empty, an error when it is not a CPU this process may run on.
func benchCPU() (int, error) {
	v := os.Getenv("OOMKIT_BENCH_CPU")
	if v == "" {
		return -1, nil
	}
	cpus, err := allowedCPUs()
	if err != nil {
		return -1, fmt.Errorf("cannot read this process's CPUs: %v", err)
	}
	n, err := strconv.Atoi(v)
	if err == nil {
		for _, c := range cpus {
			if c == n {
				return n, nil
			}
		}
	}
	return -1, fmt.Errorf("OOMKIT_BENCH_CPU=%q is not a CPU this process may run on (%v)", v, cpus)
}

// pinThread locks the calling goroutine to its OS thread and pins that
// thread to the CPU offset places after cpu among those the process may
// run on, cyclically; nothing when cpu < 0. The garbage collector's
// threads stay free to run on any of them.
func pinThread(cpu, offset int) error {
	if cpu < 0 {
		return nil
	}
	cpus, err := allowedCPUs()
	if err != nil {
		return err
	}
	at := 0
	for i, c := range cpus {
		if c == cpu {
			at = i
		}
	}
	c := cpus[(at+offset)%len(cpus)]
	runtime.LockOSThread()
	var mask cpuMask
	mask[c/64] |= 1 << (c % 64)
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0,
		unsafe.Sizeof(mask), uintptr(unsafe.Pointer(&mask[0])))
	if errno != 0 {
		return errno
	}
	return nil
}
