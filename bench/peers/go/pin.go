package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"unsafe"
)

// benchCPU reads OOMKIT_BENCH_CPU, the CPU every side-by-side program pins
// its measuring thread to (bench/bench_cpu.h says why): -1 when unset or
// empty.
func benchCPU() (int, error) {
	v := os.Getenv("OOMKIT_BENCH_CPU")
	if v == "" {
		return -1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n >= runtime.NumCPU() {
		return -1, fmt.Errorf("OOMKIT_BENCH_CPU=%q is not a CPU of this machine", v)
	}
	return n, nil
}

// pinThread locks the calling goroutine to its OS thread and pins that
// thread to CPU (cpu + offset) mod the CPUs; nothing when cpu < 0. The
// garbage collector's threads stay free to run on any CPU.
func pinThread(cpu, offset int) error {
	if cpu < 0 {
		return nil
	}
	runtime.LockOSThread()
	var mask [16]uint64 // a cpu_set_t of 1024 CPUs
	c := (cpu + offset) % runtime.NumCPU()
	mask[c/64] |= 1 << (c % 64)
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0,
		uintptr(len(mask)*8), uintptr(unsafe.Pointer(&mask[0])))
	if errno != 0 {
		return errno
	}
	return nil
}
