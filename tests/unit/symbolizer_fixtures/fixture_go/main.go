// Package main is the Go fixture of the symbolizer tests: Go's own DWARF
// (compressed .zdebug_* or SHF_COMPRESSED sections, DW_AT_ranges, inlined
// subroutines). mix is small enough for the Go compiler to inline it into
// hot, which is kept out of line. Prints "ready", then waits for EOF on
// stdin, like the C fixtures.
package main

import (
	"bufio"
	"fmt"
	"os"
)

var sink uint32

func mix(x uint32) uint32 {
	x ^= x >> 7
	x *= 0x9e3779b1
	return x ^ (x >> 13)
}

//go:noinline
func hot(n int) uint32 {
	x := uint32(1)
	for i := 0; i < n; i++ {
		x = mix(x + uint32(i))
		sink = x
	}
	return x
}

func main() {
	fmt.Println("ready", hot(1000)&1)
	r := bufio.NewReader(os.Stdin)
	for {
		if _, err := r.ReadByte(); err != nil {
			return
		}
	}
}
