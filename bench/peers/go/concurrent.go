// The concurrent-read modes of the Go peer: readers do random hit lookups
// on the flat key while one writer, paced by a 1 ms ticker, updates values
// and also inserts and deletes keys. They report reads/s and the worst
// single write. sync.Map's first new-key Store after a promotion copies the
// whole read map, which is the stall this mode exists to show.
package main

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type concResult struct {
	Name            string `json:"name"`
	Readers         int    `json:"readers"`
	ReadsPerS       num    `json:"reads_per_s"`
	ReadsPerSReader num    `json:"reads_per_s_per_reader"`
	WorstWriteUs    num    `json:"worst_write_us"`
	WritesPerS      num    `json:"writes_per_s"`
	Seconds         num    `json:"seconds"`
	Entries         int    `json:"entries"`
	GoVersion       string `json:"go_version"`
	GoMaxProcs      int    `json:"gomaxprocs"`
}

// concMap is the little a reader and a writer need.
type concMap interface {
	load(k string) (int64, bool)
	store(k string, v int64)
	del(k string)
	promote()
}

type syncMapC struct{ m sync.Map }

func (c *syncMapC) load(k string) (int64, bool) {
	v, ok := c.m.Load(k)
	if !ok {
		return 0, false
	}
	return v.(int64), true
}
func (c *syncMapC) store(k string, v int64) { c.m.Store(k, v) }
func (c *syncMapC) del(k string)            { c.m.Delete(k) }
func (c *syncMapC) promote()                { c.m.Range(func(_, _ any) bool { return false }) }

type rwMap struct {
	mu sync.RWMutex
	m  map[string]int64
}

func (c *rwMap) load(k string) (int64, bool) {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	return v, ok
}
func (c *rwMap) store(k string, v int64) { c.mu.Lock(); c.m[k] = v; c.mu.Unlock() }
func (c *rwMap) del(k string)            { c.mu.Lock(); delete(c.m, k); c.mu.Unlock() }
func (c *rwMap) promote()                {}

func runConcurrent(mode string, in *input, readerCounts []int, seconds float64, wps, cpu int) []concResult {
	n := len(in.records)
	keys := make([]string, n)
	for i := range in.records {
		r := &in.records[i]
		keys[i] = strings.Clone(r.ns) + "/" + strings.Clone(r.name) + "/" + strings.Clone(r.key)
	}
	var m concMap
	name := "go-syncmap-concurrent"
	if mode == "rwmutex-concurrent" {
		m = &rwMap{m: make(map[string]int64)}
		name = "go-rwmutex-concurrent"
	} else {
		m = &syncMapC{}
	}
	for i, k := range keys {
		m.store(k, in.records[i].value)
	}
	churnKey := in.records[0].key
	var out []concResult
	for _, k := range readerCounts {
		m.promote()
		res := runOnce(m, keys, churnKey, k, seconds, wps, cpu)
		res.Name, res.Entries = name, n
		res.GoVersion, res.GoMaxProcs = goInfo()
		out = append(out, res)
	}
	return out
}

// Reader r runs on CPU cpu + r when cpu >= 0 (pinThread).
func runOnce(m concMap, keys []string, churnKey string, readers int, seconds float64, wps, cpu int) concResult {
	var stop atomic.Bool
	var wg sync.WaitGroup
	counts := make([]int64, readers)
	for r := 0; r < readers; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			// A reader that cannot be pinned runs anywhere, as in the C harness.
			_ = pinThread(cpu, r)
			x := uint64(r)*0x9E3779B97F4A7C15 + 1
			var ops int64
			var found int64
			for !stop.Load() {
				for i := 0; i < 256; i++ {
					x ^= x << 13
					x ^= x >> 7
					x ^= x << 17
					if _, ok := m.load(keys[x%uint64(len(keys))]); ok {
						found++
					}
				}
				ops += 256
			}
			if found != ops {
				panic("peers-go: a reader missed a key that is always present")
			}
			counts[r] = ops
		}(r)
	}

	// The writer: wps writes per second, woken every millisecond. It keeps
	// the rate over the whole run (a wake-up that comes late does the
	// writes that are due), because with GOMAXPROCS readers spinning the
	// scheduler may run it only every few milliseconds. Of every ten
	// writes, eight update a random existing value, one inserts a new
	// object's key and one deletes the key inserted 100 inserts ago.
	var worst time.Duration
	writes := 0
	var ring [100]string
	inserted := 0
	x := uint64(0x2545F4914F6CDD1D)
	ticker := time.NewTicker(time.Millisecond)
	start := time.Now()
	total := time.Duration(seconds * float64(time.Second))
	for now := start; now.Sub(start) < total; now = <-ticker.C {
		due := int(float64(time.Since(start).Nanoseconds()) * float64(wps) / 1e9)
		for ; writes < due; writes++ {
			var d time.Duration
			switch writes % 10 {
			case 8:
				k := "churn/obj-" + strconv.Itoa(inserted) + "/" + churnKey
				t := time.Now()
				m.store(k, int64(inserted))
				d = time.Since(t)
				ring[inserted%len(ring)] = k
				inserted++
			case 9:
				if inserted >= len(ring) {
					k := ring[inserted%len(ring)]
					t := time.Now()
					m.del(k)
					d = time.Since(t)
				}
			default:
				x ^= x << 13
				x ^= x >> 7
				x ^= x << 17
				k := keys[x%uint64(len(keys))]
				t := time.Now()
				m.store(k, int64(x>>1))
				d = time.Since(t)
			}
			if d > worst {
				worst = d
			}
		}
	}
	elapsed := time.Since(start)
	ticker.Stop()
	stop.Store(true)
	wg.Wait()
	// Leave the map as it was for the next run.
	for i := 0; i < len(ring) && i < inserted; i++ {
		m.del(ring[i])
	}
	var reads int64
	for _, c := range counts {
		reads += c
	}
	sec := elapsed.Seconds()
	return concResult{
		Readers:         readers,
		ReadsPerS:       round1(float64(reads) / sec),
		ReadsPerSReader: round1(float64(reads) / sec / float64(readers)),
		WorstWriteUs:    round1(float64(worst.Nanoseconds()) / 1000),
		WritesPerS:      round1(float64(writes) / sec),
		Seconds:         num(sec),
	}
}
