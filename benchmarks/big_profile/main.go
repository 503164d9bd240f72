// Command big_profile writes a large, realistic-looking pprof CPU profile
// (gzipped protobuf, encoded by hand after proto/profile.proto) for
// benchmarks/analysis_cost.sh: what `bpfprof report` and `bpfprof diff`
// cost on a big input, beside `go tool pprof`.
//
// The profile: sample types [samples/count, cpu/nanoseconds] (period 99 Hz),
// -functions functions in -locations locations (one line each, 2-3
// locations a function) over four mappings (an executable, libc, libstdc++,
// the kernel), and -samples Sample messages, each with labels pid (num) and
// comm (str). Stacks are walks of a fixed call graph: 16 thread roots; each
// frame's callee is the k-th of its caller's callees (a hash of caller and
// k), k drawn from a Zipf distribution, so a few paths are hot and the tree
// is deep and wide; depths 5..40, skewed to shallow; the last application
// frame is, 30% of the time, an application hot spot drawn from a Zipf
// distribution; a third of the stacks then end in a library function
// drawn from another (memcpy-like hot spots), a few in the kernel. Everything comes from a PRNG seeded with -seed: the same flags
// write the same bytes.
//
// -shift writes the same shape with a shifted distribution (the library's
// and the application's hot spots re-ranked, more time in the library, the
// hot paths of two roots moved), the NEW side of a diff against the unshifted BASE.
//
// Usage: big_profile -o FILE [-samples N] [-locations N] [-functions N]
//
//	[-seed N] [-shift]
package main

import (
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"math/rand"
	"os"
)

// Field numbers of proto/profile.proto.
const (
	profSampleType    = 1
	profSample        = 2
	profMapping       = 3
	profLocation      = 4
	profFunction      = 5
	profStringTable   = 6
	profTimeNanos     = 9
	profDurationNanos = 10
	profPeriodType    = 11
	profPeriod        = 12

	vtType = 1
	vtUnit = 2

	sampleLocationID = 1
	sampleValue      = 2
	sampleLabel      = 3

	labelKey = 1
	labelStr = 2
	labelNum = 3

	mapID              = 1
	mapMemoryStart     = 2
	mapMemoryLimit     = 3
	mapFileOffset      = 4
	mapFilename        = 5
	mapBuildID         = 6
	mapHasFunctions    = 7
	mapHasFilenames    = 8
	mapHasLineNumbers  = 9
	mapHasInlineFrames = 10

	locID        = 1
	locMappingID = 2
	locAddress   = 3
	locLine      = 4

	lineFunctionID = 1
	lineLine       = 2

	fnID         = 1
	fnName       = 2
	fnSystemName = 3
	fnFilename   = 4
	fnStartLine  = 5
)

// buf is a protobuf encoder: fields appended to b.
type buf struct{ b []byte }

func (e *buf) varint(v uint64) {
	for v >= 0x80 {
		e.b = append(e.b, byte(v)|0x80)
		v >>= 7
	}
	e.b = append(e.b, byte(v))
}

func (e *buf) key(field, wire int) { e.varint(uint64(field)<<3 | uint64(wire)) }

// uint64 writes a varint field, omitted when zero (proto3's default).
func (e *buf) uint64(field int, v uint64) {
	if v != 0 {
		e.key(field, 0)
		e.varint(v)
	}
}

func (e *buf) int64(field int, v int64) { e.uint64(field, uint64(v)) }

func (e *buf) bool(field int, v bool) {
	if v {
		e.uint64(field, 1)
	}
}

func (e *buf) bytes(field int, b []byte) {
	e.key(field, 2)
	e.varint(uint64(len(b)))
	e.b = append(e.b, b...)
}

// packed writes repeated varints as one packed field; tmp is scratch.
func (e *buf) packed(field int, vs []uint64, tmp *buf) {
	tmp.b = tmp.b[:0]
	for _, v := range vs {
		tmp.varint(v)
	}
	e.bytes(field, tmp.b)
}

// strings is the string table: index 0 is "".
type strings struct {
	list  []string
	index map[string]int64
}

func (s *strings) id(v string) int64 {
	if i, ok := s.index[v]; ok {
		return i
	}
	s.index[v] = int64(len(s.list))
	s.list = append(s.list, v)
	return int64(len(s.list) - 1)
}

// mix is splitmix64's finalizer: the call graph's edges.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

type mapping struct {
	file, buildID string
	start         uint64
	first, end    int // its locations: [first, end)
}

