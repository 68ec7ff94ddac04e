// The single-threaded measurements of the Go peer: heap bytes, live objects
// and allocations of a build (MemStats deltas around runtime.GC()), build
// time, random hit and miss lookups, per-object delete, listing the biggest
// namespace, and the reconcile loop (clear+refill and rebuild) with its GC
// pause time.
package main

import (
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"time"
)

type result struct {
	Name                string `json:"name"`
	Entries             int    `json:"entries"`
	BytesPerEntry       num    `json:"bytes_per_entry"`
	AllocsPerEntry      num    `json:"allocs_per_entry"`
	BuildNsPerEntry     num    `json:"build_ns_per_entry"`
	HitNs               num    `json:"hit_ns"`
	MissNs              num    `json:"miss_ns"`
	DeleteObjectNs      num    `json:"delete_object_ns"`
	ListNamespaceNs     num    `json:"list_namespace_ns"`
	ReconcileAllocs     num    `json:"reconcile_allocs_per_cycle"`
	ReconcileNs         num    `json:"reconcile_ns_per_cycle"`
	GCPauseNsPerCycle   num    `json:"gc_pause_ns_per_cycle"`
	RebuildAllocs       num    `json:"rebuild_allocs_per_cycle"`
	RebuildNs           num    `json:"rebuild_ns_per_cycle"`
	RebuildGCPauseNs    num    `json:"rebuild_gc_pause_ns_per_cycle"`
	AllocsExclDecode    num    `json:"allocs_per_entry_excl_decode"`
	HeapObjectsPerEntry num    `json:"heap_objects_per_entry"`
	Objects             int    `json:"objects"`
	ListedObjects       int    `json:"listed_objects"`
	Lookups             int    `json:"lookups"`
	Cycles              int    `json:"cycles"`
	GoVersion           string `json:"go_version"`
	GoMaxProcs          int    `json:"gomaxprocs"`
}

var sink int64

func measure(name string, s structure, in *input, lookups, cycles int) result {
	n := len(in.records)
	res := result{Name: name, Entries: n, Objects: len(in.objects)}
	res.GoVersion, res.GoMaxProcs = goInfo()

	// Build. The input buffer and records are live before and after, so the
	// HeapAlloc delta is what the structure (and its copied strings) holds.
	var m0, m1, m2 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	t := time.Now()
	s.build(in)
	build := time.Since(t)
	runtime.ReadMemStats(&m1)
	runtime.GC()
	runtime.ReadMemStats(&m2)
	res.BuildNsPerEntry = round1(float64(build.Nanoseconds()) / float64(n))
	res.BytesPerEntry = round1(float64(int64(m2.HeapAlloc)-int64(m0.HeapAlloc)) / float64(n))
	res.HeapObjectsPerEntry = round2(float64(int64(m2.HeapObjects)-int64(m0.HeapObjects)) / float64(n))
	mallocs := float64(m1.Mallocs - m0.Mallocs)
	res.AllocsPerEntry = round2(mallocs / float64(n))
	// The simulated decode clones a namespace and a name per object and a
	// key per entry.
	decode := float64(2*len(in.objects) + n)
	res.AllocsExclDecode = round2((mallocs - decode) / float64(n))
	s.promote()

	// Lookups walk a shuffled list of entries; each query reads its strings
	// from a random input record, as a real caller would.
	rng := rand.New(rand.NewSource(1))
	perm := rng.Perm(n)
	if lookups <= 0 || lookups > n {
		lookups = n
	}
	res.Lookups = lookups
	// The fastest of three passes, as oomkit bench store times its own.
	wrong := 0
	hitNs, missNs := 0.0, 0.0
	for pass := 0; pass < 3; pass++ {
		t = time.Now()
		for _, i := range perm[:lookups] {
			r := &in.records[i]
			if s.hit(r) != r.value {
				wrong++
			}
		}
		if ns := float64(time.Since(t).Nanoseconds()) / float64(lookups); pass == 0 || ns < hitNs {
			hitNs = ns
		}
		t = time.Now()
		for _, i := range perm[:lookups] {
			sink += s.miss(&in.records[i])
		}
		if ns := float64(time.Since(t).Nanoseconds()) / float64(lookups); pass == 0 || ns < missNs {
			missNs = ns
		}
	}
	res.HitNs = round1(hitNs)
	res.MissNs = round1(missNs)
	if wrong > 0 || sink != 0 {
		fmt.Fprintf(os.Stderr, "peers-go: %s: %d hits returned a wrong value, misses summed %d\n",
			name, wrong, sink)
		os.Exit(3)
	}

	// List the biggest namespace: repeat for about 200 ms.
	reps := 0
	t = time.Now()
	for reps == 0 || (reps < 50 && time.Since(t) < 200*time.Millisecond) {
		res.ListedObjects = s.listNamespace(in.biggestNs)
		reps++
	}
	res.ListNamespaceNs = round1(float64(time.Since(t).Nanoseconds()) / float64(reps))
	if res.ListedObjects != in.biggestObjects {
		fmt.Fprintf(os.Stderr, "peers-go: %s: listed %d objects of %s, expected %d\n",
			name, res.ListedObjects, in.biggestNs, in.biggestObjects)
		os.Exit(3)
	}

	// Delete up to 2000 random objects with all their fields.
	nobj := len(in.objects)
	dels := nobj / 10
	if dels > 2000 {
		dels = 2000
	}
	if dels < 1 {
		dels = 1
	}
	operm := rng.Perm(nobj)[:dels]
	t = time.Now()
	for _, oi := range operm {
		s.deleteObject(in, &in.objects[oi])
	}
	res.DeleteObjectNs = round1(float64(time.Since(t).Nanoseconds()) / float64(dels))

	// The reconcile loop: one warm-up cycle (it also restores the deleted
	// objects), then the measured cycles.
	if cycles <= 0 {
		cycles = 2000000 / n
		if cycles < 3 {
			cycles = 3
		}
		if cycles > 20 {
			cycles = 20
		}
	}
	res.Cycles = cycles
	res.ReconcileAllocs, res.ReconcileNs, res.GCPauseNsPerCycle =
		reconcile(cycles, func() { s.clearRefill(in) })
	res.RebuildAllocs, res.RebuildNs, res.RebuildGCPauseNs =
		reconcile(cycles, func() { s.rebuild(in) })
	runtime.KeepAlive(s)
	return res
}

func reconcile(cycles int, cycle func()) (allocs, ns, pauseNs num) {
	var a, b runtime.MemStats
	cycle()
	runtime.GC()
	runtime.ReadMemStats(&a)
	t := time.Now()
	for i := 0; i < cycles; i++ {
		cycle()
	}
	el := time.Since(t)
	runtime.ReadMemStats(&b)
	c := float64(cycles)
	return round1(float64(b.Mallocs-a.Mallocs) / c), round1(float64(el.Nanoseconds()) / c),
		round1(float64(b.PauseTotalNs-a.PauseTotalNs) / c)
}

func round2(x float64) num { return num(x) }
