// The workload reader of the Go peer: it reads the whole TSV file
// (namespace, name, key, value per line) into one buffer and slices records
// out of it, so the input itself stays outside every measured heap delta.
// Consecutive lines with the same namespace and name form one object, which
// is how gen_state writes them.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

type record struct {
	ns, name, key string // substrings of the input buffer
	value         int64
}

type object struct {
	ns, name    string
	first, nrec int // records[first : first+nrec]
}

type input struct {
	buf     string
	records []record
	objects []object
	// The namespace with most objects, for the list benchmark.
	biggestNs      string
	biggestObjects int
}

func loadTSV(path string) (*input, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// One conversion; every record below points into this string.
	buf := string(raw)
	raw = nil
	in := &input{buf: buf}
	in.records = make([]record, 0, len(buf)/64)
	lineNo := 0
	for pos := 0; pos < len(buf); {
		end := pos + indexByte(buf[pos:], '\n')
		if end < pos {
			end = len(buf)
		}
		line := buf[pos:end]
		pos = end + 1
		lineNo++
		if len(line) == 0 {
			continue
		}
		var f [4]string
		rest := line
		for i := 0; i < 3; i++ {
			t := indexByte(rest, '\t')
			if t < 0 {
				return nil, fmt.Errorf("%s:%d: expected 4 tab-separated fields", path, lineNo)
			}
			f[i], rest = rest[:t], rest[t+1:]
		}
		f[3] = rest
		v, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: bad value %q", path, lineNo, f[3])
		}
		in.records = append(in.records, record{f[0], f[1], f[2], v})
	}
	if len(in.records) == 0 {
		return nil, fmt.Errorf("%s: no entries", path)
	}
	perNs := map[string]int{}
	for i, r := range in.records {
		n := len(in.objects)
		if n > 0 && in.objects[n-1].ns == r.ns && in.objects[n-1].name == r.name {
			in.objects[n-1].nrec++
			continue
		}
		in.objects = append(in.objects, object{r.ns, r.name, i, 1})
		perNs[r.ns]++
	}
	for ns, c := range perNs {
		if c > in.biggestObjects || (c == in.biggestObjects && ns < in.biggestNs) {
			in.biggestNs, in.biggestObjects = ns, c
		}
	}
	return in, nil
}

func indexByte(s string, c byte) int {
	return strings.IndexByte(s, c)
}
