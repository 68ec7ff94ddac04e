// The three Go structures the incident and its first fixes used, behind
// one small interface so that every measurement runs the same code path:
// the incident's nested maps, a flat map on "ns/name/key", and sync.Map on
// the same flat key. Strings handed to build are the "decoded" copies;
// refill and rebuild (the reconcile loop) reuse strings the caller already
// holds, as an informer cache does.
package main

import (
	"strings"
	"sync"
)

type structure interface {
	// build inserts every record, cloning strings as a JSON decoder would.
	build(in *input)
	// hit and miss look one record up; miss asks for an absent key of an
	// existing object. They return the value found (0 when absent).
	hit(r *record) int64
	miss(r *record) int64
	deleteObject(in *input, o *object)
	// listNamespace returns the names of all objects of namespace ns.
	listNamespace(ns string) int
	// clearRefill empties the structure, keeping what it can, and inserts
	// every record again; rebuild replaces it with a freshly built one.
	clearRefill(in *input)
	rebuild(in *input)
	// promote readies the structure for lookups (sync.Map's dirty map).
	promote()
}

// keyBuf composes "ns/name/key" into a reused buffer.
type keyBuf struct{ b []byte }

func (k *keyBuf) compose(ns, name, key string) []byte {
	b := append(k.b[:0], ns...)
	b = append(b, '/')
	b = append(b, name...)
	b = append(b, '/')
	b = append(b, key...)
	k.b = b
	return b
}

func (k *keyBuf) composeMiss(ns, name, key string) []byte {
	b := k.compose(ns, name, key)
	b = append(b, '~')
	k.b = b
	return b
}

// ---- nested: map[string]map[string]map[string]int64 ----------------------

type nested struct {
	m  map[string]map[string]map[string]int64
	kb keyBuf
}

func (s *nested) build(in *input) {
	s.m = map[string]map[string]map[string]int64{}
	for oi := range in.objects {
		o := &in.objects[oi]
		ns := strings.Clone(o.ns)
		name := strings.Clone(o.name)
		m2 := s.m[ns]
		if m2 == nil {
			m2 = map[string]map[string]int64{}
			s.m[ns] = m2
		}
		m3 := m2[name]
		if m3 == nil {
			m3 = map[string]int64{}
			m2[name] = m3
		}
		for _, r := range in.records[o.first : o.first+o.nrec] {
			m3[strings.Clone(r.key)] = r.value
		}
	}
}

func (s *nested) hit(r *record) int64 { return s.m[r.ns][r.name][r.key] }

func (s *nested) miss(r *record) int64 {
	// The absent key is the record's key plus '~', composed without
	// allocating (m[string(b)] does not copy).
	b := append(s.kb.b[:0], r.key...)
	b = append(b, '~')
	s.kb.b = b
	return s.m[r.ns][r.name][string(b)]
}

func (s *nested) deleteObject(in *input, o *object) { delete(s.m[o.ns], o.name) }

func (s *nested) listNamespace(ns string) int {
	m2 := s.m[ns]
	names := make([]string, 0, len(m2))
	for name := range m2 {
		names = append(names, name)
	}
	return len(names)
}

func (s *nested) clearRefill(in *input) {
	// Keep every per-namespace and per-object map and empty only the
	// innermost ones, which is the most a Go program can reuse; the refill
	// then finds every container in place.
	for _, m2 := range s.m {
		for _, m3 := range m2 {
			for k := range m3 {
				delete(m3, k)
			}
		}
	}
	s.fill(in)
}

func (s *nested) rebuild(in *input) {
	s.m = map[string]map[string]map[string]int64{}
	s.fill(in)
}

func (s *nested) fill(in *input) {
	for i := range in.records {
		r := &in.records[i]
		m2 := s.m[r.ns]
		if m2 == nil {
			m2 = map[string]map[string]int64{}
			s.m[r.ns] = m2
		}
		m3 := m2[r.name]
		if m3 == nil {
			m3 = map[string]int64{}
			m2[r.name] = m3
		}
		m3[r.key] = r.value
	}
}

func (s *nested) promote() {}

// ---- flat: map[string]int64 on "ns/name/key" -------------------------------

type flat struct {
	m  map[string]int64
	kb keyBuf
}