func main() {
	out := flag.String("o", "", "write the gzipped profile to `FILE`")
	nSamples := flag.Int("samples", 1000000, "Sample messages")
	nLocs := flag.Int("locations", 50000, "locations (one line each)")
	nFuncs := flag.Int("functions", 20000, "functions (<= locations)")
	seed := flag.Int64("seed", 1, "PRNG seed")
	shift := flag.Bool("shift", false, "shift the distribution (the NEW side of a diff)")
	flag.Parse()
	if *out == "" || flag.NArg() != 0 || *nFuncs < 100 || *nLocs < *nFuncs || *nSamples < 1 {
		fmt.Fprintln(os.Stderr, "usage: big_profile -o FILE [-samples N] [-locations N >= functions] [-functions N >= 100] [-seed N] [-shift]")
		os.Exit(2)
	}
	if err := write(*out, *nSamples, *nLocs, *nFuncs, *seed, *shift); err != nil {
		fmt.Fprintln(os.Stderr, "big_profile:", err)
		os.Exit(1)
	}
}

func write(path string, nSamples, nLocs, nFuncs int, seed int64, shift bool) error {
	const (
		roots     = 16
		period    = 10101010 // ns: 99 Hz
		fanout    = 64       // callees a frame may call
		minDepth  = 5
		maxDepth  = 40
		appShare  = 90 // % of the locations in the executable
		libcShare = 5
		libxShare = 3 // libstdc++; the rest is the kernel
	)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	gz := gzip.NewWriter(f)
	w := bufio.NewWriterSize(gz, 1<<20)
	var msg, sub, tmp buf
	// top writes msg as field `field` of the Profile.
	top := func(field int) {
		var hdr buf
		hdr.key(field, 2)
		hdr.varint(uint64(len(msg.b)))
		w.Write(hdr.b)
		w.Write(msg.b)
		msg.b = msg.b[:0]
	}

	st := &strings{index: map[string]int64{}}
	st.id("")
	appLocs := nLocs * appShare / 100
	libcEnd := appLocs + nLocs*libcShare/100
	libxEnd := libcEnd + nLocs*libxShare/100
	maps := []mapping{
		{"/usr/bin/bigapp", "4a1f0c9e8d7b6a5f4e3d2c1b0a99887766554433", 0x555555554000, 0, appLocs},
		{"/usr/lib/x86_64-linux-gnu/libc.so.6", "d1e2f3a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9d0e", 0x7ffff7d80000, appLocs, libcEnd},
		{"/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c", 0x7ffff7a00000, libcEnd, libxEnd},
		{"[kernel.kallsyms]", "", 0xffffffff81000000, libxEnd, nLocs},
	}
	// Location l (0-based) is at function l*nFuncs/nLocs: 2-3 a function,
	// each function in one mapping (the boundaries fall on functions
	// closely enough: a function at a boundary has locations in both).
	funcOf := func(l int) int { return l * nFuncs / nLocs }
	mapOf := func(l int) int {
		for i := range maps {
			if l < maps[i].end {
				return i
			}
		}
		return len(maps) - 1
	}
	names := make([]int64, nFuncs)
	files := make([]int64, nFuncs)
	for fn := 0; fn < nFuncs; fn++ {
		var name, file string
		switch mapOf(fn * nLocs / nFuncs) {
		case 0:
			name = fmt.Sprintf("app::mod%d::Component%d::step%d", fn%97, fn%1013, fn)
			file = fmt.Sprintf("/src/bigapp/mod%d/component%d.cc", fn%97, fn%1013)
		case 1:
			name = fmt.Sprintf("__libc_fn%d", fn)
			file = fmt.Sprintf("./string/libc%d.c", fn%211)
		case 2:
			name = fmt.Sprintf("std::__detail::_Helper%d<int>::_M_run", fn)
			file = fmt.Sprintf("/usr/include/c++/12/bits/h%d.h", fn%151)
		default:
			name = fmt.Sprintf("kernel_fn_%d", fn)
			file = ""
		}
		names[fn], files[fn] = st.id(name), st.id(file)
	}
	mapFile := make([]int64, len(maps))
	mapBuild := make([]int64, len(maps))
	for i, m := range maps {
		mapFile[i], mapBuild[i] = st.id(m.file), st.id(m.buildID)
	}
	sSamples, sCount, sCPU, sNS := st.id("samples"), st.id("count"), st.id("cpu"), st.id("nanoseconds")
	sPid, sComm := st.id("pid"), st.id("comm")
	comms := make([]int64, roots)
	for r := range comms {
		comms[r] = st.id(fmt.Sprintf("svc-%d", r))
	}

	for _, t := range [][2]int64{{sSamples, sCount}, {sCPU, sNS}} {
		msg.int64(vtType, t[0])
		msg.int64(vtUnit, t[1])
		top(profSampleType)
	}
	for _, s := range st.list {
		msg.bytes(profStringTable, []byte(s))
		w.Write(msg.b)
		msg.b = msg.b[:0]
	}
	for i, m := range maps {
		msg.uint64(mapID, uint64(i+1))
		msg.uint64(mapMemoryStart, m.start)
		msg.uint64(mapMemoryLimit, m.start+uint64(m.end-m.first+1)*64)
		msg.uint64(mapFileOffset, 0)
		msg.int64(mapFilename, mapFile[i])
		msg.int64(mapBuildID, mapBuild[i])
		msg.bool(mapHasFunctions, true)
		msg.bool(mapHasFilenames, i != 3)
		msg.bool(mapHasLineNumbers, i != 3)
		msg.bool(mapHasInlineFrames, false)
		top(profMapping)
	}
	for fn := 0; fn < nFuncs; fn++ {
		msg.uint64(fnID, uint64(fn+1))
		msg.int64(fnName, names[fn])
		msg.int64(fnSystemName, names[fn])
		msg.int64(fnFilename, files[fn])
		msg.int64(fnStartLine, int64(10+fn%500))
		top(profFunction)
	}
	for l := 0; l < nLocs; l++ {
		m := mapOf(l)
		msg.uint64(locID, uint64(l+1))
		msg.uint64(locMappingID, uint64(m+1))
		msg.uint64(locAddress, maps[m].start+uint64(l-maps[m].first)*64+0x10)
		sub.b = sub.b[:0]
		sub.uint64(lineFunctionID, uint64(funcOf(l)+1))
		sub.int64(lineLine, int64(10+funcOf(l)%500+1+l%3))
		msg.bytes(locLine, sub.b)
		top(profLocation)
	}

	rng := rand.New(rand.NewSource(seed))
	branch := rand.NewZipf(rng, 1.6, 1, fanout-1)
	nLib := libxEnd - appLocs
	libZipf := rand.NewZipf(rng, 1.3, 1, uint64(nLib-1))
	rootZipf := rand.NewZipf(rng, 1.4, 2, roots-1)
	appZipf := rand.NewZipf(rng, 1.2, 1, uint64(appLocs-1))
	const appHotPct = 30
	libPct, salt := 33, uint64(0)
	if shift {
		libPct = 40
	}
	stack := make([]uint64, 0, maxDepth+2)
	values := make([]uint64, 2)
	for i := 0; i < nSamples; i++ {
		r := int(rootZipf.Uint64())
		u := rng.Float64()
		depth := minDepth + int(float64(maxDepth-minDepth+1)*u*u)
		if depth > maxDepth {
			depth = maxDepth
		}
		// Root first; reversed below (location_id[0] is the leaf).
		stack = stack[:0]
		loc := uint64(r * (appLocs / roots))
		stack = append(stack, loc)
		if shift && (r == 1 || r == 2) {
			salt = 0x5eed // these roots' hot paths go elsewhere
		} else {
			salt = 0
		}
		for d := 1; d < depth; d++ {
			k := branch.Uint64()
			loc = mix(loc*fanout+k+1+salt) % uint64(appLocs)
			stack = append(stack, loc)
		}
		if rng.Intn(100) < appHotPct {
			// An application hot spot (hashed: anywhere in the graph).
			k := appZipf.Uint64()
			if shift && k < 6 {
				k = (k + 2) % 6
			}
			stack[len(stack)-1] = mix(k+0xa11) % uint64(appLocs)
		}
		if len(stack) == maxDepth {
			stack = stack[:maxDepth-1] // room for a leaf below: 40 at most
		}
		if rng.Intn(100) < libPct {
			k := libZipf.Uint64()
			if shift && k < 8 {
				k = (k + 3) % 8 // the library's hot spots re-ranked
			}
			stack = append(stack, uint64(appLocs)+k)
		} else if rng.Intn(100) < 4 {
			// A syscall: into the kernel.
			stack = append(stack, uint64(libxEnd+rng.Intn(nLocs-libxEnd)))
		}
		for a, b := 0, len(stack)-1; a < b; a, b = a+1, b-1 {
			stack[a], stack[b] = stack[b], stack[a]
		}
		for j := range stack {
			stack[j]++ // ids are 1-based
		}
		count := uint64(1)
		if rng.Intn(100) < 15 {
			count = uint64(2 + rng.Intn(5))
		}
		values[0], values[1] = count, count*period
		msg.packed(sampleLocationID, stack, &tmp)
		msg.packed(sampleValue, values, &tmp)
		sub.b = sub.b[:0]
		sub.int64(labelKey, sPid)
		sub.int64(labelNum, int64(1000+r*37+rng.Intn(4)))
		msg.bytes(sampleLabel, sub.b)
		sub.b = sub.b[:0]
		sub.int64(labelKey, sComm)
		sub.int64(labelStr, comms[r])
		msg.bytes(sampleLabel, sub.b)
		top(profSample)
	}

	msg.int64(profTimeNanos, 1700000000000000000)
	msg.int64(profDurationNanos, 10000000000)
	sub.b = sub.b[:0]
	sub.int64(vtType, sCPU)
	sub.int64(vtUnit, sNS)
	msg.bytes(profPeriodType, sub.b)
	msg.int64(profPeriod, period)
	w.Write(msg.b)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := gz.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
