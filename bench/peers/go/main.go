// Command peers-go is the Go peer of oomkit's store benchmark. It measures
// the incident's nested maps, a flat map and sync.Map on the same TSV
// workload the C store reads, and prints one JSON object per line in the
// schema that `oomkit bench store` merges into its table. Standard library
// only, so it builds offline with Debian's golang-go.
//
// Usage:
//
//	peers-go -mode nested|flat|syncmap -tsv FILE [-lookups N] [-cycles N]
//	peers-go -mode syncmap-concurrent|rwmutex-concurrent -tsv FILE
//	         [-readers 1,2] [-seconds S] [-writes-per-s W]
//
// OOMKIT_BENCH_CPU=N pins the measuring goroutine's thread (a concurrent
// run: reader i's) to CPU N (+ i), as the C peers do (bench/bench_cpu.h).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

func main() {
	mode := flag.String("mode", "", "nested, flat, syncmap, syncmap-concurrent or rwmutex-concurrent")
	tsv := flag.String("tsv", "", "workload file: namespace TAB name TAB key TAB value per line")
	lookups := flag.Int("lookups", 200000, "random hit and miss lookups to time (at most one per entry)")
	cycles := flag.Int("cycles", 0, "reconcile cycles (0: chosen from the entry count)")
	readers := flag.String("readers", "1,2", "reader counts for the concurrent modes, comma-separated")
	seconds := flag.Float64("seconds", 3, "duration of each concurrent run")
	wps := flag.Int("writes-per-s", 10000, "writer rate in the concurrent modes")
	flag.Parse()
	if *tsv == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "peers-go: need -mode and -tsv FILE (see -h)")
		os.Exit(2)
	}
	cpu, err := benchCPU()
	if err != nil {
		fmt.Fprintln(os.Stderr, "peers-go:", err)
		os.Exit(2)
	}
	in, err := loadTSV(*tsv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "peers-go:", err)
		os.Exit(2)
	}
	out := json.NewEncoder(os.Stdout)
	switch *mode {
	case "nested", "flat", "syncmap":
		var s structure
		switch *mode {
		case "nested":
			s = &nested{}
		case "flat":
			s = &flat{}
		default:
			s = &syncMap{}
		}
		if err := pinThread(cpu, 0); err != nil {
			fmt.Fprintln(os.Stderr, "peers-go: cannot pin to CPU", cpu, ":", err)
			os.Exit(2)
		}
		res := measure("go-"+*mode, s, in, *lookups, *cycles)
		check(out.Encode(res))
	case "syncmap-concurrent", "rwmutex-concurrent":
		ks, err := parseReaders(*readers)
		if err != nil || *seconds <= 0 || *wps <= 0 {
			fmt.Fprintln(os.Stderr, "peers-go: bad -readers, -seconds or -writes-per-s")
			os.Exit(2)
		}
		for _, r := range runConcurrent(*mode, in, ks, *seconds, *wps, cpu) {
			check(out.Encode(r))
		}
	default:
		fmt.Fprintf(os.Stderr, "peers-go: unknown -mode %q\n", *mode)
		os.Exit(2)
	}
}

func parseReaders(s string) ([]int, error) {
	var ks []int
	for _, f := range strings.Split(s, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || k < 1 || k > 256 {
			return nil, fmt.Errorf("bad reader count %q", f)
		}
		ks = append(ks, k)
	}
	return ks, nil
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "peers-go:", err)
		os.Exit(3)
	}
}

// num is a measured figure; it prints with at most two decimals, which is
// more than the noise of a shared machine allows anyway.
type num float64

func (v num) MarshalJSON() ([]byte, error) {
	s := strconv.FormatFloat(float64(v), 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		s = "0"
	}
	return []byte(s), nil
}

func round1(x float64) num { return num(x) }

func goInfo() (string, int) { return runtime.Version(), runtime.GOMAXPROCS(0) }