func (s *flat) build(in *input) {
	s.m = map[string]int64{}
	for oi := range in.objects {
		o := &in.objects[oi]
		ns := strings.Clone(o.ns)
		name := strings.Clone(o.name)
		for _, r := range in.records[o.first : o.first+o.nrec] {
			key := strings.Clone(r.key)
			s.m[ns+"/"+name+"/"+key] = r.value
		}
	}
}

func (s *flat) hit(r *record) int64 { return s.m[string(s.kb.compose(r.ns, r.name, r.key))] }

func (s *flat) miss(r *record) int64 {
	return s.m[string(s.kb.composeMiss(r.ns, r.name, r.key))]
}

func (s *flat) deleteObject(in *input, o *object) {
	for _, r := range in.records[o.first : o.first+o.nrec] {
		delete(s.m, string(s.kb.compose(r.ns, r.name, r.key)))
	}
}

func (s *flat) listNamespace(ns string) int {
	// Without an index the whole map must be scanned; names repeat once per
	// key, so they are collected in a set.
	prefix := ns + "/"
	names := map[string]struct{}{}
	for k := range s.m {
		if strings.HasPrefix(k, prefix) {
			rest := k[len(prefix):]
			names[rest[:strings.IndexByte(rest, '/')]] = struct{}{}
		}
	}
	return len(names)
}

func (s *flat) clearRefill(in *input) {
	for k := range s.m { // compiled to a single map clear
		delete(s.m, k)
	}
	s.fill(in)
}

func (s *flat) rebuild(in *input) {
	s.m = map[string]int64{}
	s.fill(in)
}

func (s *flat) fill(in *input) {
	for i := range in.records {
		r := &in.records[i]
		s.m[string(s.kb.compose(r.ns, r.name, r.key))] = r.value
	}
}

func (s *flat) promote() {}

// ---- sync.Map on "ns/name/key" ---------------------------------------------

type syncMap struct {
	m  *sync.Map
	kb keyBuf
}

func (s *syncMap) build(in *input) {
	s.m = &sync.Map{}
	for oi := range in.objects {
		o := &in.objects[oi]
		ns := strings.Clone(o.ns)
		name := strings.Clone(o.name)
		for _, r := range in.records[o.first : o.first+o.nrec] {
			key := strings.Clone(r.key)
			s.m.Store(ns+"/"+name+"/"+key, r.value)
		}
	}
}

func (s *syncMap) load(b []byte) int64 {
	// Load takes an interface, so the key escapes: one allocation per call.
	if v, ok := s.m.Load(string(b)); ok {
		return v.(int64)
	}
	return 0
}

func (s *syncMap) hit(r *record) int64  { return s.load(s.kb.compose(r.ns, r.name, r.key)) }
func (s *syncMap) miss(r *record) int64 { return s.load(s.kb.composeMiss(r.ns, r.name, r.key)) }

func (s *syncMap) deleteObject(in *input, o *object) {
	for _, r := range in.records[o.first : o.first+o.nrec] {
		s.m.Delete(string(s.kb.compose(r.ns, r.name, r.key)))
	}
}

func (s *syncMap) listNamespace(ns string) int {
	prefix := ns + "/"
	names := map[string]struct{}{}
	s.m.Range(func(k, _ any) bool {
		ks := k.(string)
		if strings.HasPrefix(ks, prefix) {
			rest := ks[len(prefix):]
			names[rest[:strings.IndexByte(rest, '/')]] = struct{}{}
		}
		return true
	})
	return len(names)
}

func (s *syncMap) clearRefill(in *input) {
	s.m.Range(func(k, _ any) bool {
		s.m.Delete(k)
		return true
	})
	s.fill(in)
}

func (s *syncMap) rebuild(in *input) {
	s.m = &sync.Map{}
	s.fill(in)
}

func (s *syncMap) fill(in *input) {
	for i := range in.records {
		r := &in.records[i]
		s.m.Store(string(s.kb.compose(r.ns, r.name, r.key)), r.value)
	}
}

// promote moves the dirty map to the read-only side (Range does it), as a
// long-running sync.Map would have done long before any lookup.
func (s *syncMap) promote() { s.m.Range(func(_, _ any) bool { return false }) }
